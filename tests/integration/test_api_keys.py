"""API keys (issue 18): made by an account, shown once, stored hashed, scoped, revocable, rate-limited with
Retry-After, and accepted by both REST (/api/v1) and GraphQL, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib

import httpx
import pytest
from sqlalchemy import select

from dbschema.apikeys import ApiKey
from tests.conftest import RunningServer
from tests.support.gql import Client, GraphQLError
from tests.support.rest import CREATE_KEY, REVOKE_KEY, Rest, api_key
from tests.support.world import World, live_meeting

pytestmark = pytest.mark.timeout(120)

ME = "{ me { id displayName } }"
CREATE = """mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { id title } }"""


async def test_a_key_is_shown_once_and_stored_hashed(server: RunningServer, world: World) -> None:
    ada = await world.user("Ada")
    secret, key_id = await api_key(ada, ["meetings:read", "users:read"], rate=100)
    assert secret.startswith(f"mmk1.{key_id}.")
    listed = (await ada.client("{ apiKeys { id name scopes ratePerMinute revokedAt } }"))["apiKeys"]
    assert listed == [
        {
            "id": key_id,
            "name": "test key",
            "scopes": ["meetings:read", "users:read"],
            "ratePerMinute": 100,
            "revokedAt": None,
        }
    ]
    async with server.app.state.services.db.read() as session:
        row = (await session.execute(select(ApiKey).where(ApiKey.id == key_id))).scalar_one()
    plain = secret.rsplit(".", 1)[1]
    assert plain not in (row.secret_digest, row.name, row.scopes)
    assert row.secret_digest == hashlib.sha256(plain.encode()).hexdigest()


async def test_keys_work_on_graphql_and_rest_within_their_scopes(
    server: RunningServer, world: World, http: httpx.AsyncClient
) -> None:
    ada = await world.user("Ada")
    reader, _ = await api_key(ada, ["users:read", "meetings:read"])
    gql = Client(server.url, http, reader)
    assert (await gql(ME))["me"]["id"] == ada.user_id
    denied = await gql.error(CREATE, i={"title": "Nope"})
    assert denied.code == "FORBIDDEN" and "meetings:write" in str(denied)
    # Fields no key may use (account and key management) are refused whatever the scopes.
    minted = await gql.error(CREATE_KEY, i={"name": "more", "scopes": ["users:read"]})
    assert minted.code == "FORBIDDEN"
    rest = Rest(server.url, http, reader)
    assert (await rest.ok("GET", "/me"))["id"] == ada.user_id
    body = await rest.error("POST", "/meetings", 403, "FORBIDDEN", json={"title": "Nope"})
    assert "meetings:write" in body["error"]
    writer, _ = await api_key(ada, ["meetings:write"])
    made = (await Client(server.url, http, writer)(CREATE, i={"title": "By key", "passcode": ""}))["createMeeting"]
    # The meeting belongs to the key's account: the account's own session reads it.
    assert (await ada.client("query($id: ID!) { meeting(id: $id) { title myRole } }", id=made["id"]))["meeting"] == {
        "title": "By key",
        "myRole": "HOST",
    }


async def test_bad_unknown_and_revoked_keys_are_unauthenticated(
    server: RunningServer, world: World, http: httpx.AsyncClient
) -> None:
    ada = await world.user("Ada")
    secret, key_id = await api_key(ada, ["users:read"])
    forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    for token in (forged, "mmk1.short.x", f"mmk1.{'A' * 22}.{'B' * 43}"):
        await Rest(server.url, http, token).error("GET", "/me", 401, "UNAUTHENTICATED")
        assert (await Client(server.url, http, token).error(ME)).code == "UNAUTHENTICATED"
    revoked = (await ada.client(REVOKE_KEY, id=key_id))["revokeApiKey"]
    assert revoked["revokedAt"] is not None
    res = await Rest(server.url, http, secret)("GET", "/me")
    assert res.status_code == 401 and res.headers["www-authenticate"] == "Bearer"
    assert (await Client(server.url, http, secret).error(ME)).code == "UNAUTHENTICATED"
    # Someone else's key cannot be revoked (it does not exist for them).
    bob = await world.user("Bob")
    _, bobs = await api_key(bob, ["users:read"])
    assert (await ada.client.error(REVOKE_KEY, id=bobs)).code == "NOT_FOUND"


async def test_bad_key_requests_are_refused_with_codes(world: World) -> None:
    ada = await world.user("Ada")
    cases = [
        ({"name": "k", "scopes": ["meetings:admin"]}, "scopes"),
        ({"name": "k", "scopes": []}, "scopes"),
        ({"name": "k", "scopes": ["users:read"], "ratePerMinute": 0}, "ratePerMinute"),
        ({"name": "", "scopes": ["users:read"]}, "name"),
    ]
    for i, field in cases:
        err = await ada.client.error(CREATE_KEY, i=i)
        assert (err.code, err.field) == ("BAD_INPUT", field), (i, err)
    assert (await world.anon.error(CREATE_KEY, i={"name": "k", "scopes": ["users:read"]})).code == "UNAUTHENTICATED"


async def test_each_key_has_its_own_rate_with_retry_after(
    server: RunningServer, world: World, http: httpx.AsyncClient
) -> None:
    ada = await world.user("Ada")
    secret, _ = await api_key(ada, ["users:read"], rate=5)
    other, _ = await api_key(ada, ["users:read"], rate=5)
    rest = Rest(server.url, http, secret)
    # Parallel requests: the limit is taken atomically before the work, so exactly 5 of 12 pass.
    answers = await asyncio.gather(*(rest("GET", "/me") for _ in range(12)))
    assert sorted(r.status_code for r in answers) == [200] * 5 + [429] * 7
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.json()["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["retryAfter"] > 0
    # GraphQL counts against the same key; another key is unaffected.
    assert (await Client(server.url, http, secret).error(ME)).code == "RATE_LIMITED"
    assert (await Rest(server.url, http, other).ok("GET", "/me"))["id"] == ada.user_id


AUDIT = """query($m: ID!) { auditLog(meetingId: $m, first: 20) { items { action actor { kind userId } } } }"""


async def test_what_a_key_does_is_audited_as_its_account(
    server: RunningServer, world: World, http: httpx.AsyncClient
) -> None:
    host, m = await live_meeting(world, title="Audited")
    rec = (await host.client("mutation($m: ID!) { startRecording(meetingId: $m) { id } }", m=m["id"]))["startRecording"]
    await host.client("mutation($m: ID!) { stopRecording(meetingId: $m) { id } }", m=m["id"])
    secret, _ = await api_key(host, ["recordings:write"])
    await Rest(server.url, http, secret).ok("POST", f"/recordings/{rec['id']}/shares", json={"expires_in_hours": 1})
    items = (await host.client(AUDIT, m=m["id"]))["auditLog"]["items"]
    shared = next(i for i in items if i["action"] == "recording.share_link_created")
    assert shared["actor"] == {"kind": "USER", "userId": host.user_id}


async def test_keys_cannot_subscribe(server: RunningServer, world: World, http: httpx.AsyncClient) -> None:
    host, m = await live_meeting(world)
    secret, _ = await api_key(host)  # every scope: subscriptions are still no key's
    sub = Client(server.url, http, secret).subscribe(
        "subscription($m: ID!) { meetingEvents(meetingId: $m) { __typename } }", m=m["id"]
    )
    async with sub:
        with pytest.raises(GraphQLError) as refused:
            await sub.next(timeout=10)
    assert refused.value.code == "FORBIDDEN"


async def test_a_deleted_accounts_keys_stop_working(
    server: RunningServer, world: World, http: httpx.AsyncClient
) -> None:
    gone = await world.user("Gone")
    secret, key_id = await api_key(gone, ["users:read"])
    assert (await Rest(server.url, http, secret).ok("GET", "/me"))["id"] == gone.user_id
    await gone.client("mutation($p: String!) { deleteAccount(password: $p) }", p="correct horse")
    await Rest(server.url, http, secret).error("GET", "/me", 401, "UNAUTHENTICATED")
    assert (await Client(server.url, http, secret).error(ME)).code == "UNAUTHENTICATED"
    async with server.app.state.services.db.read() as session:
        assert (await session.execute(select(ApiKey.id).where(ApiKey.id == key_id))).first() is None
