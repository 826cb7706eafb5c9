"""The control feed edges watch (``/internal/edge/feed``), against the real API on both databases: secrets,
snapshots, host mutes / removals / ends as facts, unrelated events filtered out, speaker reports as events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from protocol.media_control import (
    FEED_PATH,
    ApiToEdge,
    DominantSpeaker,
    FeedError,
    MediaState,
    MeetingEnded,
    MeetingSize,
    ParticipantMedia,
    Unwatch,
    Watch,
    encode,
    parse_api_to_edge,
)
from tests.conftest import EDGE_SECRET, RunningServer
from tests.integration.test_events import live_meeting, seq
from tests.support.world import World

pytestmark = pytest.mark.timeout(30)

MUTE = "mutation($p: ID!) { muteParticipant(participantId: $p) { id } }"
REMOVE = "mutation($p: ID!, $b: Boolean!) { removeParticipant(participantId: $p, block: $b) { id } }"
CHAT = 'mutation($m: ID!) { sendChatMessage(input: {meetingId: $m, text: "hi"}) { id } }'
UNMUTE_SELF = "mutation($m: ID!) { updateMyMedia(meetingId: $m, input: {audioMuted: false}) { id } }"
SPEAKERS = """subscription($m: ID!, $after: Int) { meetingEvents(meetingId: $m, afterSeq: $after) {
  __typename type ... on ActiveSpeakerEvent { participantId } } }"""


def feed_url(server: RunningServer) -> str:
    return server.url.replace("http", "ws", 1) + FEED_PATH


@asynccontextmanager
async def feed(server: RunningServer, secret: str | None = EDGE_SECRET) -> AsyncIterator[ClientConnection]:
    headers = {"Authorization": f"Bearer {secret}"} if secret is not None else {}
    async with connect(feed_url(server), additional_headers=headers) as ws:
        yield ws


async def recv(ws: ClientConnection, timeout: float = 5) -> ApiToEdge:
    return parse_api_to_edge(await asyncio.wait_for(ws.recv(), timeout))


@pytest.mark.parametrize("secret", [None, "wrong", ""])
async def test_a_wrong_or_missing_secret_is_refused(server: RunningServer, secret: str | None) -> None:
    async with feed(server, secret) as ws:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 4401


async def test_watch_sends_state_then_only_media_facts(server: RunningServer, world: World) -> None:
    host, m = await live_meeting(world, allowSelfUnmute=True)
    alice, _ = await world.join(await world.user("Alice"), m)
    bob, _ = await world.join(None, m, name="Bob")
    assert alice.participant_id and bob.participant_id
    await host.client(MUTE, p=alice.participant_id)  # before the watch: it must be in the snapshot

    async with feed(server) as ws:
        await ws.send(encode(Watch(m["id"])))
        # Host, Alice and Bob are in: the meeting's size is part of the state.
        assert await recv(ws) == MediaState(m["id"], False, (alice.participant_id,), (), None, 3)

        await host.client(CHAT, m=m["id"])  # not a media fact: nothing is sent for it
        await alice.client(UNMUTE_SELF, m=m["id"])
        assert await recv(ws) == ParticipantMedia(m["id"], alice.participant_id, False, False)
        await host.client(MUTE, p=bob.participant_id)
        assert await recv(ws) == ParticipantMedia(m["id"], bob.participant_id, True, False)

        # Removed without a block: refused by the edge until admitted again, then allowed.
        await host.client(REMOVE, p=alice.participant_id, b=False)
        assert await recv(ws) == ParticipantMedia(m["id"], alice.participant_id, False, True)
        assert await recv(ws) == MeetingSize(m["id"], 2)
        await world.join(alice, m)
        assert await recv(ws) == ParticipantMedia(m["id"], alice.participant_id, False, False)
        assert await recv(ws) == MeetingSize(m["id"], 3)

        await host.client("mutation($m: ID!) { endMeeting(id: $m) { id } }", m=m["id"])
        assert await recv(ws) == MeetingEnded(m["id"])

        # A second watch of an ended meeting says so in its state.
        await ws.send(encode(Unwatch(m["id"])))
        await ws.send(encode(Watch(m["id"])))
        state = await recv(ws)
        assert isinstance(state, MediaState) and state.ended


async def test_bad_frames_get_errors_and_the_feed_goes_on(server: RunningServer, world: World) -> None:
    _, m = await live_meeting(world)
    async with feed(server) as ws:
        for frame in ["not json", json.dumps({"type": "watch"}), json.dumps({"type": "nope"}), "[" * 100_000]:
            await ws.send(frame)
            err = await recv(ws)
            assert isinstance(err, FeedError) and err.code == "BAD_INPUT", err
        await ws.send(encode(Watch("no-such-meeting")))
        err = await recv(ws)
        assert isinstance(err, FeedError) and err.code == "NOT_FOUND", err
        await ws.send(encode(Watch(m["id"])))
        assert isinstance(await recv(ws), MediaState)


async def test_dominant_speaker_reports_become_meeting_events(server: RunningServer, world: World) -> None:
    host, m = await live_meeting(world)
    alice, _ = await world.join(await world.user("Alice"), m)
    outsider, _ = await world.join(await world.user("Other"), await world.meeting(host))
    async with host.client.subscribe(SPEAKERS, m=m["id"], after=await seq(host, m)) as sub, feed(server) as ws:
        # Stale or foreign reports are dropped (the edge races with the API), valid ones are announced.
        await ws.send(encode(DominantSpeaker(m["id"], outsider.participant_id)))
        await ws.send(encode(DominantSpeaker(m["id"], alice.participant_id)))
        await ws.send(encode(DominantSpeaker(m["id"], None)))
        first = await sub.next()
        second = await sub.next()
        assert first is not None and second is not None
        got: list[Any] = [first["meetingEvents"], second["meetingEvents"]]
        assert got == [
            {
                "__typename": "ActiveSpeakerEvent",
                "type": "ACTIVE_SPEAKER_CHANGED",
                "participantId": alice.participant_id,
            },
            {"__typename": "ActiveSpeakerEvent", "type": "ACTIVE_SPEAKER_CHANGED", "participantId": None},
        ]
