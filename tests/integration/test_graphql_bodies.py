"""POST/GET /graphql with malformed requests: 400 (413 when too large) with a GraphQL-over-HTTP error body and a
machine-readable code, never a 500 or an error in the server's log (the conftest fixture fails the test then)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import RunningServer

OK_QUERY = "{ __typename }"


def _body(**fields: Any) -> bytes:
    return json.dumps({"query": OK_QUERY, **fields}).encode()


NESTED_ARRAYS = b"[" * 100_000 + b"]" * 100_000
NESTED_OBJECTS = b'{"a":' * 100_000 + b"1" + b"}" * 100_000

# (what, content type, body)
MALFORMED: list[tuple[str, str, bytes]] = [
    ("null", "application/json", b"null"),
    ("a string", "application/json", b'"{ __typename }"'),
    ("a number", "application/json", b"42"),
    ("true", "application/json", b"true"),
    ("an empty array", "application/json", b"[]"),
    ("a batch", "application/json", b'[{"query": "{ __typename }"}, {"query": "{ __typename }"}]'),
    ("invalid UTF-8", "application/json", b'{"query": "{ __typename \xff\xfe }"}'),
    ("invalid UTF-8 outside strings", "application/json", b'{"query": "{ __typename }"\xc3}'),
    (
        "a 5,000-digit integer",
        "application/json",
        b'{"query": "{ __typename }", "variables": {"n": ' + b"7" * 5000 + b"}}",
    ),
    (
        "a 400-digit integer",
        "application/json",
        b'{"query": "{ __typename }", "variables": {"n": ' + b"7" * 400 + b"}}",
    ),
    ("an overflowing float", "application/json", b'{"query": "{ __typename }", "variables": {"n": 1e999999}}'),
    ("100,000 nested arrays", "application/json", NESTED_ARRAYS),
    (
        "nested arrays in variables",
        "application/json",
        b'{"query": "{ __typename }", "variables": {"a": ' + NESTED_ARRAYS + b"}}",
    ),
    ("100,000 nested objects", "application/json", NESTED_OBJECTS),
    ("NaN", "application/json", b'{"query": "{ __typename }", "variables": {"n": NaN}}'),
    ("Infinity", "application/json", b'{"query": "{ __typename }", "variables": {"n": -Infinity}}'),
    ("duplicate keys", "application/json", b'{"query": "{ nope }", "query": "{ __typename }"}'),
    ("a lone surrogate", "application/json", b'{"query": "{ __typename }", "variables": {"s": "\\ud800"}}'),
    ("variables an array", "application/json", _body(variables=[1, 2])),
    ("variables a string", "application/json", _body(variables='{"a": 1}')),
    ("extensions a number", "application/json", _body(extensions=5)),
    ("query a number", "application/json", b'{"query": 42}'),
    ("query an object", "application/json", b'{"query": {"a": 1}}'),
    ("query missing", "application/json", b'{"variables": {}}'),
    ("operationName a number", "application/json", _body(operationName=5)),
    ("operationName an object", "application/json", _body(operationName={"a": 1})),
    ("empty body", "application/json", b""),
    ("whitespace body", "application/json", b"  \n "),
    ("trailing garbage", "application/json", _body() + b" {}"),
    ("text/plain", "text/plain", OK_QUERY.encode()),
    ("form encoded", "application/x-www-form-urlencoded", b"query=%7B__typename%7D"),
    ("multipart", "multipart/form-data; boundary=x", b"--x--"),
    ("no content type", "", _body()),
]


def _assert_coded(res: httpx.Response, what: str, status: int = 400, code: str = "BAD_INPUT") -> dict[str, Any]:
    assert res.status_code == status, (what, res.status_code, res.text[:300])
    assert res.headers["content-type"].startswith("application/json"), (what, res.headers["content-type"])
    body: dict[str, Any] = res.json()
    errors = body["errors"]
    assert isinstance(errors, list) and errors, (what, body)
    assert errors[0]["extensions"]["code"] == code, (what, body)
    assert isinstance(errors[0]["message"], str) and errors[0]["message"], (what, body)
    assert "Traceback" not in res.text and "site-packages" not in res.text, what
    return body


@pytest.mark.parametrize(("what", "ctype", "body"), MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_malformed_post_bodies_are_bad_input(
    server: RunningServer, http: httpx.AsyncClient, what: str, ctype: str, body: bytes
) -> None:
    headers = {"content-type": ctype} if ctype else {}
    res = await http.post(f"{server.url}/graphql", content=body, headers=headers)
    _assert_coded(res, what)


BAD_GETS: list[tuple[str, dict[str, str]]] = [
    ("variables not JSON", {"query": OK_QUERY, "variables": "{bad"}),
    ("variables an array", {"query": OK_QUERY, "variables": "[1]"}),
    ("variables a number", {"query": OK_QUERY, "variables": "5"}),
    ("variables with a 5,000-digit integer", {"query": OK_QUERY, "variables": '{"n": ' + "9" * 5000 + "}"}),
    ("variables nested 2,000 deep", {"query": OK_QUERY, "variables": "[" * 2000 + "]" * 2000}),
    ("extensions not JSON", {"query": OK_QUERY, "extensions": "nope"}),
    ("extensions an array", {"query": OK_QUERY, "extensions": "[]"}),
    ("a mutation", {"query": "mutation { logOut }"}),
    ("no query", {"variables": "{}"}),
    ("an empty query", {"query": ""}),
]


@pytest.mark.parametrize(("what", "params"), BAD_GETS, ids=[g[0] for g in BAD_GETS])
async def test_malformed_get_requests_are_bad_input(
    server: RunningServer, http: httpx.AsyncClient, what: str, params: dict[str, str]
) -> None:
    res = await http.get(f"{server.url}/graphql", params=params, headers={"accept": "application/json"})
    _assert_coded(res, what)


async def test_repeated_get_parameters_are_bad_input(server: RunningServer, http: httpx.AsyncClient) -> None:
    url = f"{server.url}/graphql?query=%7B__typename%7D&query=%7Bme%7Bid%7D%7D"
    _assert_coded(await http.get(url, headers={"accept": "application/json"}), "query twice")


async def test_well_formed_edge_cases_still_work(server: RunningServer, http: httpx.AsyncClient) -> None:
    """What stays accepted: a BOM, a big string variable within the body limit, exotic but valid JSON, GET."""
    url = f"{server.url}/graphql"
    for what, body in [
        ("BOM", b"\xef\xbb\xbf" + _body()),
        ("a 900 kB string variable", _body(variables={"s": "x" * 900_000})),
        ("escaped unicode and a surrogate pair", _body(variables={"s": "\U0001f600 \u00e9"})),
        ("nulls", _body(variables=None, extensions=None, operationName=None)),
        ("a 20-digit integer", b'{"query": "{ __typename }", "variables": {"n": 12345678901234567890}}'),
    ]:
        res = await http.post(url, content=body, headers={"content-type": "application/json"})
        assert res.status_code == 200, (what, res.status_code, res.text[:300])
        assert res.json() == {"data": {"__typename": "Query"}}, what
    res = await http.get(url, params={"query": OK_QUERY}, headers={"accept": "application/json"})
    assert res.status_code == 200 and res.json() == {"data": {"__typename": "Query"}}
    res = await http.post(url, content=_body(), headers={"content-type": "application/json; charset=utf-8"})
    assert res.status_code == 200 and res.json() == {"data": {"__typename": "Query"}}


async def test_oversized_bodies_are_refused_with_413(server: RunningServer, http: httpx.AsyncClient) -> None:
    url = f"{server.url}/graphql"
    limit = server.settings.graphql_max_body_bytes
    big = _body(variables={"s": "x" * (limit + 10)})
    res = await http.post(url, content=big, headers={"content-type": "application/json"})
    body = _assert_coded(res, "declared length", status=413, code="PAYLOAD_TOO_LARGE")
    assert f"{limit:,}" in body["errors"][0]["message"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the server must count while reading
        yield b'{"query": "{ __typename }", "variables": {"s": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}}'

    res = await http.post(url, content=chunks(), headers={"content-type": "application/json"})
    _assert_coded(res, "chunked", status=413, code="PAYLOAD_TOO_LARGE")


async def test_graphiql_is_off_by_default(server: RunningServer, http: httpx.AsyncClient) -> None:
    # Its page loads its JavaScript from a CDN (offline: "Loading..." forever); API_GRAPHIQL=1 serves it.
    assert server.settings.graphiql is False
    res = await http.get(f"{server.url}/graphql", headers={"accept": "text/html"})
    _assert_coded(res, "GraphiQL page", status=404, code="NOT_FOUND")
