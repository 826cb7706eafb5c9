"""API keys and /api/v1 calls for tests: keys made through the public GraphQL mutation, REST over real HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.world import Person

CREATE_KEY = """mutation($i: CreateApiKeyInput!) {
  createApiKey(input: $i) { secret key { id name scopes ratePerMinute createdAt revokedAt } } }"""
REVOKE_KEY = "mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }"
ALL_SCOPES = [
    "users:read",
    "meetings:read",
    "meetings:write",
    "participants:read",
    "participants:write",
    "recordings:read",
    "recordings:write",
    "webhooks:read",
    "webhooks:write",
]


async def api_key(who: Person, scopes: list[str] | None = None, rate: int | None = None) -> tuple[str, str]:
    """A new key of ``who`` (all scopes unless told): (secret token, key id)."""
    i: dict[str, Any] = {"name": "test key", "scopes": scopes if scopes is not None else ALL_SCOPES}
    if rate is not None:
        i["ratePerMinute"] = rate
    created = (await who.client(CREATE_KEY, i=i))["createApiKey"]
    return created["secret"], created["key"]["id"]


class Rest:
    """/api/v1 with one bearer token; every answer is checked to be no server error and, if JSON, to carry a
    code when it is an error."""

    def __init__(self, base_url: str, http: httpx.AsyncClient, token: str | None) -> None:
        self.base = base_url + "/api/v1"
        self.http = http
        self.token = token

    async def __call__(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if self.token:
            headers.setdefault("authorization", f"Bearer {self.token}")
        res = await self.http.request(method, self.base + path, headers=headers, **kw)
        assert res.status_code < 500, f"server error {res.status_code}: {res.text}"
        if res.status_code >= 400:
            body = res.json()
            assert set(body) >= {"error", "code"}, body
            assert "Traceback" not in body["error"]
        return res

    async def ok(self, method: str, path: str, **kw: Any) -> Any:
        res = await self(method, path, **kw)
        assert res.status_code < 300, f"{method} {path}: {res.status_code} {res.text}"
        return res.json() if res.content else None

    async def error(self, method: str, path: str, status: int, code: str, **kw: Any) -> dict[str, Any]:
        res = await self(method, path, **kw)
        assert (res.status_code, res.json()["code"]) == (status, code), res.text
        body: dict[str, Any] = res.json()
        return body
