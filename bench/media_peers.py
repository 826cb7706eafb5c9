"""Load-side peers for the media benchmark: a raw-RTP publisher and counting subscribers on real aiortc
peer connections (ICE on 127.0.0.1, DTLS-SRTP), cheap enough that the process under test gets the CPU.

The publisher writes its own RTP (VP8 payload descriptor of a key frame start, then the send time as
``CLOCK_MONOTONIC`` nanoseconds, then padding) straight into its SRTP transport: no encoder, no packetizer, any
rate. Subscribers count decrypted packets at their DTLS transport and read the stamp back; nothing is
jitter-buffered or decoded. Both use aiortc 1.16 private methods (``_send_rtp``, ``_handle_rtp_data``) on
instances only, as ``edge.rtp_hooks`` does; this is a benchmark harness, so that coupling is accepted.
"""

from __future__ import annotations

import asyncio
import math
import struct
import time
from dataclasses import dataclass, field

from aiortc import RTCPeerConnection, RTCRtpTransceiver, RTCSessionDescription

from edge.codecs import prefer_codec
from edge.rtp_hooks import SubscribedTrack, tap_sender

VP8 = "video/VP8"
PACKET_SIZE = 1_100
"""Bytes per RTP packet (header included): a typical full video packet, as in the loopback UDP notes."""
_HEADER = struct.Struct("!BBHII")
_STAMP = struct.Struct("!Q")
# RFC 7741 section 4.2: S=1, PID=0 (start of partition 0), then a VP8 payload header with P=0 (key frame), so
# the edge's key-frame gate opens on any packet.
_VP8_KEYFRAME_START = bytes([0x10, 0x00])
STAMP_OFFSET = 12 + len(_VP8_KEYFRAME_START)
MAX_LATENCY_SAMPLES = 200_000
MAX_BURST = 256
"""Packets sent in one go before yielding, so subscribers in the same process get the loop in between."""


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (``nan`` for no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def rtp_packet(payload_type: int, seq: int, timestamp: int, ssrc: int, size: int = PACKET_SIZE) -> bytes:
    """One stamped VP8-looking RTP packet of ``size`` bytes."""
    header = _HEADER.pack(0x80, 0x80 | payload_type, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc)
    stamp = _STAMP.pack(time.monotonic_ns())
    return header + _VP8_KEYFRAME_START + stamp + bytes(size - STAMP_OFFSET - len(stamp))


def stamp_of(packet: bytes) -> int:
    """The send stamp of a packet built by :func:`rtp_packet` (after any CSRCs or header extension an
    intermediary added)."""
    offset = 12 + 4 * (packet[0] & 0x0F)
    if packet[0] & 0x10:
        offset += 4 + 4 * int.from_bytes(packet[offset + 2 : offset + 4], "big")
    return int(_STAMP.unpack_from(packet, offset + len(_VP8_KEYFRAME_START))[0])


@dataclass(eq=False)
class Sink:
    """Counts RTP packets arriving at one subscriber connection; records one-way latency while ``timing``."""

    packets: int = 0
    timing: bool = False
    latencies_ms: list[float] = field(default_factory=list)

    async def on_rtp(self, data: bytes, arrival_time_ms: int) -> None:
        self.packets += 1
        if self.timing and len(self.latencies_ms) < MAX_LATENCY_SAMPLES:
            self.latencies_ms.append((time.monotonic_ns() - stamp_of(data)) / 1e6)


async def negotiate(offerer: RTCPeerConnection, answerer: RTCPeerConnection) -> None:
    """Offer/answer between two peer connections living in this process."""
    await offerer.setLocalDescription(await offerer.createOffer())
    await answerer.setRemoteDescription(offerer.localDescription)
    await answerer.setLocalDescription(await answerer.createAnswer())
    await offerer.setRemoteDescription(answerer.localDescription)


@dataclass(eq=False)
class RawPublisher:
    """A send-only video peer whose RTP this process writes itself (see the module docstring)."""

    pc: RTCPeerConnection = field(default_factory=RTCPeerConnection)
    sent: int = 0
    _track: SubscribedTrack | None = None
    _seq: int = 0

    def __post_init__(self) -> None:
        transceiver = self.pc.addTransceiver("video", direction="sendonly")
        prefer_codec(transceiver, VP8)
        # tap_sender: the sender keeps no track (so aiortc never encodes) and learns the negotiated payload type.
        self._track = tap_sender(transceiver)

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def ready(self, timeout: float = 10.0) -> None:
        assert self._track is not None
        await asyncio.wait_for(self._track.ready.wait(), timeout)

    async def send_burst(self, count: int) -> None:
        track = self._track
        assert track is not None and track.codecs
        payload_type = track.codecs[0].payloadType
        assert payload_type is not None
        sender = track.sender
        transport = sender.transport
        ssrc = sender._ssrc
        for _ in range(count):
            self._seq += 1
            # 90 kHz clock: the timestamp follows real time, like a camera's.
            packet = rtp_packet(payload_type, self._seq, time.monotonic_ns() * 9 // 100_000, ssrc)
            await transport._send_rtp(packet)
            self.sent += 1

    async def close(self) -> None:
        await self.pc.close()


async def pace(publishers: list[RawPublisher], rate_pps: float, seconds: float, max_packets: int) -> None:
    """Each publisher sends ``rate_pps`` for ``seconds`` (at most ``max_packets`` each), in small bursts."""
    start = time.monotonic()
    base = [p.sent for p in publishers]
    while True:
        elapsed = time.monotonic() - start
        if elapsed >= seconds:
            return
        due = min(max_packets, int(rate_pps * elapsed))
        for publisher, before in zip(publishers, base, strict=True):
            backlog = due - (publisher.sent - before)
            if backlog > 0:
                await publisher.send_burst(min(backlog, MAX_BURST))
        await asyncio.sleep(0.001)


@dataclass(eq=False)
class CountingSubscriber:
    """A receive-side peer that answers an offer and counts (never decodes) what arrives."""

    pc: RTCPeerConnection = field(default_factory=RTCPeerConnection)
    sink: Sink = field(default_factory=Sink)

    async def answer(self, offer: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        transceivers: list[RTCRtpTransceiver] = self.pc.getTransceivers()
        # One BUNDLE transport carries every track: swallow its decrypted RTP before aiortc routes it.
        transport = transceivers[0].receiver.transport
        setattr(transport, "_handle_rtp_data", self.sink.on_rtp)  # noqa: B010 - instance patch, see docstring
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return str(self.pc.localDescription.sdp)

    async def close(self) -> None:
        await self.pc.close()
