"""Packet-level forwarding: the SFU hot path, sans-I/O.

Bytes in, bytes out. A :class:`Forwarder` is one published track; it fans each RTP packet out to its
:class:`DownTrack`\\ s, one per subscriber, which rewrite SSRC, payload type, sequence number and timestamp so
the subscriber sees one continuous stream even when the source behind it changes (RFC 3550 section 5.1;
RFC 7667 section 3.7, "Media-Switching Mixer"). Nothing here knows rooms, sockets or aiortc.

Header extensions are dropped on the way out: their ids are negotiated per peer connection, and forwarding
the publisher's ``mid`` extension would mislead the subscriber's BUNDLE demultiplexer (RFC 8843 section 9.2).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field

RTP_HEADER_SIZE = 12
_SEQ_TS_SSRC = struct.Struct("!HII")  # bytes 2..11 of the RTP fixed header (RFC 3550 section 5.1)
_EXT_LENGTH = struct.Struct("!H")
_PLI = struct.Struct("!BBHII")

RTCP_PSFB = 206  # RFC 4585 section 6.1
RTCP_PSFB_PLI = 1  # RFC 4585 section 6.3.1
RTCP_PSFB_FIR = 4  # RFC 5104 section 4.3.1


class RtpFormatError(ValueError):
    """The bytes are not an RTP packet this forwarder can rewrite."""


def rtp_ssrc(packet: bytes) -> int:
    """The SSRC of an RTP packet (no validation beyond length)."""
    if len(packet) < RTP_HEADER_SIZE:
        raise RtpFormatError(f"RTP packet shorter than {RTP_HEADER_SIZE} bytes (got {len(packet)})")
    return int.from_bytes(packet[8:12], "big")


def payload_offset(packet: bytes) -> int:
    """Where the payload starts: after the fixed header, CSRCs and any header extension (RFC 3550 5.3.1)."""
    size = len(packet)
    if size < RTP_HEADER_SIZE or packet[0] >> 6 != 2:
        raise RtpFormatError(f"not an RTP version 2 packet ({size} bytes)")
    offset = RTP_HEADER_SIZE + 4 * (packet[0] & 0x0F)
    if packet[0] & 0x10:
        if size < offset + 4:
            raise RtpFormatError(f"truncated RTP header extension ({size} bytes)")
        offset += 4 + 4 * _EXT_LENGTH.unpack_from(packet, offset + 2)[0]
    if offset > size:
        raise RtpFormatError(f"RTP header longer than the packet ({offset} > {size})")
    return offset


def vp8_keyframe_start(packet: bytes, offset: int) -> bool:
    """True if the VP8 RTP payload at ``offset`` starts a key frame: S=1 and PID=0 in the payload descriptor
    (RFC 7741 section 4.2), then P=0 in the VP8 payload header (RFC 7741 section 4.3, RFC 6386 section 9.1)."""
    size = len(packet)
    if offset >= size:
        return False
    first = packet[offset]
    if not first & 0x10 or first & 0x07:
        return False
    i = offset + 1
    if first & 0x80:  # X: extension octet follows
        if i >= size:
            return False
        ext = packet[i]
        i += 1
        if ext & 0x80:  # I: PictureID, 7 or 15 bits (M flag)
            if i >= size:
                return False
            i += 2 if packet[i] & 0x80 else 1
        if ext & 0x40:  # L: TL0PICIDX
            i += 1
        if ext & 0x30:  # T and/or K share one octet
            i += 1
    return i < size and not packet[i] & 0x01


def build_pli(sender_ssrc: int, media_ssrc: int) -> bytes:
    """An RTCP Picture Loss Indication (RFC 4585 section 6.3.1): 12 bytes, no FCI."""
    return _PLI.pack(0x80 | RTCP_PSFB_PLI, RTCP_PSFB, 2, sender_ssrc, media_ssrc)


@dataclass(slots=True)
class DownTrack:
    """One subscriber's view of a forwarded track: the SSRC and payload type negotiated with that subscriber,
    and the offsets that map the current source's sequence numbers and timestamps onto the outgoing stream."""

    ssrc: int
    """SSRC the subscriber negotiated for this track (the edge-side sender's SSRC)."""
    payload_type: int
    """Payload type the subscriber negotiated for the codec."""
    clock_rate: int = 90_000
    """RTP clock rate; used to advance timestamps across a source switch by the wall-clock gap."""
    first_sequence: int = 0
    """Sequence number of the first packet sent (pick at random in production, RFC 3550 section 5.1)."""
    first_timestamp: int = 0
    """Timestamp of the first packet sent."""
    sink: object = None
    """Opaque handle for the I/O layer (where to send the rewritten bytes)."""
    keyframe_start: Callable[[bytes, int], bool] | None = None
    """Codec-specific key frame test (e.g. :func:`vp8_keyframe_start`). When set, packets are held back after
    a (re)start until a key frame begins, so the subscriber's decoder never sees a frame it cannot decode."""
    packets: int = 0
    """Packets rewritten so far."""
    waiting_drops: int = 0
    """Packets dropped while waiting for a key frame."""

    _seq_offset: int = field(default=0, repr=False)
    _ts_offset: int = field(default=0, repr=False)
    _source_ssrc: int | None = field(default=None, repr=False)
    _resync: bool = field(default=True, repr=False)
    _last_seq: int = field(default=0, repr=False)
    _last_ts: int = field(default=0, repr=False)
    _last_now: float = field(default=0.0, repr=False)

    def switch_source(self) -> None:
        """The next packet comes from a different source: re-anchor the offsets on it. Packets from the old
        source that arrive later are dropped, so the outgoing stream stays continuous."""
        self._resync = True

    def rewrite(self, packet: bytes, now: float) -> bytes | None:
        """Return ``packet`` rewritten for this subscriber, or ``None`` to drop it. ``now`` is in seconds."""
        start = payload_offset(packet)
        seq, ts, ssrc = _SEQ_TS_SSRC.unpack_from(packet, 2)
        if self._resync:
            if self.keyframe_start is not None and not self.keyframe_start(packet, start):
                self.waiting_drops += 1
                return None
            self._anchor(seq, ts, ssrc, now)
        elif ssrc != self._source_ssrc:
            return None  # a late packet from the source we switched away from
        out_seq = (seq + self._seq_offset) & 0xFFFF
        out_ts = (ts + self._ts_offset) & 0xFFFFFFFF
        # Track the highest sequence number sent (RFC 3550 appendix A.1 ordering) to anchor the next switch.
        if ((out_seq - self._last_seq) & 0xFFFF) < 0x8000:
            self._last_seq = out_seq
            self._last_ts = out_ts
            self._last_now = now
        csrc_end = RTP_HEADER_SIZE + 4 * (packet[0] & 0x0F)
        out = bytearray(packet[:csrc_end])
        out += memoryview(packet)[start:]
        out[0] = packet[0] & 0xEF  # clear X: extensions are not forwarded (see module docstring)
        out[1] = (packet[1] & 0x80) | self.payload_type  # keep the marker bit
        _SEQ_TS_SSRC.pack_into(out, 2, out_seq, out_ts, self.ssrc)
        self.packets += 1
        return bytes(out)

    def _anchor(self, seq: int, ts: int, ssrc: int, now: float) -> None:
        if self.packets == 0:
            next_seq, next_ts = self.first_sequence, self.first_timestamp
        else:
            # Continue right after the last packet sent; advance the timestamp by the time that passed so the
            # subscriber's jitter buffer and playout clock see no jump (at least one tick, so frames differ).
            gap = max(1, round((now - self._last_now) * self.clock_rate))
            next_seq = (self._last_seq + 1) & 0xFFFF
            next_ts = (self._last_ts + gap) & 0xFFFFFFFF
        self._seq_offset = (next_seq - seq) & 0xFFFF
        self._ts_offset = (next_ts - ts) & 0xFFFFFFFF
        self._source_ssrc = ssrc
        self._resync = False


@dataclass(slots=True)
class Forwarder:
    """One published track and the subscribers it fans out to."""

    source_ssrc: int
    """SSRC of the publisher's media stream."""
    down_tracks: list[DownTrack] = field(default_factory=list)
    keyframe_interval: float = 0.5
    """Least time between two keyframe requests sent to the publisher: N subscribers asking at once (a new
    subscriber, a loss burst) cost the publisher one keyframe, not N."""
    packets_in: int = 0
    dropped: int = 0
    _last_keyframe_request: float = field(default=float("-inf"), repr=False)

    def subscribe(self, down_track: DownTrack) -> None:
        """Add a subscriber; it starts (or resumes, after a switch) at the next key frame, so the caller should
        also call :meth:`request_keyframe`."""
        down_track.switch_source()
        self.down_tracks.append(down_track)

    def request_keyframe(self, now: float) -> bool:
        """Whether to send a keyframe request (PLI) to the publisher now; throttled to one per interval."""
        if now - self._last_keyframe_request < self.keyframe_interval:
            return False
        self._last_keyframe_request = now
        return True

    def unsubscribe(self, down_track: DownTrack) -> None:
        self.down_tracks.remove(down_track)

    def forward(self, packet: bytes, now: float) -> list[tuple[DownTrack, bytes]]:
        """Rewrite ``packet`` once per subscriber; the caller sends each result to ``down_track.sink``."""
        self.packets_in += 1
        out: list[tuple[DownTrack, bytes]] = []
        try:
            for down_track in self.down_tracks:
                rewritten = down_track.rewrite(packet, now)
                if rewritten is not None:
                    out.append((down_track, rewritten))
        except RtpFormatError:
            self.dropped += 1
            return []
        return out
