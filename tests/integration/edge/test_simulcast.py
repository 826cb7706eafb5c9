"""Simulcast through the real edge: a synthetic publisher sends three RID-based layers the way Chromium does
(no SSRC in its offer; MID and RID header extensions on the packets), an aiortc subscriber decodes what the
edge forwards. The edge must learn the layers from their packets, forward one at a time per subscriber - the
biggest by default, the one covering the size the subscriber renders at, a smaller one when the subscriber's
estimate falls below what it is sent - switch only on key frames, and record the best layer as one stream."""

from __future__ import annotations

import asyncio
import functools
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, pack_remb_fci
from websockets.asyncio.client import connect

from edge.rooms import Rooms
from edge.rtp_hooks import PublishedTrack, SubscribedTrack
from edge.synthetic import EncodedClip, encode_h264_clip
from protocol.signalling import VideoSize, encode
from sfu.forwarder import payload_offset
from sfu.vp8 import vp8_keyframe_size, vp8_keyframe_start
from tests.conftest import RunningServer
from tests.support.edge import Client, rooms_edge
from tests.support.gql import eventually
from tests.support.media import CodecSpy
from tests.support.simulcast import BITRATES, SIZES, SimulcastClient, vp8_layers
from tests.support.world import World

pytestmark = pytest.mark.timeout(60)

_clips = vp8_layers


@functools.cache
def _h264_clips() -> dict[str, EncodedClip]:
    return {
        rid: encode_h264_clip(frames=30, fps=15, width=w, height=h, gop=15, bit_rate=BITRATES[rid])
        for rid, (w, h) in SIZES.items()
    }


def _group(rooms: Rooms, pid: str) -> PublishedTrack:
    (session,) = [s for (_, p), s in rooms.sessions.items() if p == pid]
    (published,) = session.published.values()
    return published


def _subscription(rooms: Rooms, pid: str) -> tuple[str, SubscribedTrack]:
    (session,) = [s for (_, p), s in rooms.sessions.items() if p == pid]
    ((transceiver, subscribed),) = [e for e in session.subscribed.values() if e[0].kind == "video"]
    assert transceiver.mid is not None
    return transceiver.mid, subscribed


@dataclass
class Watching:
    """A simulcast publisher and an aiortc viewer in one meeting on a real edge."""

    meeting_id: str
    rooms: Rooms
    publisher: SimulcastClient
    viewer: Client
    publisher_id: str
    viewer_id: str

    def viewer_size(self) -> tuple[int, int] | None:
        sizes = list(self.viewer.peer.frame_sizes.values())
        return sizes[0] if sizes else None

    async def on_the_full_layer(self) -> tuple[PublishedTrack, str, SubscribedTrack]:
        """Once the edge has learned every layer and its size from the packets and the viewer (nothing known about
        it) decodes the biggest: the simulcast track, the viewer's mid for it and its subscription."""
        group = _group(self.rooms, self.publisher_id)
        await eventually(lambda: {rid: (x.width, x.height) for rid, x in group.layers.items()} == SIZES, timeout=10)
        await self.sees(SIZES["f"], timeout=10)
        mid, subscribed = _subscription(self.rooms, self.viewer_id)
        return group, mid, subscribed

    def only_test_estimates(self) -> None:
        """From here the viewer reports only the estimates the test sends (aiortc's own REMB falls when its
        decoder is starved of CPU, which the edge rightly reads as congestion), and no earlier cap holds."""
        for transceiver in self.viewer.peer.pc.getTransceivers():
            setattr(transceiver.receiver, "_RTCRtpReceiver__remote_bitrate_estimator", None)  # noqa: B010
        self.rooms.sessions[(self.meeting_id, self.viewer_id)].budget.cap_bps = None

    async def sees(self, size: tuple[int, int], timeout: float) -> None:
        """The viewer decodes pictures of ``size`` and keeps doing so for 10 more frames."""
        await eventually(lambda: self.viewer_size() == size, timeout=timeout)
        before = self.viewer.peer.frames_received["video"]
        await eventually(lambda: self.viewer.peer.frames_received["video"] >= before + 10, timeout=5)
        assert self.viewer_size() == size  # it stays there


@asynccontextmanager
async def watching(server: RunningServer, world: World, clips: dict[str, EncodedClip]) -> AsyncIterator[Watching]:
    host, guest = await world.user(), await world.user()
    meeting = await world.meeting(host)
    tokens = []
    for person in (host, guest):
        _, data = await world.join(person, meeting)
        tokens.append(str(data["joinToken"]["token"]))
    async with rooms_edge(server) as (edge, rooms):
        publisher = SimulcastClient(await connect(edge.url), clips=clips)
        viewer: Client | None = None
        try:
            await publisher.start(tokens[0])
            publisher_id = next(p for (_, p) in rooms.sessions)
            viewer = Client(await connect(edge.url))
            await viewer.start(tokens[1])
            viewer_id = next(p for (_, p) in rooms.sessions if p != publisher_id)
            yield Watching(str(meeting["id"]), rooms, publisher, viewer, publisher_id, viewer_id)
        finally:
            if viewer is not None:
                await viewer.close()
            await publisher.close()


async def test_layers_are_learned_and_each_subscriber_gets_the_one_it_needs(
    server: RunningServer,
    world: World,
    codec_spy: CodecSpy,
) -> None:
    # The clips are encoded before any socket waits on them (the edge closes a socket that does not join in 5 s).
    async with watching(server, world, _clips()) as w:
        rooms, viewer, sees, viewer_size = w.rooms, w.viewer, w.sees, w.viewer_size
        # The answer accepted simulcast; the edge learned each layer's SSRC and size from its packets; nothing
        # known about the viewer: the biggest layer.
        group, mid, subscribed = await w.on_the_full_layer()
        assert group.forwarder is None  # the track has no stream of its own: each layer does
        assert subscribed.group is group and subscribed.source is group.layers["f"]
        w.only_test_estimates()
        session = rooms.sessions[(w.meeting_id, w.viewer_id)]

        # It shows the video at 320x180: the middle layer covers that.
        await viewer.ws.send(encode(VideoSize(mid=mid, width=320, height=180)))
        await sees(SIZES["h"], timeout=5)
        # Hidden (a tile on another gallery page): nothing at all is sent, not even the smallest layer.
        down_track = subscribed.down_track
        assert down_track is not None
        await viewer.ws.send(encode(VideoSize(mid=mid, width=0, height=0)))
        await eventually(lambda: subscribed.hidden, timeout=5)
        sent, frames = down_track.packets, viewer.peer.frames_received["video"]
        await asyncio.sleep(1.0)
        assert down_track.packets == sent
        assert viewer.peer.frames_received["video"] <= frames + 1  # at most a frame already in flight
        # Shown again, small: pictures come back from a key frame of the smallest layer.
        await viewer.ws.send(encode(VideoSize(mid=mid, width=160, height=90)))
        await sees(SIZES["q"], timeout=5)
        # Full screen: back to the biggest (after the selector's hold).
        await viewer.ws.send(encode(VideoSize(mid=mid, width=1920, height=1080)))
        await sees(SIZES["f"], timeout=8)

        # Congestion: the viewer's estimate falls below what it is sent; the edge steps down to a layer that
        # fits and does not go straight back up.
        layers = {info.rid: info.bitrate_bps for info in group.layer_infos}
        sending = layers["f"]
        assert sending > layers["h"] > layers["q"] > 0, layers
        remb_ssrc = subscribed.sender._ssrc
        transport = viewer.peer.pc.getTransceivers()[0].receiver.transport

        async def remb(bitrate: float) -> None:
            packet = RtcpPsfbPacket(
                fmt=RTCP_PSFB_APP, ssrc=1, media_ssrc=0, fci=pack_remb_fci(int(bitrate), [remb_ssrc])
            )
            await transport._send_rtp(bytes(packet))

        await remb(sending * 3)
        await eventually(lambda: (session.budget.last_estimate_bps or 0) > 2 * sending, timeout=5)  # a tick saw it
        await remb((layers["q"] + layers["h"]) / 2)
        await sees(SIZES["q"], timeout=5)
        # The cap holds for a while even though the estimate climbs again meanwhile.
        await remb(sending * 3)
        await asyncio.sleep(2.5)
        assert viewer_size() == SIZES["q"]
        assert session.budget.cap_bps is not None

        # No decoder or encoder ran at the edge; every packet of every layer was forwarded or counted.
        for session in rooms.sessions.values():
            for published in session.published.values():
                assert codec_spy.decoders_for(published.receiver) == 0
                assert published.not_forwarded == 0


async def test_a_simulcast_track_is_recorded_as_one_stream_of_its_best_layer(
    server: RunningServer, world: World
) -> None:
    host = await world.user()
    meeting = await world.meeting(host)
    _, data = await world.join(host, meeting)
    async with rooms_edge(server) as (edge, rooms):
        _clips()
        publisher = SimulcastClient(await connect(edge.url))
        try:
            await publisher.start(str(data["joinToken"]["token"]))
            (pid,) = [p for (_, p) in rooms.sessions]
            group = _group(rooms, pid)
            await eventually(lambda: len(group.layers) == 3, timeout=10)
            packets: list[bytes] = []
            group.record(packets.append)
            await eventually(lambda: len(packets) > 60, timeout=10)
            # The recording started on a key frame of the biggest layer, as one SSRC with no sequence gap.
            first = packets[0]
            assert vp8_keyframe_start(first, payload_offset(first))
            assert vp8_keyframe_size(first, payload_offset(first)) == SIZES["f"]

            def seqs() -> list[int]:
                return [struct.unpack_from("!H", p, 2)[0] for p in packets]

            assert all((b - a) & 0xFFFF == 1 for a, b in zip(seqs(), seqs()[1:], strict=False))
            assert len({p[8:12] for p in packets}) == 1
            # The biggest layer stops (a browser drops it under load): the recording continues on the next one
            # at a key frame, in the same stream.
            assert publisher.publisher is not None
            publisher.publisher.paused.add("f")
            count = len(packets)
            sizes: list[tuple[int, int]] = []

            def switched() -> bool:
                sizes.extend(s for p in packets[count:] if (s := vp8_keyframe_size(p, payload_offset(p))) is not None)
                return SIZES["h"] in sizes

            await eventually(switched, timeout=10)
            assert all((b - a) & 0xFFFF == 1 for a, b in zip(seqs(), seqs()[1:], strict=False))
            assert len({p[8:12] for p in packets}) == 1
            group.record(None)
            stopped = len(packets)
            await asyncio.sleep(0.3)
            assert len(packets) == stopped
        finally:
            await publisher.close()


async def test_h264_layers_are_measured_from_their_sps_and_switched_on_key_frames(
    server: RunningServer,
    world: World,
    codec_spy: CodecSpy,
) -> None:
    async with watching(server, world, _h264_clips()) as w:
        # Sizes come from each layer's sequence parameter set (180 and 90 are not multiples of 16: cropped).
        group, mid, subscribed = await w.on_the_full_layer()
        assert group.codec is not None and group.codec.mimeType.lower() == "video/h264"
        w.only_test_estimates()
        # A thumbnail: the quarter layer, from its next IDR picture (SPS and PPS with it: it decodes).
        await w.viewer.ws.send(encode(VideoSize(mid=mid, width=160, height=90)))
        await w.sees(SIZES["q"], timeout=5)
        assert subscribed.source is group.layers["q"]
        assert codec_spy.decoders_for(group.receiver) == 0
