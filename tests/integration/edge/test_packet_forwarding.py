"""Packet-level forwarding through real aiortc peer connections in one process (ICE on local host
candidates only, real DTLS-SRTP): publisher ⇄ edge A, edge B ⇄ subscriber, edge forwards A → B.

The "no transcoding" claim is checked with spies on aiortc's real ``get_decoder``/``get_encoder`` (they keep
their behaviour; calls are attributed to the receiver or sender that made them)."""

from __future__ import annotations

import asyncio
import struct
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import aiortc.rtcrtpreceiver
import aiortc.rtcrtpsender
import pytest
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender

from edge.codecs import prefer_codec
from edge.rtp_hooks import PublishedTrack, SubscribedTrack, link, tap_receiver, tap_sender
from edge.synthetic import EncodedClip, SyntheticParticipant, encode_opus_clip, encode_vp8_clip
from tests.support.gql import eventually

pytestmark = pytest.mark.timeout(30)


@dataclass
class CodecSpy:
    """Which receivers created a decoder, which senders an encoder (real aiortc functions, wrapped)."""

    decoder_queues: list[object] = field(default_factory=list)
    decoder_threads: list[threading.Thread] = field(default_factory=list)
    encoder_senders: list[object] = field(default_factory=list)

    def decoders_for(self, receiver: RTCRtpReceiver) -> int:
        queue = receiver.track._queue  # type: ignore[attr-defined]
        return sum(1 for q in self.decoder_queues if q is queue)

    def encoders_for(self, sender: RTCRtpSender) -> int:
        return sum(1 for s in self.encoder_senders if s is sender)


@pytest.fixture
def codec_spy() -> Any:
    spy = CodecSpy()
    real_get_decoder = getattr(aiortc.rtcrtpreceiver, "get_decoder")  # noqa: B009 - not re-exported
    real_get_encoder = getattr(aiortc.rtcrtpsender, "get_encoder")  # noqa: B009 - not re-exported

    def get_decoder(codec: Any) -> Any:
        # Called from aiortc's decoder_worker, whose `output_q` is the receiver's track queue.
        spy.decoder_queues.append(sys._getframe(1).f_locals.get("output_q"))
        spy.decoder_threads.append(threading.current_thread())
        return real_get_decoder(codec)

    def get_encoder(codec: Any) -> Any:
        # Called from RTCRtpSender._next_encoded_frame: `self` is the sender.
        spy.encoder_senders.append(sys._getframe(1).f_locals.get("self"))
        return real_get_encoder(codec)

    with (
        mock.patch.object(aiortc.rtcrtpreceiver, "get_decoder", get_decoder),
        mock.patch.object(aiortc.rtcrtpsender, "get_encoder", get_encoder),
    ):
        yield spy


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
async def forwarded_call(clip: EncodedClip) -> AsyncIterator[Call]:
    """Publisher ⇄ edge A and edge B ⇄ subscriber, connected, with A's track linked to B's sender."""
    publisher = SyntheticParticipant()
    publisher_sender = publisher.publish(clip)
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
