"""Webhooks end to end (issue 18): endpoints through GraphQL, the outbox written with the change, a real receiver
process that fails, hangs and is killed and restarted mid-stream; every event arrives exactly once after
deduplication by webhook-id, in order per meeting, and every signature verifies with the `standardwebhooks`
package. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from api.webhooks import retention
from testkit.webhook_receiver import Received, Receiver
from tests.conftest import RunningServer
from tests.support.gql import Client, eventually
from tests.support.webhooks import CREATE, DELIVERIES, ENDPOINTS, deliveries, endpoint, local_hooks_server, settled
from tests.support.world import Person, World

LEAVE = "mutation($m: ID!) { leaveMeeting(meetingId: $m) { id state } }"
END = "mutation($m: ID!) { endMeeting(id: $m) { id status } }"

SCHEDULE = (0.2, 0.4, 0.8, *([1.0] * 5), *([2.0] * 30))
"""Test-sized back-off: ~66 s of retries before a delivery is given up (a loaded CI box takes seconds to make the
events the receiver misses while it is dead)."""


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def hooks_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp(f"hooks-{request.param}")
    async with local_hooks_server(request.param, data_dir, webhook_retry_schedule_s=SCHEDULE) as srv:
        yield srv


@pytest.fixture
def hw(hooks_server: RunningServer, http: httpx.AsyncClient) -> World:
    return World(Client(hooks_server.url, http))


def _check_received(got: list[Received], secret: str, expected: list[dict[str, Any]]) -> dict[str, list[Received]]:
    """Signatures verify; after dedup by webhook-id the ids are exactly the expected deliveries; per meeting
    the first arrivals come in sequence order. Returns the first arrivals per meeting."""
    wh = Webhook(secret)
    first: dict[str, Received] = {}
    for r in got:
        wh.verify(r.body, r.headers)  # raises WebhookVerificationError on a bad signature
        first.setdefault(r.id, r)
    events = [r for r in first.values() if r.payload["type"] != "endpoint.verification"]
    assert sorted(r.id for r in events) == sorted(d["id"] for d in expected)
    by_meeting: dict[str, list[Received]] = defaultdict(list)
    for r in sorted(events, key=lambda r: r.received_at):
        by_meeting[r.payload["data"]["meetingId"]].append(r)
    for meeting_id, rs in by_meeting.items():
        seqs = [r.payload["data"]["seq"] for r in rs]
        assert seqs == sorted(seqs), f"meeting {meeting_id} out of order: {seqs}"
    # The body is the stored payload byte for byte.
    payloads = {d["id"]: d["payload"] for d in expected}
    assert all(first[i].body == payloads[i] for i in payloads)
    return by_meeting


async def _busy_meeting(world: World, host: Person, guests: int) -> dict[str, Any]:
    m = await world.meeting(host, title="Hooked")
    await world.join(host, m)
    people = [(await world.join(None, m))[0] for _ in range(guests)]
    for p in people[: guests // 2]:
        await p.client(LEAVE, m=m["id"])
    return m


async def test_every_event_arrives_once_in_order_through_failures_hangs_and_a_killed_receiver(
    hw: World, tmp_path: Path
) -> None:
    receiver = Receiver(tmp_path / "received.jsonl", fail_every=3, hang_every=11, hang_s=5.0)
    receiver.start()
    try:
        owner = await hw.user("Hook owner")
        endpoint_id, secret = await endpoint(owner, receiver.url)
        meetings = [await _busy_meeting(hw, owner, 4) for _ in range(2)]
        receiver.kill()  # mid-stream: whatever was in flight fails, the rest waits
        meetings += [await _busy_meeting(hw, owner, 4) for _ in range(2)]
        await asyncio.sleep(1.0)
        receiver.start()
        for m in meetings[:2]:
            await owner.client(END, m=m["id"])
        delivered = await settled(owner, endpoint_id)
    finally:
        receiver.kill()
    assert all(d["status"] == "delivered" for d in delivered)
    # Per meeting: created, started, 5 joined (host + 4 guests), 2 left, and ended for the first two.
    kinds: dict[str, list[str]] = defaultdict(list)
    for d in delivered:
        kinds[d["meetingId"]].append(d["eventType"])
    for i, m in enumerate(meetings):
        want = {"meeting.created": 1, "meeting.started": 1, "participant.joined": 5, "participant.left": 2}
        if i < 2:
            want["meeting.ended"] = 1
        got = {k: kinds[m["id"]].count(k) for k in set(kinds[m["id"]])}
        assert got == want, (m["id"], got)
    by_meeting = _check_received(receiver.received(), secret, delivered)
    assert set(by_meeting) == {m["id"] for m in meetings}
    # The receiver misbehaved: some deliveries needed several attempts, and the log shows why.
    retried = [d for d in delivered if d["attempts"] > 1]
    assert retried, "no delivery was retried: the receiver's failures did not happen"
    codes = {a["statusCode"] for d in retried for a in d["attemptLog"]}
    assert 500 in codes and None in codes  # a 500, and a hang or a dead receiver (no response)
    assert any(a["error"] == "timed out" for d in retried for a in d["attemptLog"])


async def test_only_subscribed_types_and_chat_only_when_asked(hw: World, tmp_path: Path) -> None:
    receiver = Receiver(tmp_path / "received.jsonl")
    receiver.start()
    try:
        owner = await hw.user()
        endpoint_id, _secret = await endpoint(owner, receiver.url, ["participant.joined"])
        m = await hw.meeting(owner)
        await hw.join(owner, m)
        await hw.join(None, m)
        delivered = await settled(owner, endpoint_id)
    finally:
        receiver.kill()
    assert sorted(d["eventType"] for d in delivered) == ["participant.joined", "participant.joined"]


async def test_endpoint_urls_are_checked_and_endpoints_are_private(hw: World) -> None:
    owner = await hw.user()
    for url, words in [
        ("ftp://example.com/x", "http"),
        ("http://user:pw@127.0.0.1/x", "credentials"),
        ("http://10.1.2.3/hook", "not a public address"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::1]:9/hook", "loopback"),
    ]:
        err = await owner.client.error(CREATE, i={"url": url, "eventTypes": []})
        assert err.code == "BAD_INPUT" and err.field == "url" and words in err.errors[0]["message"], (url, err)
    err = await owner.client.error(CREATE, i={"url": "http://127.0.0.1:9/h", "eventTypes": ["meeting.exploded"]})
    assert err.code == "BAD_INPUT" and err.field == "eventTypes"
    data = (await owner.client(CREATE, i={"url": "http://127.0.0.1:9/h", "eventTypes": []}))["createWebhookEndpoint"]
    stranger = await hw.user()
    err = await stranger.client.error(DELIVERIES, e=data["endpoint"]["id"], s=None)
    assert err.code == "NOT_FOUND"
    err = await stranger.client.error("mutation($i: ID!) { deleteWebhookEndpoint(id: $i) }", i=data["endpoint"]["id"])
    assert err.code == "NOT_FOUND"
    assert (await stranger.client(ENDPOINTS))["webhookEndpoints"] == []
    err = await hw.anon.error(ENDPOINTS)
    assert err.code == "UNAUTHENTICATED"


async def test_loopback_is_refused_without_the_allow_list(world: World) -> None:
    # The default server has no API_WEBHOOK_ALLOWED_NETWORKS.
    owner = await world.user()
    err = await owner.client.error(CREATE, i={"url": "http://127.0.0.1:9/hook", "eventTypes": []})
    assert err.code == "BAD_INPUT" and "loopback" in err.errors[0]["message"]
    err = await owner.client.error(CREATE, i={"url": "http://localhost:9/hook", "eventTypes": []})
    assert err.code == "BAD_INPUT" and "loopback" in err.errors[0]["message"]


REDELIVER = "mutation($d: ID!) { redeliverWebhook(deliveryId: $d) { id status attempts } }"
REPLAY = "mutation($e: ID!, $s: DateTime!) { replayWebhooks(endpointId: $e, since: $s) }"
ROTATE = """mutation($e: ID!, $o: Int!) { rotateWebhookSecret(id: $e, overlapSeconds: $o) {
  secret endpoint { previousSecretValidUntil } } }"""


async def test_redelivery_and_replay_send_the_same_ids_again(hw: World, tmp_path: Path) -> None:
    receiver = Receiver(tmp_path / "received.jsonl")
    receiver.start()
    try:
        owner = await hw.user()
        endpoint_id, secret = await endpoint(owner, receiver.url)
        m = await hw.meeting(owner)
        await hw.join(owner, m)
        first = await settled(owner, endpoint_id)
        assert len(first) == 3  # created, started, joined
        one = first[-1]["id"]
        again = (await owner.client(REDELIVER, d=one))["redeliverWebhook"]
        assert again == {"id": one, "status": "pending", "attempts": 0}
        await settled(owner, endpoint_id)
        ids = [r.id for r in receiver.received()]
        assert ids.count(one) == 2
        count = (await owner.client(REPLAY, e=endpoint_id, s="2000-01-01T00:00:00Z"))["replayWebhooks"]
        assert count == 3
        await settled(owner, endpoint_id)
        got = receiver.received()
        _check_received(got, secret, first)
        assert sorted(r.id for r in got if r.id != one) == sorted([d["id"] for d in first if d["id"] != one] * 2)
        assert [r.id for r in got].count(one) == 3
        stranger = await hw.user()
        assert (await stranger.client.error(REDELIVER, d=one)).code == "NOT_FOUND"
        err = await owner.client.error(REPLAY, e=endpoint_id, s="2026-01-01T00:00:00")
        assert err.code == "BAD_INPUT" and err.field == "since"
    finally:
        receiver.kill()


async def test_a_rotated_secret_overlaps_then_stops(hw: World, tmp_path: Path) -> None:
    receiver = Receiver(tmp_path / "received.jsonl")
    receiver.start()
    try:
        owner = await hw.user()
        endpoint_id, old = await endpoint(owner, receiver.url, ["meeting.created"])
        rotated = (await owner.client(ROTATE, e=endpoint_id, o=3600))["rotateWebhookSecret"]
        new = rotated["secret"]
        assert new != old and rotated["endpoint"]["previousSecretValidUntil"]
        await hw.meeting(owner)
        await settled(owner, endpoint_id)
        [during] = [r for r in receiver.received() if r.payload["type"] == "meeting.created"]
        Webhook(old).verify(during.body, during.headers)
        Webhook(new).verify(during.body, during.headers)
        newest = (await owner.client(ROTATE, e=endpoint_id, o=0))["rotateWebhookSecret"]["secret"]
        await hw.meeting(owner)
        await settled(owner, endpoint_id)
        after = [r for r in receiver.received() if r.payload["type"] == "meeting.created"][-1]
        Webhook(newest).verify(after.body, after.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(new).verify(after.body, after.headers)
        err = await owner.client.error(ROTATE, e=endpoint_id, o=10**7)
        assert err.code == "BAD_INPUT"
    finally:
        receiver.kill()


async def test_an_endpoint_that_does_not_echo_the_challenge_gets_nothing(hw: World, tmp_path: Path) -> None:
    # A plain HTTP server that answers 204 to everything (no challenge echo): the endpoint stays unverified and
    # its events stay queued.
    sink = await asyncio.start_server(_answer_204, "127.0.0.1", 0)
    port = sink.sockets[0].getsockname()[1]
    try:
        owner = await hw.user()
        data = await owner.client(CREATE, i={"url": f"http://127.0.0.1:{port}/h", "eventTypes": []})
        endpoint_id = data["createWebhookEndpoint"]["endpoint"]["id"]
        await hw.meeting(owner)

        async def challenge_tried() -> bool:
            rows = await deliveries(owner, endpoint_id)
            return any(d["eventType"] == "endpoint.verification" and d["attempts"] >= 2 for d in rows)

        await eventually(challenge_tried, timeout=30, interval=0.1)
        rows = await deliveries(owner, endpoint_id)
        [created] = [d for d in rows if d["eventType"] == "meeting.created"]
        assert created["status"] == "pending" and created["attempts"] == 0
        [challenge] = [d for d in rows if d["eventType"] == "endpoint.verification"]
        assert challenge["lastError"] == "the challenge was not echoed" and challenge["lastStatusCode"] == 204
        assert not (await owner.client(ENDPOINTS))["webhookEndpoints"][0]["verified"]
    finally:
        sink.close()
        await sink.wait_closed()


async def _answer_204(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")),
            0,
        )
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
        await writer.drain()
    finally:
        writer.close()


async def test_the_delivery_log_is_pruned_after_its_retention_but_never_what_is_owed(
    hooks_server: RunningServer, hw: World, tmp_path: Path
) -> None:
    receiver = Receiver(tmp_path / "received.jsonl")
    receiver.start()
    try:
        owner = await hw.user()
        endpoint_id, _ = await endpoint(owner, receiver.url, ["meeting.created"])
        await hw.meeting(owner)
        [done] = await settled(owner, endpoint_id)
    finally:
        receiver.kill()
    await hw.meeting(owner)  # the receiver is gone: this one stays pending
    svc = hooks_server.app.state.services
    later = datetime.now(UTC) + timedelta(days=svc.settings.webhook_retention_days, hours=1)
    assert await retention.prune(svc, now=later) >= 1
    left = await deliveries(owner, endpoint_id)
    assert done["id"] not in {d["id"] for d in left}
    assert [d["status"] for d in left if d["eventType"] == "meeting.created"] == ["pending"]


async def test_endpoint_changes_are_rate_limited_per_account(hw: World) -> None:
    owner = await hw.user()
    data = (await owner.client(CREATE, i={"url": "http://127.0.0.1:9/h", "eventTypes": []}))["createWebhookEndpoint"]
    rotate = "mutation($e: ID!) { rotateWebhookSecret(id: $e, overlapSeconds: 0) { secret } }"
    for _ in range(29):  # 30 changes a minute, the creation included
        await owner.client(rotate, e=data["endpoint"]["id"])
    err = await owner.client.error(rotate, e=data["endpoint"]["id"])
    assert err.code == "RATE_LIMITED"
    other = await hw.user()  # per account
    await other.client(CREATE, i={"url": "http://127.0.0.1:9/h", "eventTypes": []})
