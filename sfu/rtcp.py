"""Loss recovery toward subscribers, sans-I/O: a per-subscriber history of sent packets answers NACKs
(RFC 4585 section 6.2.1) by retransmission; what the history no longer holds is asked of the publisher.

Wiring: ``rtp_hooks`` records each rewritten packet in its down track's :class:`SendHistory`; on a NACK from a
subscriber it calls :func:`answer_nack`, resends what the history holds (wrapped by :func:`wrap_rtx` when the
subscriber negotiated RTX, RFC 4588) and asks the publisher for the rest with :func:`build_nack`, deduplicated
by :class:`NackThrottle`. RTX from the publisher is unwrapped by :func:`unwrap_rtx` and forwarded as the
original. :class:`SenderClock` keeps the publisher's NTP/RTP mapping (RFC 3550 section 6.4.1) for the SRs the
edge sends each subscriber.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from sfu.forwarder import payload_offset

HISTORY_SIZE = 512
"""Packets kept per subscriber: a power of two ≥ 500 (a second of 720p video is ~150–400 packets)."""

_RTPFB = 205
_FMT_NACK = 1
_HEADER = struct.Struct("!BBHII")
_RTP_HEADER = struct.Struct("!BBHII")
_OSN = struct.Struct("!H")
NTP_FRACTION = 1 << 32
_FCI = struct.Struct("!HH")


_NEVER = float("-inf")


class SendHistory:
    """The last `size` packets sent to one subscriber, by outgoing sequence number."""

    __slots__ = ("_mask", "_packets", "_resent", "_seqs")

    def __init__(self, size: int = HISTORY_SIZE) -> None:
        if size <= 0 or size & (size - 1):
            raise ValueError(f"history size must be a power of two (got {size})")
        self._mask = size - 1
        self._seqs: list[int] = [-1] * size
        self._packets: list[bytes | None] = [None] * size
        self._resent: list[float] = [_NEVER] * size

    def record(self, seq: int, packet: bytes) -> None:
        slot = seq & self._mask
        self._seqs[slot] = seq
        self._packets[slot] = packet
        self._resent[slot] = _NEVER  # a constant: this runs once per forwarded packet

    def get(self, seq: int) -> bytes | None:
        slot = seq & self._mask
        return self._packets[slot] if self._seqs[slot] == seq else None

    def resend(self, seq: int, now: float, min_interval: float) -> bytes | None:
        """The packet to resend for a NACK of ``seq``; ``None`` if the history lacks it; ``b""`` if it was resent
        less than ``min_interval`` ago (a receiver repeating its NACK before the first resend could arrive)."""
        slot = seq & self._mask
        if self._seqs[slot] != seq:
            return None
        if now - self._resent[slot] < min_interval:
            return b""
        self._resent[slot] = now
        return self._packets[slot]


def decode_nack(fci: bytes) -> list[int]:
    """Sequence numbers a generic NACK's FCI entries name (PID plus the bitmask of the 16 that follow)."""
    lost: list[int] = []
    for offset in range(0, len(fci) - len(fci) % 4, 4):
        pid, blp = _FCI.unpack_from(fci, offset)
        lost.append(pid)
        for bit in range(16):
            if blp >> bit & 1:
                lost.append((pid + bit + 1) & 0xFFFF)
    return lost


def encode_nack(seqs: Iterable[int]) -> bytes:
    """FCI entries covering ``seqs`` (duplicates ignored; wraparound-aware order)."""
    pending = sorted(set(s & 0xFFFF for s in seqs))
    if pending and pending[-1] - pending[0] > 0x8000:  # the run crosses 65535 → 0: start after the gap
        cut = max(range(1, len(pending)), key=lambda i: pending[i] - pending[i - 1])
        pending = pending[cut:] + pending[:cut]
    out = bytearray()
    i = 0
    while i < len(pending):
        pid, blp = pending[i], 0
        i += 1
        while i < len(pending) and 0 < (pending[i] - pid) & 0xFFFF <= 16:
            blp |= 1 << (((pending[i] - pid) & 0xFFFF) - 1)
            i += 1
        out += _FCI.pack(pid, blp)
    return bytes(out)


def build_nack(sender_ssrc: int, media_ssrc: int, seqs: Iterable[int]) -> bytes:
    """A complete RTCP generic NACK packet (RFC 4585 section 6.2.1) for the publisher's stream."""
    fci = encode_nack(seqs)
    length_words = (_HEADER.size + len(fci)) // 4 - 1
    return _HEADER.pack(0x80 | _FMT_NACK, _RTPFB, length_words, sender_ssrc, media_ssrc) + fci


def answer_nack(
    lost: Iterable[int], history: SendHistory, seq_offset: int, now: float = 0.0, min_interval: float = 0.0
) -> tuple[list[bytes], list[int]]:
    """Split a subscriber's NACK into packets to resend now and the publisher's sequence numbers to ask for.

    ``seq_offset`` maps the publisher's numbers onto this subscriber's (out = in + offset, mod 2^16): a packet
    the edge never received was never sent, so it can only come from the publisher. A packet resent less than
    ``min_interval`` before ``now`` is neither resent nor asked for again (the first resend is on its way).
    """
    resend: list[bytes] = []
    upstream: list[int] = []
    for seq in lost:
        packet = history.resend(seq & 0xFFFF, now, min_interval)
        if packet:
            resend.append(packet)
        elif packet is None:
            upstream.append((seq - seq_offset) & 0xFFFF)
    return resend, upstream


def wrap_rtx(packet: bytes, rtx_payload_type: int, rtx_seq: int, rtx_ssrc: int) -> bytes:
    """The RFC 4588 section 4 retransmission of ``packet``: RTX payload type, sequence number and SSRC, the
    original sequence number (OSN) first in the payload; marker, timestamp, CSRCs and header extension kept."""
    first, second, osn, ts, _ = _RTP_HEADER.unpack_from(packet)
    start = payload_offset(packet)
    return (
        _RTP_HEADER.pack(first, (second & 0x80) | rtx_payload_type, rtx_seq & 0xFFFF, ts, rtx_ssrc)
        + packet[12:start]
        + _OSN.pack(osn)
        + packet[start:]
    )


def unwrap_rtx(packet: bytes, payload_type: int, ssrc: int, payload_start: int) -> bytes | None:
    """The original packet inside an RFC 4588 retransmission (``payload_start`` from ``payload_offset``), or
    ``None`` for a packet with no OSN (padding-only RTX, which browsers send to probe bandwidth)."""
    size = len(packet)
    if packet[0] & 0x20:  # P: the last octet counts the padding (RFC 3550 section 5.1)
        size -= packet[-1]
    if size - payload_start < 2:
        return None
    first, second, _, ts, _ = _RTP_HEADER.unpack_from(packet)
    (osn,) = _OSN.unpack_from(packet, payload_start)
    return (
        _RTP_HEADER.pack(first, (second & 0x80) | payload_type, osn, ts, ssrc)
        + packet[12:payload_start]
        + packet[payload_start + 2 :]
    )


class NackThrottle:
    """Asks the publisher for each missing packet at most once per ``interval`` however many subscribers
    report it (every subscriber behind one lossy publisher NACKs the same numbers)."""

    __slots__ = ("_asked", "interval")

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self._asked: dict[int, float] = {}

    def filter(self, seqs: Iterable[int], now: float) -> list[int]:
        fresh = []
        asked = self._asked
        for seq in seqs:
            last = asked.get(seq)
            if last is None or now - last >= self.interval:
                asked[seq] = now
                fresh.append(seq)
        if len(asked) > 2048:  # forget old entries; a sequence number comes round again after 65,536 packets
            for seq in [s for s, t in asked.items() if now - t >= self.interval]:
                del asked[seq]
        return fresh


class SenderClock:
    """The publisher's latest NTP ↔ RTP timestamp pair (RFC 3550 section 6.4.1), extrapolated to ``now``.

    Subscribers lip-sync a participant's audio and video by the pairs in their SRs, so the edge's SRs must
    carry the publisher's pairs (not the edge's own clock), each RTP timestamp mapped through the down track's
    offset."""

    __slots__ = ("_at", "_ntp", "_rtp", "clock_rate")

    def __init__(self, clock_rate: int) -> None:
        self.clock_rate = clock_rate
        self._ntp: int | None = None
        self._rtp = 0
        self._at = 0.0

    @property
    def known(self) -> bool:
        return self._ntp is not None

    @property
    def reported(self) -> tuple[int, int] | None:
        """(NTP, RTP) exactly as in the publisher's latest SR."""
        return None if self._ntp is None else (self._ntp, self._rtp)

    def update(self, ntp_timestamp: int, rtp_timestamp: int, now: float) -> None:
        """A sender report from the publisher arrived at ``now``."""
        self._ntp, self._rtp, self._at = ntp_timestamp, rtp_timestamp, now

    def at(self, now: float) -> tuple[int, int] | None:
        """(64-bit NTP timestamp, source RTP timestamp) for the instant ``now``, on the publisher's clock."""
        if self._ntp is None:
            return None
        elapsed = now - self._at
        ntp = (self._ntp + round(elapsed * NTP_FRACTION)) & 0xFFFF_FFFF_FFFF_FFFF
        return ntp, (self._rtp + round(elapsed * self.clock_rate)) & 0xFFFFFFFF


_SR = 200
_SR_PACKET = struct.Struct("!BBHIQIII")


def build_sender_report(ssrc: int, ntp_timestamp: int, rtp_timestamp: int) -> bytes:
    """A bare SR (RFC 3550 section 6.4.1) carrying only the (NTP, RTP) pair: how a publisher's clock crosses a
    relay hop (the packet and octet counts are the edge's own per subscriber, so they are zero here)."""
    return _SR_PACKET.pack(0x80, _SR, 6, ssrc, ntp_timestamp & 0xFFFF_FFFF_FFFF_FFFF, rtp_timestamp & 0xFFFFFFFF, 0, 0)


def parse_sender_report(packet: bytes) -> tuple[int, int, int] | None:
    """(SSRC, NTP, RTP) of an SR that starts ``packet``, or None if it is not one (too short, not version 2)."""
    if len(packet) < _SR_PACKET.size or packet[0] >> 6 != 2 or packet[1] != _SR:
        return None
    _flags, _pt, _length, ssrc, ntp, rtp, _packets, _octets = _SR_PACKET.unpack_from(packet)
    return ssrc, ntp, rtp


class ReceiveStatistics:
    """What the edge receives from a publisher, for the receiver reports it sends back (RFC 3550 section 6.4.1
    and appendix A.3, A.8): extended highest sequence number, cumulative and interval loss, interarrival jitter.
    ``add`` runs once per received packet, so it is a handful of integer and float operations."""

    __slots__ = (
        "_base",
        "_cycles",
        "_expected_prior",
        "_jitter",
        "_last_transit",
        "_max_seq",
        "_received",
        "_received_prior",
        "clock_rate",
    )

    def __init__(self, clock_rate: int) -> None:
        self.clock_rate = clock_rate
        self._max_seq = -1
        self._cycles = 0
        self._base = 0
        self._received = 0
        self._expected_prior = 0
        self._received_prior = 0
        self._jitter = 0.0
        self._last_transit: float | None = None

    def add(self, seq: int, timestamp: int, now: float) -> None:
        self._received += 1
        if self._max_seq < 0:
            self._max_seq = self._base = seq
        else:
            delta = (seq - self._max_seq) & 0xFFFF
            if 0 < delta < 0x8000:  # in order (possibly after a gap); older packets leave the maximum alone
                if seq < self._max_seq:
                    self._cycles += 0x10000
                self._max_seq = seq
        # RFC 3550 appendix A.8, in RTP clock units; the arrival clock's origin cancels out in the difference.
        transit = now * self.clock_rate - timestamp
        last = self._last_transit
        if last is not None:
            d = transit - last
            if d < 0:
                d = -d
            if d < 0x80000000:  # a timestamp wrap shows as a huge jump: skip that sample
                self._jitter += (d - self._jitter) / 16
        self._last_transit = transit

    @property
    def extended_max(self) -> int:
        return self._cycles + self._max_seq

    def report_block(self) -> tuple[int, int, int, int] | None:
        """(fraction lost 0..255, cumulative lost, extended highest sequence number, jitter) since the last
        call (RFC 3550 appendix A.3), or None before any packet."""
        if self._max_seq < 0:
            return None
        extended = self.extended_max
        expected = extended - self._base + 1
        lost = expected - self._received
        expected_interval = expected - self._expected_prior
        received_interval = self._received - self._received_prior
        self._expected_prior, self._received_prior = expected, self._received
        lost_interval = expected_interval - received_interval
        fraction = 0 if expected_interval <= 0 or lost_interval <= 0 else (lost_interval << 8) // expected_interval
        # Cumulative loss is a signed 24-bit field (duplicates can make it negative).
        lost = max(-0x800000, min(0x7FFFFF, lost))
        return min(fraction, 255), lost, extended & 0xFFFFFFFF, int(self._jitter)


_REMB_FMT = 15  # application layer feedback (RFC 4585 section 6.4), which REMB is
_PSFB = 206


def build_remb(sender_ssrc: int, bitrate_bps: float, media_ssrcs: Iterable[int]) -> bytes:
    """An RTCP REMB packet (draft-alvestrand-rmcat-remb-03 section 2.2): the most the sender of ``media_ssrcs``
    should send, as an 18-bit mantissa and a 6-bit exponent. Media SSRC 0 in the common header, as the draft says."""
    ssrcs = list(media_ssrcs)
    mantissa, exponent = max(0, int(bitrate_bps)), 0
    while mantissa > 0x3FFFF:
        mantissa >>= 1
        exponent += 1
    fci = b"REMB" + struct.pack("!BBH", len(ssrcs), exponent << 2 | mantissa >> 16, mantissa & 0xFFFF)
    fci += b"".join(struct.pack("!I", ssrc) for ssrc in ssrcs)
    length_words = (_HEADER.size + len(fci)) // 4 - 1
    return _HEADER.pack(0x80 | _REMB_FMT, _PSFB, length_words, sender_ssrc, 0) + fci
