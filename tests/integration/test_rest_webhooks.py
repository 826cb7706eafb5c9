"""Webhook endpoints on the REST façade (/api/v1/webhooks, issue 18) against a real server on SQLite and
PostgreSQL, with a real receiver process: the whole lifecycle with an API key and with an account's session,
deliveries, redelivery and replay making new attempts, scopes, other accounts' endpoints, Idempotency-Key, bad
input. The rules are api/webhooks/service.py's, the same GraphQL calls: where it matters, both doors are asked."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from standardwebhooks.webhooks import Webhook

from dbschema.webhooks import WebhookDelivery
from protocol.webhooks import SUBSCRIBABLE, WebhookEvent
from testkit.webhook_receiver import Receiver
from tests.conftest import RunningServer
from tests.support.gql import Client, eventually
from tests.support.rest import Rest, api_key
from tests.support.webhooks import ENDPOINTS, local_hooks_server
from tests.support.world import Person, World

pytestmark = pytest.mark.timeout(180)

EVENTS = ["meeting.created", "meeting.started", "participant.joined"]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def rest_hooks_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp(f"rest-hooks-{request.param}")
    async with local_hooks_server(request.param, data_dir, webhook_retry_schedule_s=(0.2, 0.5, 1.0)) as srv:
        yield srv


@pytest.fixture
def hw(rest_hooks_server: RunningServer, http: httpx.AsyncClient) -> World:
    return World(Client(rest_hooks_server.url, http))


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    r = Receiver(tmp_path / "received.jsonl")
    r.start()
    yield r
    r.kill()


async def _rest(server: RunningServer, http: httpx.AsyncClient, who: Person, how: str, scopes: list[str]) -> Rest:
    if how == "session":
        return Rest(server.url, http, who.client.token)
    secret, _ = await api_key(who, scopes)
    return Rest(server.url, http, secret)


async def _verified(rest: Rest, endpoint_id: str) -> None:
    async def check() -> bool:
        return bool((await rest.ok("GET", f"/webhooks/endpoints/{endpoint_id}"))["verified"])

    await eventually(check, timeout=30, interval=0.1)


async def _log(rest: Rest, endpoint_id: str, **params: Any) -> list[dict[str, Any]]:
    """The whole delivery log, walked page by page with the cursor."""
    items: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = await rest.ok(
            "GET",
            f"/webhooks/endpoints/{endpoint_id}/deliveries",
            params={**params, **({"after": after} if after else {})},
        )
        items += page["items"]
        after = page["next_cursor"]
        if after is None:
            return items


async def _settled(rest: Rest, endpoint_id: str, *, attempts: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """Waits until nothing is pending (and, if given, until deliveries have at least that many attempts logged);
    returns the log without the verification challenges."""

    async def done() -> bool:
        log = await _log(rest, endpoint_id)
        if any(d["status"] == "pending" for d in log):
            return False
        logged = {d["id"]: len(d["attempt_log"]) for d in log}
        return all(logged.get(i, 0) >= n for i, n in (attempts or {}).items())

    await eventually(done, timeout=60, interval=0.2)
    return [d for d in await _log(rest, endpoint_id) if d["event_type"] != "endpoint.verification"]


def _answered(d: dict[str, Any]) -> int:
    return sum(a["status_code"] == 204 for a in d["attempt_log"])


@pytest.mark.parametrize("how", ["key", "session"])
async def test_the_whole_lifecycle(
    how: str, rest_hooks_server: RunningServer, hw: World, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await hw.user()
    rest = await _rest(rest_hooks_server, http, owner, how, ["webhooks:read", "webhooks:write"])
    res = await rest(
        "POST", "/webhooks/endpoints", json={"url": receiver.url, "event_types": EVENTS, "description": "ours"}
    )
    assert res.status_code == 201, res.text
    created = res.json()
    secret, ep = created["secret"], created["endpoint"]
    assert secret.startswith("whsec_")
    assert (ep["url"], ep["event_types"], ep["description"], ep["enabled"]) == (
        receiver.url,
        sorted(EVENTS),
        "ours",
        True,
    )
    assert "secret" not in (await rest.ok("GET", f"/webhooks/endpoints/{ep['id']}"))
    await _verified(rest, ep["id"])
    listed = await rest.ok("GET", "/webhooks/endpoints")
    assert [e["id"] for e in listed["items"]] == [ep["id"]] and listed["next_cursor"] is None
    # GraphQL sees the same endpoint (one store, one set of rules).
    assert [e["id"] for e in (await owner.client(ENDPOINTS))["webhookEndpoints"]] == [ep["id"]]

    # Real events, really delivered, logged and signed with the secret REST handed out.
    m = await hw.meeting(owner)
    await hw.join(owner, m)
    first = await _settled(rest, ep["id"])
    assert sorted(d["event_type"] for d in first) == sorted(EVENTS)
    assert all(d["status"] == "delivered" and d["attempt_log"][-1]["status_code"] == 204 for d in first)
    assert all(d["last_status_code"] == 204 and d["delivered_at"] for d in first)
    assert all(d["meeting_id"] == m["id"] for d in first)
    wh = Webhook(secret)
    got = [r for r in receiver.received() if r.payload["type"] != "endpoint.verification"]
    assert sorted(r.id for r in got) == sorted(d["id"] for d in first)
    for r in got:
        wh.verify(r.body, r.headers)
    # Cursor pages: one at a time, newest first, each once, the same as a single page.
    one_by_one = await _log(rest, ep["id"], first=1)
    whole = (await rest.ok("GET", f"/webhooks/endpoints/{ep['id']}/deliveries", params={"first": 100}))["items"]
    assert [d["id"] for d in one_by_one] == [d["id"] for d in whole] and len(whole) == len(first) + 1
    assert [d["created_at"] for d in whole] == sorted((d["created_at"] for d in whole), reverse=True)
    delivered = await rest.ok("GET", f"/webhooks/endpoints/{ep['id']}/deliveries", params={"status": "delivered"})
    assert {d["id"] for d in delivered["items"]} == {d["id"] for d in whole}

    # Redelivery: the same webhook-id again, a new attempt in the log.
    target = first[0]
    again = await rest.ok("POST", f"/webhooks/deliveries/{target['id']}/redeliver")
    assert (again["id"], again["status"], again["attempts"]) == (target["id"], "pending", 0)
    after_redelivery = await _settled(rest, ep["id"], attempts={target["id"]: 2})
    assert next(d for d in after_redelivery if d["id"] == target["id"])["status"] == "delivered"
    assert [r.id for r in receiver.received()].count(target["id"]) == 2
    # Replay since a time: every event delivery again (not the challenge), each with one more attempt.
    replayed = await rest.ok("POST", f"/webhooks/endpoints/{ep['id']}/replay", json={"since": "2000-01-01T00:00:00Z"})
    assert replayed == {"queued": len(first)}
    want = {d["id"]: len(d["attempt_log"]) + 1 for d in after_redelivery}
    answered_before = {d["id"]: _answered(d) for d in after_redelivery}
    after_replay = await _settled(rest, ep["id"], attempts=want)
    ids = [r.id for r in receiver.received()]
    for d in after_replay:
        assert d["status"] == "delivered" and _answered(d) > answered_before[d["id"]]
        assert ids.count(d["id"]) >= _answered(d)  # the receiver logs before it answers: never fewer

    # Update, rotate, verify, delete.
    changed = await rest.ok(
        "PATCH",
        f"/webhooks/endpoints/{ep['id']}",
        json={"description": "renamed", "event_types": ["meeting.created"], "enabled": False},
    )
    assert (changed["description"], changed["event_types"], changed["enabled"]) == (
        "renamed",
        ["meeting.created"],
        False,
    )
    assert changed["disabled_reason"] == "disabled by its owner" and changed["url"] == receiver.url
    enabled = await rest.ok("PATCH", f"/webhooks/endpoints/{ep['id']}", json={"enabled": True})
    assert enabled["enabled"] and enabled["disabled_reason"] is None and enabled["description"] == "renamed"
    rotated = await rest.ok("POST", f"/webhooks/endpoints/{ep['id']}/rotate-secret", json={"overlap_seconds": 3600})
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != secret
    assert rotated["endpoint"]["previous_secret_valid_until"] is not None
    await hw.meeting(owner)
    [newest] = [d for d in await _settled(rest, ep["id"]) if d["id"] not in want]
    [arrived] = [r for r in receiver.received() if r.id == newest["id"]]
    Webhook(rotated["secret"]).verify(arrived.body, arrived.headers)
    Webhook(secret).verify(arrived.body, arrived.headers)  # the overlap: the old secret signs beside it
    challenged = await rest.ok("POST", f"/webhooks/endpoints/{ep['id']}/verify")
    assert challenged["verified"] is False
    await _verified(rest, ep["id"])
    gone = await rest("DELETE", f"/webhooks/endpoints/{ep['id']}")
    assert gone.status_code == 204 and not gone.content
    await rest.error("GET", f"/webhooks/endpoints/{ep['id']}", 404, "NOT_FOUND")
    await rest.error("GET", f"/webhooks/endpoints/{ep['id']}/deliveries", 404, "NOT_FOUND")
    assert (await rest.ok("GET", "/webhooks/endpoints"))["items"] == []


async def test_scopes_strangers_and_signed_out_callers(
    rest_hooks_server: RunningServer, hw: World, http: httpx.AsyncClient
) -> None:
    owner, stranger = await hw.user(), await hw.user()
    rest = await _rest(rest_hooks_server, http, owner, "key", ["webhooks:read", "webhooks:write"])
    ep = (await rest.ok("POST", "/webhooks/endpoints", json={"url": "http://127.0.0.1:9/h"}))["endpoint"]
    [challenge] = (await rest.ok("GET", f"/webhooks/endpoints/{ep['id']}/deliveries"))["items"]
    assert challenge["event_type"] == "endpoint.verification"
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/webhooks/endpoints", {}),
        ("POST", "/webhooks/endpoints", {"json": {"url": "http://127.0.0.1:9/h"}}),
        ("GET", f"/webhooks/endpoints/{ep['id']}", {}),
        ("PATCH", f"/webhooks/endpoints/{ep['id']}", {"json": {"description": "x"}}),
        ("DELETE", f"/webhooks/endpoints/{ep['id']}", {}),
        ("POST", f"/webhooks/endpoints/{ep['id']}/rotate-secret", {"json": {}}),
        ("POST", f"/webhooks/endpoints/{ep['id']}/verify", {}),
        ("GET", f"/webhooks/endpoints/{ep['id']}/deliveries", {}),
        ("POST", f"/webhooks/endpoints/{ep['id']}/replay", {"json": {"since": "2000-01-01T00:00:00Z"}}),
        ("POST", f"/webhooks/deliveries/{challenge['id']}/redeliver", {}),
    ]
    # A key without the webhook scopes: 403 on every route, before anything is looked up or changed.
    meetings_only = await _rest(rest_hooks_server, http, owner, "key", ["meetings:read"])
    for method, path, kw in calls:
        body = await meetings_only.error(method, path, 403, "FORBIDDEN", **kw)
        assert "webhooks:" in body["error"]
    # Read-only: reads pass, every change is refused.
    reader = await _rest(rest_hooks_server, http, owner, "key", ["webhooks:read"])
    for method, path, kw in calls:
        if method == "GET":
            await reader.ok(method, path, **kw)
        else:
            assert "webhooks:write" in (await reader.error(method, path, 403, "FORBIDDEN", **kw))["error"]
    # The same scopes guard GraphQL's webhook fields for keys.
    key_client = owner.client.with_token(reader.token)
    assert [e["id"] for e in (await key_client(ENDPOINTS))["webhookEndpoints"]] == [ep["id"]]
    refused = await key_client.error('mutation { deleteWebhookEndpoint(id: "x") }')
    assert refused.code == "FORBIDDEN" and "webhooks:write" in refused.errors[0]["message"]
    assert (await owner.client.with_token(meetings_only.token).error(ENDPOINTS)).code == "FORBIDDEN"
    # Another account (key or session): NOT_FOUND, as GraphQL answers, for the endpoint and its delivery.
    for how in ("key", "session"):
        theirs = await _rest(rest_hooks_server, http, stranger, how, ["webhooks:read", "webhooks:write"])
        for method, path, kw in calls[2:]:
            await theirs.error(method, path, 404, "NOT_FOUND", **kw)
        assert (await theirs.ok("GET", "/webhooks/endpoints"))["items"] == []
    err = await stranger.client.error("mutation($i: ID!) { deleteWebhookEndpoint(id: $i) }", i=ep["id"])
    assert err.code == "NOT_FOUND"
    # Signed out: 401 with WWW-Authenticate.
    anon = Rest(rest_hooks_server.url, http, None)
    for method, path, kw in calls:
        res = await anon(method, path, **kw)
        assert (res.status_code, res.json()["code"]) == (401, "UNAUTHENTICATED")
        assert res.headers["www-authenticate"] == "Bearer"
    # Nothing above changed the endpoint.
    assert (await rest.ok("GET", f"/webhooks/endpoints/{ep['id']}"))["description"] == ""


async def test_create_is_idempotent(rest_hooks_server: RunningServer, hw: World, http: httpx.AsyncClient) -> None:
    owner = await hw.user()
    rest = await _rest(rest_hooks_server, http, owner, "key", ["webhooks:read", "webhooks:write"])
    body = {"url": "http://127.0.0.1:9/h", "event_types": ["meeting.created"]}
    first = await rest("POST", "/webhooks/endpoints", json=body, headers={"idempotency-key": "hook-1"})
    again = await rest("POST", "/webhooks/endpoints", json=body, headers={"idempotency-key": "hook-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert again.json()["secret"] == first.json()["secret"]
    assert [e["id"] for e in (await rest.ok("GET", "/webhooks/endpoints"))["items"]] == [first.json()["endpoint"]["id"]]
    other = await rest.error(
        "POST",
        "/webhooks/endpoints",
        409,
        "CONFLICT",
        json={**body, "description": "another"},
        headers={"idempotency-key": "hook-1"},
    )
    assert "another request body" in other["error"]
    # A create that failed frees its key for the corrected retry.
    bad = {"url": "http://127.0.0.1:9/h", "event_types": ["meeting.exploded"]}
    await rest.error("POST", "/webhooks/endpoints", 400, "BAD_INPUT", json=bad, headers={"idempotency-key": "hook-2"})
    fixed = await rest("POST", "/webhooks/endpoints", json=body, headers={"idempotency-key": "hook-2"})
    assert fixed.status_code == 201 and fixed.json()["endpoint"]["id"] != first.json()["endpoint"]["id"]
    assert len((await rest.ok("GET", "/webhooks/endpoints"))["items"]) == 2


async def test_bad_input_gets_the_right_codes(
    rest_hooks_server: RunningServer, hw: World, http: httpx.AsyncClient
) -> None:
    owner = await hw.user()
    rest = await _rest(rest_hooks_server, http, owner, "session", [])
    for url, words in [
        ("not a url", "http"),
        ("ftp://example.com/x", "http"),
        ("http://user:pw@127.0.0.1/x", "credentials"),
        ("http://10.1.2.3/hook", "not a public address"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
    ]:
        body = await rest.error("POST", "/webhooks/endpoints", 400, "BAD_INPUT", json={"url": url})
        assert body["field"] == "url" and words in body["error"], (url, body)
    body = await rest.error(
        "POST", "/webhooks/endpoints", 400, "BAD_INPUT", json={"url": "http://127.0.0.1:9/h", "event_types": ["x.y"]}
    )
    assert body["field"] == "eventTypes" and "unknown event types" in body["error"]
    body = await rest.error("POST", "/webhooks/endpoints", 400, "BAD_INPUT", json={"event_types": []})
    assert body["field"] == "url" and "missing" in body["error"]
    body = await rest.error("POST", "/webhooks/endpoints", 400, "BAD_INPUT", json={"url": 5})
    assert body["field"] == "url" and "Expected `str`" in body["error"]
    body = await rest.error(
        "POST", "/webhooks/endpoints", 400, "BAD_INPUT", json={"url": "http://127.0.0.1:9/h", "description": "d" * 201}
    )
    assert body["field"] == "description"
    ep = (await rest.ok("POST", "/webhooks/endpoints", json={"url": "http://127.0.0.1:9/h"}))["endpoint"]
    path = f"/webhooks/endpoints/{ep['id']}"
    body = await rest.error("PATCH", path, 400, "BAD_INPUT", json={"url": "http://10.0.0.1/h"})
    assert body["field"] == "url"
    body = await rest.error("PATCH", path, 400, "BAD_INPUT", json={"event_types": ["meeting.exploded"]})
    assert body["field"] == "eventTypes"
    await rest.error("PATCH", path, 400, "BAD_INPUT", json={"enabled": "sometimes"})
    body = await rest.error("POST", f"{path}/replay", 400, "BAD_INPUT", json={"since": "2026-01-01T00:00:00"})
    assert body["field"] == "since"
    await rest.error("POST", f"{path}/replay", 400, "BAD_INPUT", json={"since": "yesterday"})
    await rest.error("POST", f"{path}/replay", 400, "BAD_INPUT", json={})
    body = await rest.error("POST", f"{path}/rotate-secret", 400, "BAD_INPUT", json={"overlap_seconds": 10**7})
    assert body["field"] == "overlapSeconds"
    await rest.error("GET", f"{path}/deliveries", 400, "BAD_INPUT", params={"status": "lost"})
    await rest.error("GET", f"{path}/deliveries", 400, "BAD_INPUT", params={"first": 0})
    await rest.error("GET", f"{path}/deliveries", 400, "BAD_INPUT", params={"after": "bm9wZQ=="})  # "nope"
    await rest.error("GET", f"{path}/deliveries", 400, "BAD_INPUT", params={"after": "%%%"})
    await rest.error("GET", "/webhooks/endpoints", 400, "BAD_INPUT", params={"after": "bm9wZQ=="})
    await rest.error("POST", "/webhooks/deliveries/nope/redeliver", 404, "NOT_FOUND")
    # The per-account change rate is the service's (30 a minute, refused changes included): 429 + Retry-After.
    res = None
    for _ in range(40):
        res = await rest("POST", "/webhooks/endpoints", json={"url": "http://127.0.0.1:9/h"})
        if res.status_code == 429:
            break
    assert res is not None and res.status_code == 429 and res.json()["code"] == "RATE_LIMITED"
    assert int(res.headers["retry-after"]) >= 1 and res.json()["retryAfter"] > 0


async def test_loopback_is_refused_without_the_allow_list(
    world: World, server: RunningServer, http: httpx.AsyncClient
) -> None:
    # The session's default server has no API_WEBHOOK_ALLOWED_NETWORKS.
    owner = await world.user()
    rest = await _rest(server, http, owner, "key", ["webhooks:write"])
    for url in ("http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://[::1]:9/hook"):
        body = await rest.error("POST", "/webhooks/endpoints", 400, "BAD_INPUT", json={"url": url})
        assert body["field"] == "url" and "loopback" in body["error"], body


SEND = "mutation($i: SendChatMessageInput!) { sendChatMessage(input: $i) { id } }"
POLL = """mutation($m: ID!) { createPoll(input: {meetingId: $m, question: "Lunch?", options: ["yes", "no"]}) {
  id } }"""
ROOMS = "mutation($m: ID!) { createBreakoutRooms(input: {meetingId: $m, count: 1}) { rooms { id } } }"
OPEN_ROOMS = "mutation($m: ID!) { openBreakoutRooms(input: {meetingId: $m}) { status } }"
CLOSE_ROOMS = "mutation($m: ID!) { closeBreakoutRooms(meetingId: $m, graceSeconds: 0) { status } }"


async def test_each_meeting_event_type_reaches_the_delivery_log(
    rest_hooks_server: RunningServer, hw: World, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    """What a live meeting can produce without the recording pipeline (recording.ready / .failed and
    transcript.ready come from processing: tests/unit/api/test_webhook_events.py covers their mapping)."""
    owner = await hw.user()
    rest = await _rest(rest_hooks_server, http, owner, "session", [])
    every = [e.value for e in SUBSCRIBABLE if e is not WebhookEvent.ENDPOINT_DISABLED]
    everything = await rest.ok("POST", "/webhooks/endpoints", json={"url": receiver.url, "event_types": every})
    default = await rest.ok("POST", "/webhooks/endpoints", json={"url": receiver.url})
    for made in (everything, default):
        await _verified(rest, made["endpoint"]["id"])
    m = await hw.meeting(owner, guestWaitingRoom=True)
    await hw.join(owner, m)  # meeting.started, participant.joined
    guest, _ = await hw.join(None, m, name="Visitor")  # participant.waiting
    await rest.ok("POST", f"/meetings/{m['id']}/participants/{guest.participant_id}/admit")  # participant.joined
    await owner.client(SEND, i={"meetingId": m["id"], "text": "hello everyone"})  # chat.message
    await owner.client(SEND, i={"meetingId": m["id"], "text": "psst", "toParticipantId": guest.participant_id})
    poll = (await owner.client(POLL, m=m["id"]))["createPoll"]
    await owner.client("mutation($p: ID!) { launchPoll(pollId: $p) { id } }", p=poll["id"])
    await owner.client("mutation($p: ID!) { endPoll(pollId: $p) { id } }", p=poll["id"])  # poll.ended
    await owner.client("mutation($m: ID!) { startRecording(meetingId: $m) { id } }", m=m["id"])
    await owner.client("mutation($m: ID!) { stopRecording(meetingId: $m) { id } }", m=m["id"])
    await owner.client(ROOMS, m=m["id"])
    await owner.client(OPEN_ROOMS, m=m["id"])  # breakout_rooms.opened
    await owner.client(CLOSE_ROOMS, m=m["id"])  # breakout_rooms.closed
    await guest.client("mutation($m: ID!) { leaveMeeting(meetingId: $m) { id } }", m=m["id"])  # participant.left
    await rest.ok("POST", f"/meetings/{m['id']}/end")  # meeting.ended
    produced = {
        "meeting.created",
        "meeting.started",
        "meeting.ended",
        "participant.joined",
        "participant.waiting",
        "participant.left",
        "recording.started",
        "recording.stopped",
        "chat.message",
        "poll.ended",
        "breakout_rooms.opened",
        "breakout_rooms.closed",
    }
    got = await _settled(rest, everything["endpoint"]["id"])
    assert {d["event_type"] for d in got} == produced
    assert all(d["status"] == "delivered" for d in got)
    # Only the message to everyone left the server; the private one never did.
    [chat] = [d for d in got if d["event_type"] == "chat.message"]
    assert "hello everyone" in chat["payload"] and "psst" not in str([d["payload"] for d in got])
    # chat.message is opt-in: the endpoint that subscribed to "everything" by default did not get it.
    by_default = await _settled(rest, default["endpoint"]["id"])
    assert {d["event_type"] for d in by_default} == produced - {"chat.message"}
    arrived = {r.payload["type"] for r in receiver.received()}
    assert arrived == produced
    # The log's cursor neither skips nor repeats deliveries that share an instant: make them all share one.
    svc = rest_hooks_server.app.state.services
    async with svc.db.write() as tx:
        await tx.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == everything["endpoint"]["id"])
            .values(created_at=datetime(2026, 12, 1, tzinfo=UTC))
        )
    whole = (await rest.ok("GET", f"/webhooks/endpoints/{everything['endpoint']['id']}/deliveries"))["items"]
    paged = await _log(rest, everything["endpoint"]["id"], first=2)
    assert [d["id"] for d in paged] == [d["id"] for d in whole] and len(whole) == len(got) + 1
