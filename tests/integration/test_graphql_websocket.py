"""graphql-transport-ws abuse limits over a real WebSocket: active operations per connection (RATE_LIMITED for
the one over, the connection stays usable), a message-rate bucket (close 4429 "too many messages"), and
malformed messages (close 4400, never a server error)."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.conftest import RunningServer
from tests.support.gql import Connection
from tests.support.world import Person, World

# From a known sequence number: a subscription replays anything it would otherwise miss while it starts (the
# server sets subscriptions up concurrently; without afterSeq one not yet listening could miss an event).
EVENTS = """subscription($m: ID!, $after: Int) { meetingEvents(meetingId: $m, afterSeq: $after) { seq type } }"""
RAISE_HAND = "mutation($m: ID!) { raiseHand(meetingId: $m) { id } }"
FIVE = "{ id displayName role state audioMuted }"
LOWER_HAND = "mutation($m: ID!) { lowerMyHand(meetingId: $m) { id } }"


async def _live(world: World) -> tuple[Person, str, int]:
    host = await world.user("Host")
    m = await world.meeting(host)
    _, joined = await world.join(host, m)
    return host, m["id"], joined["eventSeq"]


async def test_active_operations_per_connection_are_limited(server: RunningServer, world: World) -> None:
    limit = server.settings.graphql_ws_max_operations
    host, meeting_id, seq = await _live(world)
    async with Connection(server.url, host.client.token) as conn:
        for i in range(limit):
            await conn.subscribe(f"s{i}", EVENTS, m=meeting_id, after=seq)
        await conn.subscribe("over", EVENTS, m=meeting_id, after=seq)
        refused = await conn.recv()
        assert refused["type"] == "error" and refused["id"] == "over", refused
        assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert str(limit) in refused["payload"][0]["message"]

        # Every admitted one is live: one event reaches all of them.
        await host.client(RAISE_HAND, m=meeting_id)
        got = {(await conn.recv(timeout=15))["id"] for _ in range(limit)}
        assert got == {f"s{i}" for i in range(limit)}

        # The connection stays usable: ending one makes room for another.
        seq = (await host.client("query($m: ID!) { meeting(id: $m) { eventSeq } }", m=meeting_id))["meeting"][
            "eventSeq"
        ]
        await conn.send({"id": "s0", "type": "complete"})
        await conn.subscribe("again", EVENTS, m=meeting_id, after=seq)
        await host.client(LOWER_HAND, m=meeting_id)
        got = {(await conn.recv(timeout=15))["id"] for _ in range(limit)}
        assert got == {"again", *(f"s{i}" for i in range(1, limit))}
        await conn.send({"type": "ping"})
        assert (await conn.recv())["type"] == "pong"


async def test_a_message_flood_closes_the_connection(server: RunningServer) -> None:
    burst = server.settings.graphql_ws_message_burst
    async with Connection(server.url) as conn:
        for _ in range(burst * 4):
            await conn.send({"type": "ping"})
        code, reason = await conn.closed_with()
    assert (code, reason) == (4429, "too many messages")


async def test_a_steady_client_is_not_throttled(server: RunningServer) -> None:
    rate = server.settings.graphql_ws_messages_per_s
    async with Connection(server.url) as conn:
        # Twice the burst in total, at half the sustained rate.
        for _ in range(server.settings.graphql_ws_message_burst * 2 // 3):
            await conn.send({"type": "ping"})
            assert (await conn.recv())["type"] == "pong"
            await asyncio.sleep(0.5 / rate)


MALFORMED = [
    "[]",
    "5",
    "null",
    '"subscribe"',
    '{"type": 5}',
    '{"type": ["subscribe"]}',
    '{"id": "1", "type": "subscribe"}',
    '{"id": "1", "type": "subscribe", "payload": "{ __typename }"}',
    '{"id": "1", "type": "subscribe", "payload": {"query": 5}}',
    '{"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }", "variables": [1]}}',
    '{"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }", "operationName": 7}}',
    '{"id": 1, "type": "subscribe", "payload": {"query": "{ __typename }"}}',
    '{"id": {"a": 1}, "type": "complete"}',
    '{"type": "complete"}',
    "[" * 100_000 + "]" * 100_000,
    '{"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }", "variables": {"n": ' + "7" * 5000 + "}}}",
    '{"type": "ping", "payload": NaN}',
]


@pytest.mark.parametrize("message", MALFORMED, ids=[m[:40] for m in MALFORMED])
async def test_malformed_messages_close_with_4400(server: RunningServer, message: str) -> None:
    async with Connection(server.url) as conn:
        await conn.send(message)
        code, _reason = await conn.closed_with()
    assert code == 4400


async def test_hostile_documents_get_an_error_and_the_connection_stays(server: RunningServer) -> None:
    from bench.graphql_validation import doubling_fragments

    async with Connection(server.url) as conn:
        await conn.subscribe("evil", doubling_fragments(20))
        msg = await conn.recv(timeout=3)
        assert msg["type"] == "error" and msg["id"] == "evil", msg
        assert msg["payload"][0]["extensions"]["code"] == "BAD_INPUT"
        assert msg["payload"][0]["message"] == "a selection set spreads 9 fragments; the limit is 8"
        for op_id, document, message in [
            ("big", "{ __typename }" + " " * 9000, "the document is 9,014 bytes; the limit is 8,192"),
            (
                "costly",
                f"{{ myMeetings(first: 100) {{ items {{ participants {FIVE} raisedHands {FIVE} }} }} }}",
                "costs 20,301",
            ),
        ]:
            await conn.subscribe(op_id, document)
            msg = await conn.recv(timeout=3)
            assert msg["type"] == "error" and msg["id"] == op_id, msg
            assert msg["payload"][0]["extensions"]["code"] == "BAD_INPUT"
            assert message in msg["payload"][0]["message"], msg
        await conn.send({"id": "ok", "type": "subscribe", "payload": {"query": "{ __typename }"}})
        msg = await conn.recv()
        assert msg == {"id": "ok", "type": "next", "payload": {"data": {"__typename": "Query"}}}, json.dumps(msg)
        # Over the token limit the parser fails, and graphql-transport-ws closes on syntax errors (4400).
        await conn.subscribe("tokens", "{" + " a" * 1001 + " }")
        code, reason = await conn.closed_with()
        assert code == 4400 and "1000 tokens" in reason, reason


async def test_one_event_reaches_each_operation_under_its_own_id_and_shape(server: RunningServer, world: World) -> None:
    # Shared execution and shared encoding (api/graphql/shared_*.py): operations with the same document get the
    # same data under their own ids; another selection gets its own shape; what a viewer may not see (a hand
    # raised is for everyone, a waiting guest only for hosts) still follows the viewer, not the shared frame.
    host, meeting_id, seq = await _live(world)
    m = (await host.client("query($m: ID!) { meeting(id: $m) { number } }", m=meeting_id))["meeting"]
    guest, _ = await world.join(None, {"id": meeting_id, "number": m["number"]}, name="Viewer guest")
    seq = (await host.client("query($m: ID!) { meeting(id: $m) { eventSeq } }", m=meeting_id))["meeting"]["eventSeq"]
    other = "subscription($m: ID!, $after: Int) { meetingEvents(meetingId: $m, afterSeq: $after) { type seq } }"
    async with Connection(server.url, host.client.token) as hc, Connection(server.url, guest.client.token) as gc:
        await hc.subscribe("a", EVENTS, m=meeting_id, after=seq)
        await hc.subscribe("b", EVENTS, m=meeting_id, after=seq)
        await hc.subscribe("c", other, m=meeting_id, after=seq)
        await gc.subscribe("g", EVENTS, m=meeting_id, after=seq)
        await host.client(RAISE_HAND, m=meeting_id)
        got = {}
        for _ in range(3):
            msg = await hc.recv()
            got[msg["id"]] = msg["payload"]["data"]["meetingEvents"]
        assert got["a"] == got["b"] == {"seq": seq + 1, "type": "PARTICIPANT_UPDATED"}
        assert got["c"] == {"type": "PARTICIPANT_UPDATED", "seq": seq + 1}
        assert list(got["c"]) == ["type", "seq"]  # its own selection order, not the other operations' bytes
        guest_msg = await gc.recv()
        assert guest_msg["id"] == "g" and guest_msg["payload"]["data"]["meetingEvents"]["seq"] == seq + 1
        # A guest arriving into the waiting room is news for the host's operations only.
        await host.client("mutation($m: ID!) { setWaitingRoom(meetingId: $m, enabled: true) { id } }", m=meeting_id)
        await world.join(None, {"id": meeting_id, "number": m["number"]}, name="Waiting guest")
        host_types = set()
        for _ in range(6):
            msg = await hc.recv()
            host_types.add((msg["id"], msg["payload"]["data"]["meetingEvents"]["type"]))
        assert {("a", "PARTICIPANT_WAITING"), ("b", "PARTICIPANT_WAITING"), ("c", "PARTICIPANT_WAITING")} <= host_types
        seen_by_guest = [(await gc.recv())["payload"]["data"]["meetingEvents"]["type"]]
        assert seen_by_guest == ["MEETING_UPDATED"]
        with pytest.raises(TimeoutError):
            await gc.recv(timeout=0.5)  # the waiting guest's arrival never reached the guest
