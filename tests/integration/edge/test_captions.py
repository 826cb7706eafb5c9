"""Live captions end to end: a participant's speech (espeak-ng, Opus) goes through the real edge, whose
captioning process transcribes it, to the real API, which sends CAPTION events to the meeting's subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.client import connect

from edge.rooms import Rooms
from edge.synthetic import encode_opus_pcm
from protocol.signalling import Join, Joined, Offer, encode, parse_edge_message
from tests.conftest import EDGE_SECRET, RunningServer
from tests.support.edge import Client, RunningEdge, running_edge
from tests.support.gql import eventually
from tests.support.speech import wer
from tests.support.world import World, live_meeting, seq
from workers.synthetic import speech

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

SAID = "the quick brown fox jumps over the lazy dog"
TOKEN = "mutation($m: ID!) { refreshJoinToken(meetingId: $m) { token } }"
CAPTIONS = """subscription($m: ID!, $after: Int) { meetingEvents(meetingId: $m, afterSeq: $after) {
  type ... on CaptionEvent { participantId speakerName text language } } }"""


@contextlib.asynccontextmanager
async def captioning_edge(api: RunningServer, tmp: Path) -> AsyncIterator[tuple[RunningEdge, Rooms]]:
    async with running_edge(api, control_secret=EDGE_SECRET, recordings_dir=tmp, captions=True) as edge:
        assert edge.rooms is not None
        yield edge, edge.rooms


class Speaker(Client):
    """Publishes a sentence of speech followed by silence, looped (pre-encoded Opus: no encoder at run time)."""

    clip = encode_opus_pcm(np.concatenate([speech(SAID), np.zeros(48_000 * 2, np.float32)]))

    async def start(self, token: str) -> None:
        await self.ws.send(encode(Join(token=token)))
        assert isinstance(parse_edge_message(await asyncio.wait_for(self.ws.recv(), 5)), Joined)
        self.peer.publish(self.clip)
        await self.peer.pc.setLocalDescription(await self.peer.pc.createOffer())
        await self.ws.send(encode(Offer(sdp=self.peer.pc.localDescription.sdp)))
        self._reader = asyncio.create_task(self._read())


async def test_what_a_participant_says_reaches_the_meeting_as_captions(
    server: RunningServer, world: World, tmp_path: Path
) -> None:
    host, m = await live_meeting(world)
    alice, joined = await world.join(await world.user("Alice"), m)
    captions: list[dict[str, Any]] = []
    async with captioning_edge(server, tmp_path) as (edge, rooms):
        async with host.client.subscribe(CAPTIONS, m=m["id"], after=await seq(host, m)) as sub:

            async def collect() -> None:
                while (item := await sub.next()) is not None:
                    if item["meetingEvents"]["type"] == "CAPTION":
                        captions.append(item["meetingEvents"])

            reader = asyncio.create_task(collect())
            client = Speaker(await connect(edge.url))
            try:
                await client.start(str(joined["joinToken"]["token"]))
                started = time.monotonic()
                # The sentence loops; the first line may miss words said before the edge tapped the track.
                await eventually(lambda: any(wer(SAID, c["text"]) <= 0.35 for c in captions), timeout=60, interval=0.2)
                first_after = time.monotonic() - started
            finally:
                await client.close()
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
        assert rooms.captioner is not None and rooms.captioner.dropped_batches == 0
    assert all(c["participantId"] == alice.participant_id and c["speakerName"] == "Alice" for c in captions)
    assert {c["language"] for c in captions} == {"en"}  # the line's language reaches the subscriber
    line = next(c["text"] for c in captions if wer(SAID, c["text"]) <= 0.35)
    print(f"\nlive caption {first_after:.1f} s after joining: {line!r} (WER {wer(SAID, line):.2f}); all: {captions}")
