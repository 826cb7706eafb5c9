"""Edges that form a relay mesh under test: each registered with one API (its own, so registrations steer no
other test's joins), participants publishing audio and video through the edge they were placed on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from edge.mesh import EdgeMesh
from edge.rooms import Rooms
from edge.synthetic import encode_opus_clip, encode_vp8_clip
from protocol.signalling import Join, Joined, Offer, encode, parse_edge_message
from sfu.room import TrackRef
from tests.conftest import EDGE_SECRET, RunningServer, _free_port, make_settings
from tests.support.edge import Client, RunningEdge, running_edge
from tests.support.media import ToneTrack


async def mesh_api(tmp: pytest.TempPathFactory) -> RunningServer:
    srv = RunningServer(make_settings(Path(tmp.mktemp("mesh-api")), edge_secret=EDGE_SECRET))
    await srv.start()
    return srv


@contextlib.asynccontextmanager
async def mesh_edge(api: RunningServer, edge_id: str, region: str, **overrides: Any) -> AsyncIterator[RunningEdge]:
    """An edge registered with ``api`` (so the API lists it among a meeting's edges) with its relay on."""
    port = _free_port()
    async with running_edge(
        api,
        port=port,
        control_secret=EDGE_SECRET,
        public_url=f"ws://127.0.0.1:{port}/edge/signal",
        edge_id=edge_id,
        region=region,
        **overrides,
    ) as edge:
        assert edge.rooms is not None and edge.rooms.mesh is not None
        yield edge


def mesh_of(edge: RunningEdge) -> EdgeMesh:
    assert edge.rooms is not None and edge.rooms.mesh is not None
    return edge.rooms.mesh


class AvClient(Client):
    """Publishes an Opus tone and a VP8 camera (the edge learns the sources from its tracks map)."""

    async def start(self, token: str) -> None:
        await self.ws.send(encode(Join(token=token)))
        assert isinstance(parse_edge_message(await asyncio.wait_for(self.ws.recv(), 5)), Joined)
        self.peer.publish(encode_opus_clip(frames=50))
        self.peer.publish(encode_vp8_clip(frames=30, fps=15, gop=15))
        await self.peer.pc.setLocalDescription(await self.peer.pc.createOffer())
        await self.ws.send(encode(Offer(sdp=self.peer.pc.localDescription.sdp)))
        self._reader = asyncio.create_task(self._read())


class ToneClient(Client):
    """Publishes a sine tone its aiortc sender measures into the RFC 6464 level (``tone.amplitude`` changes it)."""

    tone: ToneTrack

    async def start(self, token: str) -> None:
        await self.ws.send(encode(Join(token=token)))
        assert isinstance(parse_edge_message(await asyncio.wait_for(self.ws.recv(), 5)), Joined)
        self.tone = ToneTrack(amplitude=0.0)
        self.peer.pc.addTransceiver(self.tone, direction="sendonly")
        await self.peer.pc.setLocalDescription(await self.peer.pc.createOffer())
        await self.ws.send(encode(Offer(sdp=self.peer.pc.localDescription.sdp)))
        self._reader = asyncio.create_task(self._read())


async def tone_client(edge: RunningEdge, token: str) -> ToneClient:
    client = ToneClient(await connect(edge.url))
    await client.start(token)
    return client


async def av_client(edge: RunningEdge, token: str) -> AvClient:
    client = AvClient(await connect(edge.url))
    await client.start(token)
    return client


def frames_from(rooms: Rooms, meeting_id: str, listener: str, speaker: str, kind: str, client: Client) -> int:
    """Frames ``client`` (``listener``, on the edge of ``rooms``) decoded of ``speaker``'s ``kind`` track, matched
    through the edge's mid (the speaker may be on this edge or another)."""
    session = rooms.sessions.get((meeting_id, listener))
    if session is None:
        return 0
    for key, (transceiver, _) in session.subscribed.items():
        if isinstance(key, TrackRef) and key.publisher_id == speaker and key.kind == kind:
            for t in client.peer.pc.getTransceivers():
                if t.mid == transceiver.mid and t.receiver.track is not None:
                    return client.peer.frames_by_track.get(t.receiver.track.id, 0)
    return 0
