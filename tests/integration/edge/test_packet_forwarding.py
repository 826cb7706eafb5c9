"""Packet-level forwarding through real aiortc peer connections in one process (ICE on local host
candidates only, real DTLS-SRTP): publisher ⇄ edge A, edge B ⇄ subscriber, edge forwards A → B.

The "no transcoding" claim is checked with spies on aiortc's real ``get_decoder``/``get_encoder`` (they keep
their behaviour; calls are attributed to the receiver or sender that made them)."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import pytest
from aioice.ice import CandidatePair
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, RtcpSrPacket, unpack_remb_fci

from edge.codecs import prefer_codec
from edge.rtp_hooks import PUBLISH_FLOOR_BPS, PublishedTrack, SubscribedTrack, link, tap_receiver, tap_sender
from edge.synthetic import EncodedClip, SyntheticParticipant, encode_h264_clip, encode_opus_clip, encode_vp8_clip
from sfu.audio_level import AUDIO_LEVEL_URI
from sfu.forwarder import payload_offset
from sfu.h264 import h264_keyframe_start
from sfu.rtcp import SendHistory
from sfu.vp8 import vp8_keyframe_start
from tests.support.gql import eventually
from tests.support.media import CodecSpy, ToneTrack

pytestmark = pytest.mark.timeout(30)


async def _negotiate(
    offerer: RTCPeerConnection, answerer: RTCPeerConnection, before_answer: Callable[[], None]
) -> None:
    await offerer.setLocalDescription(await offerer.createOffer())
    await answerer.setRemoteDescription(offerer.localDescription)
    before_answer()
    await answerer.setLocalDescription(await answerer.createAnswer())
    await offerer.setRemoteDescription(answerer.localDescription)


@dataclass
class Call:
    publisher: SyntheticParticipant
    subscriber: SyntheticParticipant
    edge_a: RTCPeerConnection
    edge_b: RTCPeerConnection
    published: PublishedTrack
    subscribed: SubscribedTrack
    publisher_sender: RTCRtpSender


@asynccontextmanager
async def forwarded_call(
    clip: EncodedClip, *, track: MediaStreamTrack | None = None, rtx: bool = False
) -> AsyncIterator[Call]:
    """Publisher ⇄ edge A and edge B ⇄ subscriber, connected, with A's track linked to B's sender. ``track``
    replaces the clip with a live track the publisher encodes (its kind and codec still come from ``clip``);
    ``rtx`` negotiates RTX (RFC 4588) between edge B and the subscriber."""
    publisher = SyntheticParticipant()
    if track is None:
        publisher_sender = publisher.publish(clip)
    else:
        publisher_transceiver = publisher.pc.addTransceiver(track, direction="sendonly")
        prefer_codec(publisher_transceiver, clip.mime_type)
        publisher_sender = publisher_transceiver.sender
    subscriber = SyntheticParticipant()
    edge_a = RTCPeerConnection()
    edge_b = RTCPeerConnection()
    taps: dict[str, Any] = {}

    def tap_a() -> None:
        (transceiver,) = edge_a.getTransceivers()
        taps["published"] = tap_receiver(transceiver)

    try:
        # Publisher offers to edge A; the edge taps A's receiver before the connection comes up.
        await _negotiate(publisher.pc, edge_a, tap_a)
        # Edge B offers a send-only track with no MediaStreamTrack behind it.
        transceiver_b = edge_b.addTransceiver(clip.kind, direction="sendonly")
        prefer_codec(transceiver_b, clip.mime_type)
        if rtx:
            capabilities = RTCRtpSender.getCapabilities(clip.kind).codecs
            transceiver_b.setCodecPreferences(
                [c for c in capabilities if c.mimeType.lower() in (clip.mime_type.lower(), f"{clip.kind}/rtx")]
            )
        taps["subscribed"] = tap_sender(transceiver_b)
        await _negotiate(edge_b, subscriber.pc, lambda: None)

        published: PublishedTrack = taps["published"]
        subscribed: SubscribedTrack = taps["subscribed"]
        await asyncio.wait_for(asyncio.gather(published.ready.wait(), subscribed.ready.wait()), 10)
        link(published, subscribed, first_sequence=10_000)  # fixed, so a test can reason about SRTP's window
        yield Call(publisher, subscriber, edge_a, edge_b, published, subscribed, publisher_sender)
    finally:
        await asyncio.gather(publisher.close(), subscriber.close(), edge_a.close(), edge_b.close())


@pytest.fixture
async def call(codec_spy: CodecSpy) -> AsyncIterator[Call]:
    async with forwarded_call(encode_vp8_clip(frames=30, fps=15, gop=15)) as started:
        yield started


def assert_edge_neither_decoded_nor_encoded(call: Call, codec_spy: CodecSpy) -> None:
    # The subscriber decoded (it is the client): that proves the spy sees real decoders.
    (sub_receiver,) = [t.receiver for t in call.subscriber.pc.getTransceivers()]
    assert codec_spy.decoders_for(sub_receiver) == 1
    # The edge did not: no decoder for A's receiver, no decoder thread at all, no encoder for B's sender.
    edge_a_receiver = call.published.receiver
    assert codec_spy.decoders_for(edge_a_receiver) == 0
    assert edge_a_receiver._RTCRtpReceiver__decoder_thread is None  # type: ignore[attr-defined]
    assert len(codec_spy.decoder_queues) == 1
    assert codec_spy.encoders_for(call.subscribed.sender) == 0
    # The only encoder lookup is the publisher's packetizer (it sends pre-encoded av.Packet frames).
    assert codec_spy.encoder_senders == [call.publisher_sender]
    assert call.published.not_forwarded == 0

    # What the subscriber received carries edge B's SSRC, not the publisher's.
    ssrcs = {s.source for s in sub_receiver.getSynchronizationSources()}
    assert ssrcs == {call.subscribed.sender._ssrc}


async def test_forwards_vp8_without_decoding_or_encoding_at_the_edge(call: Call, codec_spy: CodecSpy) -> None:
    await eventually(lambda: call.subscriber.frames_received["video"] >= 5, timeout=10)
    first = call.subscriber.frames_received["video"]
    await eventually(lambda: call.subscriber.frames_received["video"] >= first + 5, timeout=5)

    forwarder = call.published.forwarder
    assert forwarder is not None and call.subscribed.down_track is not None
    assert forwarder.packets_in > 0
    down_track = call.subscribed.down_track
    # Everything since link() went out (minus what was held back until the first key frame).
    assert 0 < down_track.packets <= forwarder.packets_in
    assert_edge_neither_decoded_nor_encoded(call, codec_spy)


async def test_forwards_h264_from_a_key_frame_without_decoding_or_encoding_at_the_edge(codec_spy: CodecSpy) -> None:
    # A GOP of 30 frames at 15 fps: linked mid-GOP, the subscriber would get undecodable P slices for up to 2 s
    # if the edge did not hold them back until the SPS + IDR its PLI asks for.
    async with forwarded_call(encode_h264_clip(frames=60, fps=15, gop=30)) as call:
        await eventually(lambda: call.subscriber.frames_received["video"] >= 5, timeout=10)
        down_track = call.subscribed.down_track
        assert down_track is not None and down_track.keyframe_start is h264_keyframe_start
        first = down_track.history.get(10_000) if isinstance(down_track.history, SendHistory) else None
        assert first is not None and h264_keyframe_start(first, payload_offset(first))
        assert_edge_neither_decoded_nor_encoded(call, codec_spy)


async def test_forwards_opus_without_decoding_or_encoding_at_the_edge(codec_spy: CodecSpy) -> None:
    async with forwarded_call(encode_opus_clip(frames=50)) as call:
        await eventually(lambda: call.subscriber.frames_received["audio"] >= 10, timeout=10)
        first = call.subscriber.frames_received["audio"]
        await eventually(lambda: call.subscriber.frames_received["audio"] >= first + 10, timeout=5)
        down_track = call.subscribed.down_track
        assert down_track is not None and down_track.keyframe_start is None and down_track.clock_rate == 48_000
        assert down_track.packets > 0
        assert_edge_neither_decoded_nor_encoded(call, codec_spy)


async def test_keyframe_request_from_subscriber_reaches_publisher(call: Call) -> None:
    await eventually(lambda: call.subscriber.frames_received["video"] >= 1, timeout=10)
    with mock.patch.object(
        call.publisher_sender, "_send_keyframe", wraps=call.publisher_sender._send_keyframe
    ) as keyframe_requested:
        (sub_receiver,) = [t.receiver for t in call.subscriber.pc.getTransceivers()]
        before = call.subscribed.keyframe_requests_received

        async def subscriber_asks_for_keyframe() -> bool:
            # The subscriber's own RTCP path: a PLI for the SSRC it receives (RFC 4585 section 6.3.1),
            # repeated as a client does until a key frame comes (the edge throttles what it passes on).
            await sub_receiver._send_rtcp_pli(call.subscribed.sender._ssrc)
            return keyframe_requested.call_count >= 1

        await eventually(subscriber_asks_for_keyframe, timeout=5, interval=0.2)
        assert call.subscribed.keyframe_requests_received > before


async def test_very_late_packet_from_publisher_is_dropped_without_breaking_the_call(call: Call) -> None:
    await eventually(lambda: call.subscriber.frames_received["video"] >= 3, timeout=10)
    down_track = call.subscribed.down_track
    forwarder = call.published.forwarder
    assert down_track is not None and forwarder is not None
    # A packet 2,000 behind the last one forwarded (replayed or very late): libsrtp refuses to protect an
    # index older than its replay window. That must not end the publisher's transport (the caller's loop).
    late_seq = (down_track._last_seq - down_track._seq_offset - 2000) & 0xFFFF
    late = struct.pack("!BBHII", 0x80, 96, late_seq, 0, forwarder.source_ssrc) + bytes([0x10, 0x01, 0, 0])
    transport = call.published.receiver.transport
    await transport._handle_rtp_data(late, arrival_time_ms=0)
    assert call.published.send_failures == 1
    before = call.subscriber.frames_received["video"]
    await eventually(lambda: call.subscriber.frames_received["video"] >= before + 3, timeout=5)
    assert transport.state == "connected"


async def test_audio_level_extension_is_negotiated_and_read_from_forwarded_packets(codec_spy: CodecSpy) -> None:
    levels: list[tuple[int, bool]] = []
    async with forwarded_call(encode_opus_clip(frames=5), track=ToneTrack(amplitude=0.5)) as call:
        # aiortc offers the extension; the edge answered it and reads its negotiated id.
        assert call.published.audio_level_id is not None
        assert f"a=extmap:{call.published.audio_level_id} {AUDIO_LEVEL_URI}" in call.edge_a.localDescription.sdp
        call.published.on_audio_level = lambda level, voice: levels.append((level, voice))
        await eventually(lambda: len(levels) >= 20, timeout=10)
        # A full-scale-0.5 sine has an RMS of -9 dBov (RFC 6465 appendix A); aiortc sets no voice flag.
        assert {level for level, _ in levels[5:]} <= {8, 9, 10}
        assert not any(voice for _, voice in levels)
        assert call.published.audio_level in (8, 9, 10)
        # Levels are read in the tap: still no decoder or encoder at the edge.
        await eventually(lambda: call.subscriber.frames_received["audio"] >= 5, timeout=10)
        assert codec_spy.decoders_for(call.published.receiver) == 0
        assert codec_spy.encoders_for(call.subscribed.sender) == 0


async def test_paused_video_stops_then_resumes_at_a_key_frame_without_a_sequence_gap(call: Call) -> None:
    await eventually(lambda: call.subscriber.frames_received["video"] >= 3, timeout=10)
    forwarder, down_track = call.published.forwarder, call.subscribed.down_track
    assert forwarder is not None and down_track is not None
    forwarder.paused = True
    await asyncio.sleep(0.2)  # packets in flight arrive
    frames, sent = call.subscriber.frames_received["video"], down_track.packets
    last_seq = down_track.last_sent[0]
    await eventually(lambda: forwarder.paused_drops >= 10, timeout=5)
    assert down_track.packets == sent and call.subscriber.frames_received["video"] == frames
    requests = call.published.keyframe_requests_sent
    nacks = call.subscribed.nacks_received

    forwarder.paused = False
    await eventually(lambda: call.subscriber.frames_received["video"] >= frames + 5, timeout=10)
    assert call.published.keyframe_requests_sent > requests  # the edge asked the publisher for a key frame
    # The first packet after the pause followed the last one before it: the subscriber saw no hole to NACK.
    assert down_track.history is not None
    first_after = down_track.history.get((last_seq + 1) & 0xFFFF)  # type: ignore[attr-defined]
    assert first_after is not None and vp8_keyframe_start(first_after, payload_offset(first_after))
    assert call.subscribed.nacks_received == nacks


@dataclass
class LossySink:
    """Stands between a down track and its real send path: drops each chosen sequence number the first time
    it is sent (real packets, real peers; the edge's retransmission goes through the same path)."""

    inner: Any
    media_ssrc: int
    drop_every: int
    dropped: set[int] = field(default_factory=set)
    retransmissions: int = 0
    """Packets sent again: RTX (another SSRC) or a dropped sequence number sent a second time."""

    def send(self, packet: bytes) -> None:
        seq, ssrc = struct.unpack_from("!H4xI", packet, 2)
        media = ssrc == self.media_ssrc
        if media and seq % self.drop_every == 0 and seq not in self.dropped:
            self.dropped.add(seq)
            return
        if not media or seq in self.dropped:
            self.retransmissions += 1
        self.inner.send(packet)


@pytest.mark.parametrize("rtx", [False, True], ids=["plain", "rtx"])
async def test_subscriber_nacks_are_answered_from_the_edge_history(codec_spy: CodecSpy, rtx: bool) -> None:
    async with forwarded_call(encode_vp8_clip(frames=30, fps=15, gop=15), rtx=rtx) as call:
        down_track = call.subscribed.down_track
        assert down_track is not None
        assert (call.subscribed.rtx_payload_type is not None) is rtx
        await eventually(lambda: call.subscriber.frames_received["video"] >= 3, timeout=10)
        lossy = LossySink(inner=down_track.sink, drop_every=7, media_ssrc=down_track.ssrc)
        down_track.sink = lossy
        frames = call.subscriber.frames_received["video"]
        plis = call.subscribed.keyframe_requests_received
        await eventually(lambda: len(lossy.dropped) >= 10, timeout=10)
        # The subscriber's own aiortc receiver saw the holes, NACKed them, and the edge resent each from history.
        await eventually(lambda: call.subscribed.retransmitted >= len(lossy.dropped) - 1, timeout=5)
        assert call.subscribed.nacks_received >= 1
        assert lossy.retransmissions >= 9
        await eventually(lambda: call.subscriber.frames_received["video"] >= frames + 15, timeout=10)
        # Recovered by retransmission, not by key frames: no PLI storm (at most one racing a late resend).
        assert call.subscribed.keyframe_requests_received - plis <= 1
        assert codec_spy.encoders_for(call.subscribed.sender) == 0


async def test_subscriber_gets_translated_sender_reports_and_its_reports_feed_the_estimate(call: Call) -> None:
    (sub_receiver,) = [t.receiver for t in call.subscriber.pc.getTransceivers()]
    # Each SR with the publisher's pair the edge held when it arrived: a publisher SR arriving later moves the
    # pair, and aiortc's pairs are not exactly collinear (its RTP timestamp is the last frame's), so comparing an
    # older SR with a newer pair would be off by up to a frame.
    reports: list[tuple[RtcpSrPacket, tuple[int, int] | None]] = []
    original = sub_receiver._handle_rtcp_packet

    async def capture(packet: Any) -> None:
        if isinstance(packet, RtcpSrPacket):
            reports.append((packet, call.published.clock.reported if call.published.clock is not None else None))
        await original(packet)

    sub_receiver._handle_rtcp_packet = capture  # type: ignore[method-assign]
    published, subscribed = call.published, call.subscribed
    assert published.clock is not None and subscribed.down_track is not None
    # aiortc's publisher sends an SR every 0.5-1.5 s; the edge's next SR to the subscriber is translated from it.
    await eventually(lambda: published.clock is not None and published.clock.known, timeout=5)
    await eventually(lambda: len(reports) >= 2, timeout=6)
    sr, pair = reports[-1]
    assert pair is not None
    down_track = subscribed.down_track
    assert sr.ssrc == subscribed.sender._ssrc
    assert 0 < sr.sender_info.packet_count <= down_track.packets
    assert 0 < sr.sender_info.octet_count <= down_track.octets
    # RFC 3550 section 6.4.1: the (NTP, RTP) pair is the publisher's mapping, the RTP timestamp moved by the
    # down track's offset: extrapolating the publisher's own SR to the edge's NTP time gives the same timestamp.
    pub_ntp, pub_rtp = pair
    elapsed = (sr.sender_info.ntp_timestamp - pub_ntp) / 2**32
    expected = down_track.timestamp_out(round(pub_rtp + elapsed * down_track.clock_rate))
    assert abs(((sr.sender_info.rtp_timestamp - expected + 2**31) % 2**32) - 2**31) <= 2
    # The subscriber's receiver reports (aiortc sends them with LSR/DLSR) reach the estimate with an RTT, and
    # its REMB (estimated from the abs-send-time the edge stamps on each packet) gives the bitrate.
    await eventually(lambda: subscribed.estimate.rtt_s is not None, timeout=6)
    assert subscribed.estimate.reports >= 1 and 0 <= subscribed.estimate.rtt_s < 0.5  # type: ignore[operator]
    assert subscribed.estimate.fraction_lost == 0
    assert subscribed.abs_send_time_id is not None and down_track.abs_send_time_id == subscribed.abs_send_time_id
    await eventually(lambda: subscribed.estimate.remb_bps is not None, timeout=6)
    assert subscribed.estimate.bitrate_bps == subscribed.estimate.remb_bps > 0


async def test_publisher_gets_receiver_reports_from_the_edge(call: Call) -> None:
    # aiortc's publisher-side sender handles the RR: its remote-inbound-rtp stats and RTT come from the edge.
    await eventually(lambda: call.published.receiver_reports_sent >= 2, timeout=6)

    async def publisher_saw_report() -> bool:
        stats = await call.publisher_sender.getStats()
        remote = [s for s in stats.values() if s.type == "remote-inbound-rtp"]
        return bool(remote) and remote[0].packetsLost == 0 and remote[0].roundTripTime is not None

    await eventually(publisher_saw_report, timeout=6, interval=0.2)


async def test_send_path_follows_a_new_ice_pair_and_stops_cleanly_without_one(call: Call) -> None:
    await eventually(lambda: call.subscriber.frames_received["video"] >= 2, timeout=10)
    down_track = call.subscribed.down_track
    assert down_track is not None
    sink = down_track.sink
    connection = call.subscribed.sender.transport.transport._connection
    old_pair = connection._nominated[1]
    # aioice nominates a new pair (same sockets here: what matters is that the edge notices the change).
    new_pair = CandidatePair(old_pair.protocol, old_pair.remote_candidate)
    connection._nominated[1] = new_pair
    frames = call.subscriber.frames_received["video"]
    await eventually(lambda: call.subscriber.frames_received["video"] >= frames + 3, timeout=5)
    assert sink._pair is new_pair
    # Consent lost / closing: aioice drops its nominated pairs. Forwarding goes on without raising; packets
    # for that subscriber are counted as unsent.
    connection._nominated.clear()
    unsent, sent = sink.unsent, sink.sent
    forwarder = call.published.forwarder
    assert forwarder is not None
    packets_in = forwarder.packets_in
    await eventually(lambda: sink.unsent >= unsent + 5, timeout=5)
    assert sink.sent == sent
    assert forwarder.packets_in > packets_in  # the publisher's stream is still forwarded (to whoever can take it)
    # Not restored: aioice empties its nominated pairs only when the connection is closing (consent expired,
    # close()), and then the next receive ends the DTLS transport for good; a peer comes back by joining again.


async def test_the_publisher_is_asked_for_what_its_slowest_subscriber_can_take(call: Call) -> None:
    """REMB toward the publisher: the ceiling until a subscriber reports, then the subscriber's own estimate
    (the real REMB aiortc's receiver sends from abs-send-time), never below the floor."""
    seen: list[int] = []
    sender = call.publisher_sender
    original = sender._handle_rtcp_packet

    async def handle(packet: Any) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            bitrate, ssrcs = unpack_remb_fci(packet.fci)
            if sender._ssrc in ssrcs:
                seen.append(bitrate)
        await original(packet)

    sender._handle_rtcp_packet = handle  # type: ignore[method-assign]
    published = call.published
    await eventually(lambda: call.subscribed.estimate.remb_bps is not None, timeout=10)
    reported = call.subscribed.estimate.bitrate_bps
    assert reported is not None and reported < published.publish_ceiling_bps
    before = len(seen)
    await eventually(lambda: len(seen) >= before + 2, timeout=6)
    # Between two of our REMBs the subscriber may have reported again: compare with its range of estimates.
    latest = seen[-1]
    expected = max(PUBLISH_FLOOR_BPS, call.subscribed.estimate.bitrate_bps or published.publish_ceiling_bps)
    assert PUBLISH_FLOOR_BPS <= latest < published.publish_ceiling_bps
    assert abs(latest - expected) <= 0.5 * expected, (seen, expected)
    assert published.rembs_sent >= 2
    # An audio track is never sent a REMB.
    async with forwarded_call(encode_opus_clip(frames=50)) as audio:
        await eventually(lambda: audio.subscriber.frames_received["audio"] >= 5, timeout=10)
        assert audio.published.remb_bps() is None and audio.published.rembs_sent == 0
