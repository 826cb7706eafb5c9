"""The HTTP/GraphQL boundary: bad input gets a coded error, never a 500 or a stack trace."""

from __future__ import annotations

import httpx

from tests.conftest import RunningServer
from tests.support.gql import Client
from tests.support.world import World


async def test_garbage_requests_never_500(server: RunningServer, http: httpx.AsyncClient) -> None:
    url = f"{server.url}/graphql"
    bodies: list[tuple[str, bytes | str]] = [
        ("application/json", b"{not json"),
        ("application/json", b"[]"),
        ("application/json", b'{"query": 42}'),
        ("application/json", b'{"variables": {}}'),
        ("text/plain", "query { me { id } }"),
        ("application/json", b'{"query": "{ me { id } ' + b"}" * 5000 + b'"}'),
    ]
    for ctype, body in bodies:
        res = await http.post(url, content=body, headers={"content-type": ctype})
        assert 400 <= res.status_code < 500 or res.status_code == 200, (body[:40], res.status_code)
        assert "Traceback" not in res.text


async def test_schema_violations_are_bad_input(anon: Client) -> None:
    for query, variables in [
        ("{ nope }", {}),
        ("mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }", {"i": {"email": 5}}),
        ('{ myMeetings(first: "ten") { nextCursor } }', {}),
        ("{ " + " ".join(f"a{i}: me {{ id }}" for i in range(40)) + " }", {}),
    ]:
        err = await anon.error(query, **variables)
        assert err.code == "BAD_INPUT", (query[:40], err)


async def test_errors_name_the_field_and_value(world: World) -> None:
    host = await world.user()
    err = await host.client.error(
        "mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { id } }",
        i={"title": "x", "timezone": "Mars/Olympus_Mons"},
    )
    assert err.code == "BAD_INPUT" and err.field == "timezone" and "Mars/Olympus_Mons" in str(err)


async def test_join_token_public_key_is_served(server: RunningServer, http: httpx.AsyncClient) -> None:
    res = await http.get(f"{server.url}/.well-known/meetmesh/join-token-key")
    assert res.status_code == 200 and res.text.startswith("-----BEGIN PUBLIC KEY-----")
    assert (await http.get(f"{server.url}/healthz")).json() == {"status": "ok"}
    landing = await http.get(f"{server.url}/")
    assert landing.status_code == 200 and "meetmesh" in landing.text
