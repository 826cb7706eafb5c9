"""A participant who publishes nothing (an aiortc viewer whose only m-line is a receive-only microphone line)
joins a meeting where two people already show their cameras: the edge offers it both cameras and microphones in
one renegotiation, and it decodes both cameras at once.

The defect this guards: aiortc's default "balanced" bundle policy gives a new transceiver the transport of an
existing one *of the same kind*. The viewer had no video transceiver, so the edge's first video sender got a
fresh transport and the second took that one's, before BUNDLE (RFC 8843) moved the first onto the shared
transport and discarded its old one: the second camera's sender sat on a dead transport and never started, and
the edge held the whole batch back until its 10 s negotiation timeout. Both peers now use max-bundle."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect

from edge.session import NEGOTIATION_TIMEOUT_S
from protocol.signalling import Join, Joined, Offer, encode, parse_edge_message
from tests.conftest import RunningServer
from tests.support.edge import Client, rooms_edge
from tests.support.gql import eventually
from tests.support.mesh import AvClient
from tests.support.world import World

pytestmark = pytest.mark.timeout(60)


class Viewer(Client):
    async def start(self, token: str) -> None:
        await self.ws.send(encode(Join(token=token)))
        assert isinstance(parse_edge_message(await asyncio.wait_for(self.ws.recv(), 5)), Joined)
        self.peer.subscribe("audio", "audio/opus")  # nothing published: one receive-only line to offer
        await self.peer.pc.setLocalDescription(await self.peer.pc.createOffer())
        await self.ws.send(encode(Offer(sdp=self.peer.pc.localDescription.sdp)))
        self._reader = asyncio.create_task(self._read())


async def test_a_viewer_gets_every_camera_in_one_renegotiation_without_waiting(
    server: RunningServer, world: World
) -> None:
    host = await world.user()
    meeting = await world.meeting(host)
    people = [host, await world.user(), await world.user()]
    joins = [await world.join(p, meeting) for p in people]
    tokens = [str(data["joinToken"]["token"]) for _, data in joins]
    viewer_id = str(joins[2][0].participant_id)
    async with rooms_edge(server) as (edge, rooms):
        clients: list[Client] = []
        try:
            for token in tokens[:2]:
                clients.append(AvClient(await connect(edge.url)))
                await clients[-1].start(token)
            await eventually(lambda: all(len(c.peer.frames_by_track) == 1 for c in clients), 20)
            viewer = Viewer(await connect(edge.url))
            clients.append(viewer)
            joined = asyncio.get_running_loop().time()
            await viewer.start(tokens[2])
            # Well inside the edge's negotiation timeout: nothing waits for a sender that cannot start.
            await eventually(
                lambda: len(viewer.peer.frames_by_track) == 2 and min(viewer.peer.frames_by_track.values()) >= 3,
                NEGOTIATION_TIMEOUT_S / 2,
            )
            print(f"viewer decoding both cameras {asyncio.get_running_loop().time() - joined:.2f} s after joining")
            session = rooms.sessions[(str(meeting["id"]), viewer_id)]
            assert not session.published  # its receive-only line published nothing
            assert sorted(t.kind for t, _ in session.subscribed.values()) == ["audio", "audio", "video", "video"]
            assert all(s.ready.is_set() for _, s in session.subscribed.values())
        finally:
            for client in clients:
                await client.close()
