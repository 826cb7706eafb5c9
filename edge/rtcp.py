"""Loss recovery toward subscribers, sans-I/O: a per-subscriber history of sent packets answers NACKs
(RFC 4585 section 6.2.1) by retransmission; what the history no longer holds is asked of the publisher.

Wiring (not done yet): `rtp_hooks` records each rewritten packet in its down track's `SendHistory`, and on a
NACK from a subscriber calls `answer_nack`, sends the retransmissions through the subscriber's transport and
`build_nack` for the rest toward the publisher.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

HISTORY_SIZE = 512
"""Packets kept per subscriber: a power of two ≥ 500 (a second of 720p video is ~150–400 packets)."""

_RTPFB = 205
_FMT_NACK = 1
_HEADER = struct.Struct("!BBHII")
_FCI = struct.Struct("!HH")


class SendHistory:
    """The last `size` packets sent to one subscriber, by outgoing sequence number."""

    __slots__ = ("_mask", "_packets", "_seqs")

    def __init__(self, size: int = HISTORY_SIZE) -> None:
        if size <= 0 or size & (size - 1):
            raise ValueError(f"history size must be a power of two (got {size})")
        self._mask = size - 1
        self._seqs: list[int] = [-1] * size
        self._packets: list[bytes | None] = [None] * size

    def record(self, seq: int, packet: bytes) -> None:
        slot = seq & self._mask
        self._seqs[slot] = seq
        self._packets[slot] = packet

    def get(self, seq: int) -> bytes | None:
        slot = seq & self._mask
        return self._packets[slot] if self._seqs[slot] == seq else None


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


def answer_nack(lost: Iterable[int], history: SendHistory, seq_offset: int) -> tuple[list[bytes], list[int]]:
    """Split a subscriber's NACK into packets to resend now and the publisher's sequence numbers to ask for.

    ``seq_offset`` maps the publisher's numbers onto this subscriber's (out = in + offset, mod 2^16): a packet
    the edge never received was never sent, so it can only come from the publisher.
    """
    resend: list[bytes] = []
    upstream: list[int] = []
    for seq in lost:
        packet = history.get(seq & 0xFFFF)
        if packet is not None:
            resend.append(packet)
        else:
            upstream.append((seq - seq_offset) & 0xFFFF)
    return resend, upstream
