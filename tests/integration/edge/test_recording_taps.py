"""Recording through the edge: the host starts recording in the real API, the real edge (told by the control
feed) writes each participant's tracks as encoded packets, and the workers' reader and composer use the files:
VP8 decodes, Opus is there, and a composed MP4 covers the recorded time with both participants' tiles."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import av
import pytest
from websockets.asyncio.client import connect

from capture.tracks import iter_packets, read_recording
from edge.control import ControlFeed
from edge.rooms import Rooms
from edge.settings import Settings
from edge.signalling import create_app
from edge.synthetic import encode_opus_clip, encode_vp8_clip
from protocol.signalling import Join, Joined, Offer, encode, parse_edge_message
from tests.conftest import EDGE_SECRET, RunningServer, _free_port
from tests.integration.edge.test_rooms import Client
from tests.integration.edge.test_signalling import KEY_PATH, RunningEdge
from tests.integration.test_events import live_meeting
from tests.support.gql import eventually
from tests.support.world import World
from workers.compose import ComposeOptions, compose

pytestmark = pytest.mark.timeout(90)

START = "mutation($m: ID!) { startRecording(meetingId: $m) { id } }"
STOP = "mutation($m: ID!) { stopRecording(meetingId: $m) { id } }"
TOKEN = "mutation($m: ID!) { refreshJoinToken(meetingId: $m) { token } }"


@contextlib.asynccontextmanager
async def recording_edge(api: RunningServer, recordings: Path) -> AsyncIterator[tuple[RunningEdge, Rooms]]:
    settings = replace(
        Settings(port=_free_port(), join_key_url=api.url + KEY_PATH, join_timeout_s=5),
        control_secret=EDGE_SECRET,
        recordings_dir=recordings,
    )
    control = ControlFeed(settings.control_feed_url, settings.control_secret)
    rooms = Rooms(control, settings)
    edge = RunningEdge(settings)
    edge.app = create_app(settings, hooks=rooms, control=control)
    edge.server.config.app = edge.app
    task = asyncio.create_task(edge.server.serve())
    try:
        await eventually(lambda: edge.server.started or task.done(), timeout=5, interval=0.01)
        await asyncio.wait_for(control.connected.wait(), 5)
        yield edge, rooms
    finally:
        edge.server.should_exit = True
        await task


class AvClient(Client):
    """Publishes a coloured VP8 test pattern and an Opus tone."""

    async def start(self, token: str) -> None:
        await self.ws.send(encode(Join(token=token)))
        assert isinstance(parse_edge_message(await asyncio.wait_for(self.ws.recv(), 5)), Joined)
        self.peer.publish(encode_vp8_clip(frames=30, fps=15, gop=15))
        self.peer.publish(encode_opus_clip(frames=50))
        await self.peer.pc.setLocalDescription(await self.peer.pc.createOffer())
        await self.ws.send(encode(Offer(sdp=self.peer.pc.localDescription.sdp)))
        self._reader = asyncio.create_task(self._read())


async def test_the_edge_records_encoded_tracks_the_workers_can_compose(
    server: RunningServer, world: World, tmp_path: Path
) -> None:
    host, m = await live_meeting(world)
    alice, joined = await world.join(await world.user("Alice"), m)
    host_token = (await host.client(TOKEN, m=m["id"]))["refreshJoinToken"]["token"]
    tokens = [str(host_token), str(joined["joinToken"]["token"])]

    async with recording_edge(server, tmp_path) as (edge, rooms):
        clients = [AvClient(await connect(edge.url)) for _ in tokens]
        try:
            for client, token in zip(clients, tokens, strict=True):
                await client.start(token)
            await eventually(lambda: all(len(c.peer.frames_by_track) >= 2 for c in clients), timeout=15)

            rec = (await host.client(START, m=m["id"]))["startRecording"]
            await eventually(lambda: len(rooms.recording.get(m["id"], ("", {}))[1]) == 4, timeout=5)
            started = time.monotonic()
            await asyncio.sleep(3.0)
            await host.client(STOP, m=m["id"])
            recorded = time.monotonic() - started
            await eventually(lambda: m["id"] not in rooms.recording, timeout=5)
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)

    directory = tmp_path / rec["id"]
    tracks = read_recording(directory)
    assert sorted((t.meta.kind, t.meta.source) for t in tracks) == [
        ("audio", "mic"),
        ("audio", "mic"),
        ("video", "camera"),
        ("video", "camera"),
    ]
    assert {t.meta.participant_id for t in tracks} == {host.participant_id, alice.participant_id}
    assert {t.meta.display_name for t in tracks} >= {"Alice"}
    assert all(t.meta.closed for t in tracks)
    for t in tracks:
        # Each track spans (most of) the recorded time: nothing was decoded at the edge, but it all decodes here.
        assert recorded - 1.0 <= t.end - t.start <= recorded + 0.5, (t.meta.kind, t.end - t.start, recorded)
        packets = list(iter_packets(t.path))
        if t.meta.kind == "audio":
            assert len(packets) >= 40 * (recorded - 1.0)  # 50 Opus packets a second
            continue
        decoder = av.CodecContext.create("vp8", "r")
        frames = [f for p in packets for f in decoder.decode(p)]
        assert len(frames) >= 10 * (recorded - 1.0), len(frames)  # 15 fps, first key frame may take a moment
        assert (frames[0].width, frames[0].height) == (320, 240)

    result = compose(directory, tmp_path / "out", "gallery", ComposeOptions(width=640, height=360, fps=15, threads=1))
    assert abs(result.duration - recorded) <= 1.0, (result.duration, recorded)
    with av.open(result.mp4) as mp4:
        assert {s.type for s in mp4.streams} == {"video", "audio"}
