"""Load-side peers for the media benchmark: a raw-RTP publisher (the generator, in a process of its own) and
counting subscribers on real aiortc peer connections (ICE on 127.0.0.1, DTLS-SRTP).

The publisher writes its own RTP (VP8 payload descriptor of a key frame start, then the send time as
``CLOCK_MONOTONIC`` nanoseconds, then padding): no encoder, no packetizer, any rate. For a throughput window the
generator builds and SRTP-protects every packet *before* the window starts (:meth:`RawPublisher.prepare`) and
then only paces ``socket.sendto`` calls on the connection's own ICE socket, so its CPU per packet is one syscall
(reported: ``LoadGenerator.run`` returns its CPU time). Subscribers count RTP datagrams in the socket callback
(no decryption, no aiortc receive path) and decrypt only while measuring latency. Both use aiortc 1.16 / aioice
private attributes on instances only, as ``edge.rtp_hooks`` does; this is a benchmark harness, so that coupling
is accepted.
"""

from __future__ import annotations

import asyncio
import math
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any

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
"""Packets sent in one go before yielding (on-the-fly sends), so other peers in the process get the loop."""
TICK_S = 0.0005
"""The generator's pacing step: it sends what is due, then sleeps this long (bursts of a few packets)."""
_RTP_COMPONENT = 1
SOCKET_BUFFER_BYTES = 4 * 1024 * 1024


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


def is_rtp(data: bytes) -> bool:
    """An RTP (not RTCP) datagram: first byte 128..191 (RFC 7983 section 7), payload type outside 192..223 with
    the marker bit (RFC 5761 section 4)."""
    return len(data) >= 12 and 127 < data[0] < 192 and not 191 < data[1] < 224


@dataclass(eq=False)
class Sink:
    """Counts RTP datagrams arriving at one subscriber connection; records one-way latency while ``timing``."""

    packets: int = 0
    timing: bool = False
    latencies_ms: list[float] = field(default_factory=list)

    def on_rtp(self, plain: bytes) -> None:
        if len(self.latencies_ms) < MAX_LATENCY_SAMPLES:
            self.latencies_ms.append((time.monotonic_ns() - stamp_of(plain)) / 1e6)


async def negotiate(offerer: RTCPeerConnection, answerer: RTCPeerConnection) -> None:
    """Offer/answer between two peer connections living in this process."""
    await offerer.setLocalDescription(await offerer.createOffer())
    await answerer.setRemoteDescription(offerer.localDescription)
    await answerer.setLocalDescription(await answerer.createAnswer())
    await offerer.setRemoteDescription(answerer.localDescription)


@dataclass(eq=False)
class Prepared:
    """One publisher's packets for a window, built and protected in advance, and where they go."""

    sock: socket.socket
    addr: Any
    packets: list[bytes]
    next: int = 0
    refused: int = 0
    """``sendto`` raised (socket buffer full): not offered, not counted as sent."""


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

    def _next_packet(self) -> bytes:
        track = self._track
        assert track is not None and track.codecs
        payload_type = track.codecs[0].payloadType
        assert payload_type is not None
        self._seq += 1
        # 90 kHz clock: the timestamp follows real time, like a camera's.
        return rtp_packet(payload_type, self._seq, time.monotonic_ns() * 9 // 100_000, track.sender._ssrc)

    async def send_burst(self, count: int) -> None:
        """Build, protect and send ``count`` packets now through aiortc (stamped at send time)."""
        assert self._track is not None
        transport = self._track.sender.transport
        for _ in range(count):
            await transport._send_rtp(self._next_packet())
            self.sent += 1

    def prepare(self, count: int) -> Prepared:
        """``count`` packets SRTP-protected now, to be sent later on the connection's nominated ICE socket (the
        5-tuple the forwarder expects). Their stamps are build times: no latency is read from them."""
        assert self._track is not None
        dtls = self._track.sender.transport
        pair = dtls.transport._connection._nominated.get(_RTP_COMPONENT)
        srtp = dtls._tx_srtp
        if pair is None or srtp is None or pair.protocol.transport is None:
            raise ConnectionError("publisher not connected")
        protect = srtp.protect
        packets = [protect(self._next_packet()) for _ in range(count)]
        return Prepared(pair.protocol.transport._sock, pair.remote_addr, packets)

    async def close(self) -> None:
        await self.pc.close()


async def pace(publishers: list[RawPublisher], rate_pps: float, seconds: float, max_packets: int) -> None:
    """Each publisher sends ``rate_pps`` for ``seconds`` (at most ``max_packets`` each), in small bursts, building
    each packet when it is sent (for latency: the stamp is the send time)."""
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


async def send_prepared(streams: list[Prepared], rate_pps: float, seconds: float) -> None:
    """Send each stream's prepared packets at ``rate_pps`` for ``seconds``: every tick, what is due, with plain
    ``sendto`` calls (the packets already exist: the generator's per-packet cost is the syscall)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while True:
        elapsed = loop.time() - start
        for stream in streams:
            due = min(len(stream.packets), int(rate_pps * min(elapsed, seconds)))
            sendto, addr, packets = stream.sock.sendto, stream.addr, stream.packets
            for index in range(stream.next, due):
                try:
                    sendto(packets[index], addr)
                except (BlockingIOError, InterruptedError):
                    stream.refused += 1
            stream.next = max(stream.next, due)
        if elapsed >= seconds:
            return
        await asyncio.sleep(TICK_S)


@dataclass(eq=False)
class CountingSubscriber:
    """A receive-side peer that answers an offer and counts (never decodes) what arrives: every RTP datagram on
    its ICE sockets is counted in the socket callback and never reaches aiortc (RTCP, STUN and DTLS still do)."""

    pc: RTCPeerConnection = field(default_factory=RTCPeerConnection)
    sink: Sink = field(default_factory=Sink)

    async def answer(self, offer: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        transceivers: list[RTCRtpTransceiver] = self.pc.getTransceivers()
        # One BUNDLE transport carries every track; its ICE sockets exist once the answer is set (gathered).
        self._count_at_socket(transceivers[0].receiver.transport)
        return str(self.pc.localDescription.sdp)

    def _count_at_socket(self, dtls: Any) -> None:
        sink = self.sink
        for protocol in dtls.transport._connection._protocols:
            original = protocol.datagram_received

            def datagram_received(data: bytes, addr: Any, original: Any = original) -> None:
                if len(data) >= 12 and 127 < data[0] < 192 and not 191 < data[1] < 224:
                    sink.packets += 1
                    if sink.timing and dtls._rx_srtp is not None:
                        sink.on_rtp(dtls._rx_srtp.unprotect(data))
                    return
                original(data, addr)

            setattr(protocol, "datagram_received", datagram_received)  # noqa: B010 - instance patch, see docstring
            # The load side must not be where packets are lost: a large buffer (the default ~208 KB holds ~90
            # datagrams, overflowed whenever this process lost the CPU for a moment) and a reader that drains it.
            _drain(protocol.transport, datagram_received)

    async def close(self) -> None:
        await self.pc.close()


def _drain(transport: Any, datagram_received: Any) -> None:
    sock = transport._sock
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER_BYTES)
    recvfrom = sock.recvfrom

    def read_ready() -> None:
        for _ in range(256):
            if transport._conn_lost:
                return
            try:
                data, addr = recvfrom(4096)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                transport._protocol.error_received(exc)
                return
            datagram_received(data, addr)

    transport._loop._add_reader(transport._sock_fd, read_ready)


class LoadGenerator:
    """The publishers, hosted in a process of their own (``bench.media_forwarders`` runs it like a forwarder):
    offers and answers go through the parent; ``run`` sends a prepared window and returns what it cost."""

    def __init__(self) -> None:
        self.publishers: list[RawPublisher] = []
        self.prepared: list[Prepared] = []
        self.udp: list[socket.socket] = []

    async def offer(self) -> str:
        publisher = RawPublisher()
        self.publishers.append(publisher)
        return await publisher.offer()

    async def accept(self, index: int, answer: str) -> None:
        await self.publishers[index].accept(answer)

    async def ready(self) -> None:
        await asyncio.gather(*(p.ready() for p in self.publishers))

    async def burst(self, count: int) -> None:
        for publisher in self.publishers:
            await publisher.send_burst(count)

    async def pace(self, rate_pps: float, seconds: float, max_packets: int) -> int:
        before = sum(p.sent for p in self.publishers)
        await pace(self.publishers, rate_pps, seconds, max_packets)
        return sum(p.sent for p in self.publishers) - before

    async def prepare(self, count: int) -> None:
        """SRTP packets for every publisher's next window (built and protected now, outside the window)."""
        self.prepared = [p.prepare(count) for p in self.publishers]

    async def prepare_udp(self, ports: list[int], count: int) -> None:
        """Plain RTP-sized datagrams for the raw UDP fan-out: one socket per publisher, to ``ports[i]``."""
        self.prepared = []
        for port in ports:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            sock.setblocking(False)
            self.udp.append(sock)
            packets = [rtp_packet(96, seq, seq * 3000, 0x1234) for seq in range(count)]
            self.prepared.append(Prepared(sock, ("127.0.0.1", port), packets))

    async def run(self, rate_pps: float, seconds: float) -> tuple[list[int], float, float]:
        """Send the prepared window; returns (packets offered per publisher, CPU seconds, wall seconds)."""
        cpu0, wall0 = time.process_time(), time.monotonic()
        await send_prepared(self.prepared, rate_pps, seconds)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        offered = [s.next - s.refused for s in self.prepared]
        self.prepared = []
        return offered, cpu, wall

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.publishers), return_exceptions=True)
        for sock in self.udp:
            sock.close()
