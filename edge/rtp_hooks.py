"""The only module that touches aiortc internals: packet-level forwarding between peer connections.

Targets aiortc 1.16.0 (checked at import). aiortc has no public API for forwarding encoded RTP, so this
module patches *instances* (never classes) at three points:

1. ``RTCRtpReceiver.receive`` (the peer connection calls it once DTLS is up): replaced so the receiver
   registers with its ``RTCDtlsTransport`` router but starts **no decoder thread**. Its
   ``_handle_rtp_packet`` becomes a drop counter, so nothing reaches the jitter buffer or a decoder.
2. ``RTCDtlsTransport._handle_rtp_data`` (called with each SRTP-decrypted RTP packet, as bytes): wrapped so
   packets whose SSRC belongs to a tapped receiver go straight to that track's :class:`Forwarder`, unparsed;
   other packets take aiortc's normal path.
3. ``RTCRtpSender.send`` (wrapped to learn the negotiated payload type and to register the sender for RTCP)
   and ``RTCRtpSender._handle_rtcp_packet`` (wrapped to catch PLI/FIR from the subscriber). The sender keeps
   no track, so its own RTP loop idles and never creates an encoder; rewritten packets go out through
   ``RTCDtlsTransport._send_rtp``, which SRTP-protects them with the subscriber's keys.

Install the taps after ``setRemoteDescription``/``addTransceiver`` (the transceiver exists) and before the
connection completes. The publisher's SDP must carry ``a=ssrc`` (aiortc and browsers do without simulcast).

Known gaps: the edge sends the publisher no RTCP RR (the receiver's statistics are bypassed); the idle sender
polls every 20 ms and emits its own RTCP SR with zero counts instead of translated ones; RTX, NACK, REMB,
simulcast and header extensions (audio level, abs-send-time) are not forwarded.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiortc
import pylibsrtp
from aiortc import RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpReceiveParameters, RTCRtpSendParameters
from aiortc.rtp import RTCP_PSFB_FIR, RTCP_PSFB_PLI, AnyRtcpPacket, RtcpPsfbPacket, RtpPacket

from edge.forwarder import DownTrack, Forwarder, build_pli, vp8_keyframe_start

AIORTC_VERSION = "1.16.0"
if aiortc.__version__ != AIORTC_VERSION:  # the internals patched here change between releases
    raise ImportError(f"edge.rtp_hooks targets aiortc {AIORTC_VERSION} (got {aiortc.__version__})")

_TAPS_ATTR = "_meetmesh_rtp_taps"
# Codecs whose key frames the forwarder can spot; other codecs are forwarded from the first packet.
_KEYFRAME_START: dict[str, Callable[[bytes, int], bool]] = {"video/vp8": vp8_keyframe_start}


class TrackLinkError(ValueError):
    """A published track cannot be forwarded to this subscriber (e.g. no common codec)."""


@dataclass(eq=False)
class PublishedTrack:
    """An edge-side receiver whose RTP is forwarded instead of decoded."""

    receiver: RTCRtpReceiver
    rtcp_ssrc: int
    """SSRC the edge uses in RTCP it sends to the publisher (the transceiver's sender SSRC, as aiortc does)."""
    forwarder: Forwarder | None = None
    codec: RTCRtpCodecParameters | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    not_forwarded: int = 0
    """Packets that took aiortc's normal path to this receiver (e.g. RTX) and were dropped."""
    keyframe_requests_sent: int = 0
    send_failures: int = 0
    """Rewritten packets SRTP refused to protect (too old for its replay window), dropped."""
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def request_keyframe(self) -> None:
        """Send an RTCP PLI to the publisher (RFC 4585 section 6.3.1), throttled, without blocking the caller."""
        if self.forwarder is None or not self.forwarder.request_keyframe(time.monotonic()):
            return
        packet = build_pli(self.rtcp_ssrc, self.forwarder.source_ssrc)
        task = asyncio.ensure_future(_send_quietly(self.receiver.transport, packet))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self.keyframe_requests_sent += 1


@dataclass(eq=False)
class SubscribedTrack:
    """An edge-side sender that carries forwarded RTP to one subscriber."""

    sender: RTCRtpSender
    codecs: list[RTCRtpCodecParameters] = field(default_factory=list)
    down_track: DownTrack | None = None
    source: PublishedTrack | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    keyframe_requests_received: int = 0


async def _send_quietly(transport: RTCDtlsTransport, data: bytes) -> None:
    try:
        await transport._send_rtp(data)
    except ConnectionError:
        pass  # the peer left; its connection's own teardown reports that


def _transport_taps(transport: RTCDtlsTransport) -> dict[int, PublishedTrack]:
    taps: dict[int, PublishedTrack] | None = getattr(transport, _TAPS_ATTR, None)
    if taps is not None:
        return taps
    taps = {}
    setattr(transport, _TAPS_ATTR, taps)
    original: Callable[[bytes, int], Awaitable[None]] = transport._handle_rtp_data

    async def handle_rtp_data(data: bytes, arrival_time_ms: int) -> None:
        published = taps.get(int.from_bytes(data[8:12], "big")) if len(data) >= 12 else None
        if published is None or published.forwarder is None:
            await original(data, arrival_time_ms)
            return
        for down_track, packet in published.forwarder.forward(data, time.monotonic()):
            sink: RTCDtlsTransport = down_track.sink  # type: ignore[assignment]
            try:
                await sink._send_rtp(packet)
            except ConnectionError:
                pass  # that subscriber is gone; the others still get the packet
            except pylibsrtp.Error:
                # libsrtp refuses an index older than its 1024-packet window (a very late or replayed input
                # packet). Raising here would end the *publisher's* DTLS transport loop, so drop and count.
                published.send_failures += 1

    setattr(transport, "_handle_rtp_data", handle_rtp_data)  # noqa: B010 - instance patch, see module docstring
    return taps


def tap_receiver(transceiver: RTCRtpTransceiver) -> PublishedTrack:
    """Forward this transceiver's incoming RTP instead of decoding it (no decoder thread is started)."""
    receiver = transceiver.receiver
    published = PublishedTrack(receiver=receiver, rtcp_ssrc=transceiver.sender._ssrc)

    async def receive(parameters: RTCRtpReceiveParameters) -> None:
        if published.ready.is_set():
            return
        ssrcs = [encoding.ssrc for encoding in parameters.encodings if encoding.ssrc]
        if not ssrcs or not parameters.codecs:
            raise TrackLinkError(f"remote description gives no SSRC or codec for mid {parameters.muxId}")
        published.codec = parameters.codecs[0]
        published.forwarder = Forwarder(source_ssrc=ssrcs[0])
        transport = receiver.transport
        _transport_taps(transport)[ssrcs[0]] = published
        # Registered so RTCP (SR, BYE) and untapped packets (RTX) still find this receiver.
        transport._register_rtp_receiver(receiver, parameters)
        published.ready.set()

    async def handle_rtp_packet(packet: RtpPacket, arrival_time_ms: int) -> None:
        published.not_forwarded += 1

    setattr(receiver, "receive", receive)  # noqa: B010
    setattr(receiver, "_handle_rtp_packet", handle_rtp_packet)  # noqa: B010
    return published


def tap_sender(transceiver: RTCRtpTransceiver) -> SubscribedTrack:
    """Use this transceiver's sender (which must have no track) to carry forwarded RTP."""
    sender = transceiver.sender
    if sender.track is not None:
        raise TrackLinkError("a forwarding sender must not have a track (it would encode it)")
    subscribed = SubscribedTrack(sender=sender)
    original_send = sender.send
    original_rtcp: Callable[[AnyRtcpPacket], Awaitable[None]] = sender._handle_rtcp_packet

    async def send(parameters: RTCRtpSendParameters) -> None:
        if not subscribed.ready.is_set():
            subscribed.codecs = list(parameters.codecs)
        await original_send(parameters)
        subscribed.ready.set()

    async def handle_rtcp_packet(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
            # RFC 4585 section 6.3.1: the edge cannot make a keyframe; pass the request to the publisher.
            subscribed.keyframe_requests_received += 1
            if subscribed.source is not None:
                subscribed.source.request_keyframe()
            return
        await original_rtcp(packet)

    setattr(sender, "send", send)  # noqa: B010
    setattr(sender, "_handle_rtcp_packet", handle_rtcp_packet)  # noqa: B010
    return subscribed


def link(published: PublishedTrack, subscribed: SubscribedTrack, *, first_sequence: int | None = None) -> DownTrack:
    """Start forwarding ``published`` to ``subscribed`` (both ready). Moving a subscribed track to another
    source is a source switch: the subscriber's stream stays continuous. ``first_sequence`` (random by
    default, RFC 3550 section 5.1) fixes the subscriber's first sequence number, for tests."""
    if published.forwarder is None or published.codec is None or not subscribed.ready.is_set():
        raise TrackLinkError("link() needs both tracks negotiated and connected")
    mime = published.codec.mimeType.lower()
    codec = next((c for c in subscribed.codecs if c.mimeType.lower() == mime), None)
    if codec is None or codec.payloadType is None:
        offered = ", ".join(c.mimeType for c in subscribed.codecs)
        raise TrackLinkError(f"subscriber did not negotiate {published.codec.mimeType} (got {offered})")
    down_track = subscribed.down_track
    if down_track is None:
        down_track = DownTrack(
            ssrc=subscribed.sender._ssrc,
            payload_type=codec.payloadType,
            clock_rate=codec.clockRate,
            first_sequence=random.getrandbits(16) if first_sequence is None else first_sequence,
            first_timestamp=random.getrandbits(32),
            sink=subscribed.sender.transport,
            keyframe_start=_KEYFRAME_START.get(mime),
        )
        subscribed.down_track = down_track
    else:
        down_track.payload_type = codec.payloadType
    if subscribed.source is not None and subscribed.source.forwarder is not None:
        subscribed.source.forwarder.unsubscribe(down_track)
    subscribed.source = published
    published.forwarder.subscribe(down_track)
    published.request_keyframe()
    return down_track
