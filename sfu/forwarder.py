"""Packet-level forwarding: the SFU hot path, sans-I/O.

Bytes in, bytes out. A :class:`Forwarder` is one published track; it fans each RTP packet out to its
:class:`DownTrack`\\ s, one per subscriber, which rewrite SSRC, payload type, sequence number and timestamp so
the subscriber sees one continuous stream even when the source behind it changes (RFC 3550 section 5.1;
RFC 7667 section 3.7, "Media-Switching Mixer"). Nothing here knows rooms, sockets or aiortc.

The publisher's header extensions are dropped on the way out: their ids are negotiated per peer connection, and
forwarding the publisher's ``mid`` extension would mislead the subscriber's BUNDLE demultiplexer (RFC 8843
section 9.2). The edge writes one of its own when the subscriber negotiated it: abs-send-time
(http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time), the edge's send time, from which the subscriber
estimates its downlink and sends REMB.

Cost model (the reason for the shapes below): :meth:`Forwarder.fan_out` parses a packet once, then builds each
subscriber's copy as a 12-byte packed header plus the shared body (one ``bytes`` concatenation: the only
per-subscriber allocation besides SRTP's own output) and hands it to a synchronous ``send`` callback.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from sfu.vp8 import vp8_picture_ids, vp8_shift_picture_ids

RTP_HEADER_SIZE = 12
_SEQ_TS_SSRC = struct.Struct("!HII")  # bytes 2..11 of the RTP fixed header (RFC 3550 section 5.1)
_HEADER = struct.Struct("!BBHII")  # the whole fixed header, CSRCs excluded
# RFC 8285 section 4.2 one-byte block holding abs-send-time: 0xBEDE, one word, (id, len-1 = 2), 24-bit time.
_ABS_SEND_TIME_BLOCK = struct.Struct("!HHI")
_HEADER_ABS_SEND_TIME = struct.Struct("!BBHIIHHI")  # fixed header + that block in one pack (no CSRCs between)
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
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


def build_pli(sender_ssrc: int, media_ssrc: int) -> bytes:
    """An RTCP Picture Loss Indication (RFC 4585 section 6.3.1): 12 bytes, no FCI."""
    return _PLI.pack(0x80 | RTCP_PSFB_PLI, RTCP_PSFB, 2, sender_ssrc, media_ssrc)


ParsedRtp = tuple[int, int, int, int, int, bytes, int]
"""An RTP packet read once for every subscriber: (first octet with X cleared, marker bit, sequence number,
timestamp, SSRC, CSRCs + payload, payload offset in the original packet)."""


def parse_rtp(packet: bytes) -> ParsedRtp:
    """Read the fields every :class:`DownTrack` needs; the header extension (if any) is cut out of the body."""
    start = payload_offset(packet)
    seq, ts, ssrc = _SEQ_TS_SSRC.unpack_from(packet, 2)
    first = packet[0]
    if first & 0x10:
        csrc_end = RTP_HEADER_SIZE + 4 * (first & 0x0F)
        body = packet[RTP_HEADER_SIZE:csrc_end] + packet[start:]
    else:
        body = packet[RTP_HEADER_SIZE:]
    return first & 0xEF, packet[1] & 0x80, seq, ts, ssrc, body, start


class PacketHistory(Protocol):
    """What a :class:`DownTrack` records each sent packet into (e.g. :class:`sfu.rtcp.SendHistory`)."""

    def record(self, seq: int, packet: bytes) -> None: ...


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
    """Codec-specific key frame test (e.g. :func:`sfu.vp8.vp8_keyframe_start`). When set, packets are held back after
    a (re)start until a key frame begins, so the subscriber's decoder never sees a frame it cannot decode."""
    abs_send_time_id: int | None = None
    """Header extension id the subscriber negotiated for abs-send-time (None: send no extension)."""
    history: PacketHistory | None = None
    """Where each rewritten packet is recorded by outgoing sequence number, to answer NACKs (RFC 4585)."""
    vp8: bool = False
    """The payload is VP8: keep PictureID and TL0PICIDX continuous across source switches. Each source (another
    publisher, another simulcast layer) numbers its pictures on its own; a receiver that saw the numbers jump
    back would drop the new source's frames as old ones (Chromium does) until they caught up."""
    downlink_bps: Callable[[], float | None] | None = None
    """What this subscriber can take now (None: not known yet); the publisher is asked not to send more than
    its slowest subscriber can (REMB toward the publisher). Read about once a second, never per packet."""
    packets: int = 0
    """Packets rewritten so far."""
    octets: int = 0
    """Payload octets rewritten so far (CSRCs and payload, as the RTCP SR octet count wants, RFC 3550 6.4.1)."""
    waiting_drops: int = 0
    """Packets dropped while waiting for a key frame."""

    _seq_offset: int = field(default=0, repr=False)
    _ts_offset: int = field(default=0, repr=False)
    _source_ssrc: int | None = field(default=None, repr=False)
    _resync: bool = field(default=True, repr=False)
    _last_seq: int = field(default=0, repr=False)
    _last_ts: int = field(default=0, repr=False)
    _last_now: float = field(default=0.0, repr=False)
    _switch_to: int | None = field(default=None, repr=False)
    _last_out: bytes = field(default=b"", repr=False)
    _picture_delta: int = field(default=0, repr=False)
    _tl0_delta: int = field(default=0, repr=False)

    @property
    def waiting_for_keyframe(self) -> bool:
        """True while packets are held back until a key frame starts (after a start, switch or resume)."""
        return self._resync and self.keyframe_start is not None

    @property
    def started(self) -> bool:
        """Whether the outgoing stream has begun (and :meth:`timestamp_out` means something)."""
        return self.packets > 0

    @property
    def last_sent(self) -> tuple[int, int, float]:
        """(sequence number, timestamp, ``now``) of the highest packet sent."""
        return self._last_seq, self._last_ts, self._last_now

    @property
    def seq_offset(self) -> int:
        """Outgoing minus source sequence number (mod 2^16) for the current source."""
        return self._seq_offset

    def source_sequence(self, out_seq: int) -> int:
        """The current source's sequence number behind outgoing ``out_seq`` (to ask the publisher for it)."""
        return (out_seq - self._seq_offset) & 0xFFFF

    def timestamp_out(self, source_ts: int) -> int:
        """The outgoing timestamp for the current source's ``source_ts`` (e.g. from its RTCP SR)."""
        return (source_ts + self._ts_offset) & 0xFFFFFFFF

    def is_from_current_source(self, ssrc: int) -> bool:
        return not self._resync and ssrc == self._source_ssrc

    def switch_source(self) -> None:
        """The next packet comes from a different source: re-anchor the offsets on it. Packets from the old
        source that arrive later are dropped, so the outgoing stream stays continuous."""
        self._resync = True

    @property
    def source_ssrc(self) -> int | None:
        """The SSRC whose packets go out now (None before the first anchor)."""
        return self._source_ssrc

    @property
    def pending_switch(self) -> int | None:
        """The SSRC a :meth:`switch_to` waits to start on (None: no switch pending)."""
        return self._switch_to

    def switch_to(self, ssrc: int | None) -> None:
        """Move to source ``ssrc`` at its next key frame while the current source keeps flowing until then (a
        simulcast layer switch: the subscriber never sees a frozen picture). Both sources' packets must reach
        :meth:`rewrite`; the current one's stop going out once ``ssrc`` starts. None cancels a pending switch."""
        self._switch_to = None if ssrc == self._source_ssrc else ssrc

    def rewrite(self, packet: bytes, now: float) -> bytes | None:
        """Return ``packet`` rewritten for this subscriber, or ``None`` to drop it. ``now`` is in seconds."""
        return self.rewrite_parsed(packet, parse_rtp(packet), now)

    def rewrite_parsed(self, packet: bytes, parsed: ParsedRtp, now: float) -> bytes | None:
        """:meth:`rewrite` for a packet :func:`parse_rtp` already read (once for all subscribers)."""
        first, marker, seq, ts, ssrc, body, start = parsed
        if self._resync:
            if self.keyframe_start is not None and not self.keyframe_start(packet, start):
                self.waiting_drops += 1
                return None
            self._anchor(seq, ts, ssrc, now, packet, start)
        elif ssrc != self._source_ssrc:
            # A late packet from the source we switched away from, or the source of a pending switch: that one
            # takes over at its first key frame (only then is the outgoing stream decodable on its packets).
            if ssrc != self._switch_to or self.keyframe_start is None or not self.keyframe_start(packet, start):
                return None
            self._anchor(seq, ts, ssrc, now, packet, start)
        if self._picture_delta or self._tl0_delta:  # only after a switch between sources
            csrcs = 4 * (first & 0x0F)
            body = body[:csrcs] + vp8_shift_picture_ids(body[csrcs:], 0, self._picture_delta, self._tl0_delta)
        out_seq = (seq + self._seq_offset) & 0xFFFF
        out_ts = (ts + self._ts_offset) & 0xFFFFFFFF
        # Track the highest sequence number sent (RFC 3550 appendix A.1 ordering) to anchor the next switch.
        newest = ((out_seq - self._last_seq) & 0xFFFF) < 0x8000
        if newest:
            self._last_seq = out_seq
            self._last_ts = out_ts
            self._last_now = now
        # X is cleared in `first` (extensions are not forwarded, see the module docstring); marker kept.
        ext_id = self.abs_send_time_id
        if ext_id is None:
            out = _HEADER.pack(first, marker | self.payload_type, out_seq, out_ts, self.ssrc) + body
        else:
            # 6.18 fixed-point seconds, 24 bits: any clock will do, the receiver only uses differences.
            element = (ext_id << 28) | (2 << 24) | (int(now * 262_144) & 0xFFFFFF)
            if not first & 0x0F:  # the usual case: one pack, one concatenation
                out = (
                    _HEADER_ABS_SEND_TIME.pack(
                        first | 0x10, marker | self.payload_type, out_seq, out_ts, self.ssrc, 0xBEDE, 1, element
                    )
                    + body
                )
            else:
                # The extension follows the CSRC list (RFC 3550 section 5.3.1).
                csrcs = 4 * (first & 0x0F)
                header = _HEADER.pack(first | 0x10, marker | self.payload_type, out_seq, out_ts, self.ssrc)
                out = header + body[:csrcs] + _ABS_SEND_TIME_BLOCK.pack(0xBEDE, 1, element) + body[csrcs:]
        self.packets += 1
        self.octets += len(body)
        if self.history is not None:
            self.history.record(out_seq, out)
        if newest and self.vp8:
            self._last_out = out  # a reference, no copy: read only when the next switch anchors
        return out

    def _anchor(self, seq: int, ts: int, ssrc: int, now: float, packet: bytes = b"", start: int = 0) -> None:
        self._picture_delta = self._tl0_delta = 0
        if self.vp8 and self._last_out and packet:
            # Continue the picture numbering where the outgoing stream left it (RFC 7741 section 4.2).
            last_picture, _, last_tl0 = vp8_picture_ids(self._last_out, payload_offset(self._last_out))
            picture, long_form, tl0 = vp8_picture_ids(packet, start)
            if last_picture is not None and picture is not None:
                self._picture_delta = (last_picture + 1 - picture) & (0x7FFF if long_form else 0x7F)
            if last_tl0 is not None and tl0 is not None:
                self._tl0_delta = (last_tl0 + 1 - tl0) & 0xFF
        if self.packets == 0:
            next_seq, next_ts = self.first_sequence, self.first_timestamp
            # The first packet must count as the newest sent whatever its (random) number: "newest" is judged
            # against the last one, and a stale 0 would make every number from 2^15 up look older until the
            # wrap, leaving the next switch anchored on nothing (sequence, timestamp and PictureID jumps after
            # which Chromium decodes nothing more).
            self._last_seq, self._last_ts, self._last_now = (next_seq - 1) & 0xFFFF, next_ts, now
        else:
            # Continue right after the last packet sent; advance the timestamp by the time that passed so the
            # subscriber's jitter buffer and playout clock see no jump (at least one tick, so frames differ).
            gap = max(1, round((now - self._last_now) * self.clock_rate))
            next_seq = (self._last_seq + 1) & 0xFFFF
            next_ts = (self._last_ts + gap) & 0xFFFFFFFF
        self._seq_offset = (next_seq - seq) & 0xFFFF
        self._ts_offset = (next_ts - ts) & 0xFFFFFFFF
        self._source_ssrc = ssrc
        self._switch_to = None
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
    """Packets that were not RTP this forwarder can rewrite."""
    paused_drops: int = 0
    """Packets not forwarded because the track was paused."""
    _paused: bool = field(default=False, repr=False)
    _last_keyframe_request: float = field(default=float("-inf"), repr=False)

    @property
    def paused(self) -> bool:
        """While paused nothing reaches any subscriber (e.g. a host mute the client ignores). On resume every
        subscriber's stream continues where it stopped: the next sequence number follows the last one sent (no
        hole to NACK) and the timestamp advances by the time that passed; video waits for a key frame (the I/O
        layer requests one while :meth:`fan_out` reports a subscriber waiting)."""
        return self._paused

    @paused.setter
    def paused(self, value: bool) -> None:
        if self._paused and not value:
            for down_track in self.down_tracks:
                down_track.switch_source()  # same re-anchoring as a source switch
        self._paused = value

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def subscribe(self, down_track: DownTrack) -> None:
        """Add a subscriber; it starts (or resumes, after a switch) at the next key frame, so the caller should
        also call :meth:`request_keyframe`."""
        down_track.switch_source()
        self.down_tracks.append(down_track)

    def publish_limit_bps(self, floor_bps: float, ceiling_bps: float) -> float:
        """The bitrate to ask the publisher for (REMB): what the slowest subscriber can take, within
        [``floor_bps``, ``ceiling_bps``]; the ceiling while no subscriber has reported (or none is here)."""
        limit = ceiling_bps
        for down_track in self.down_tracks:
            estimate = down_track.downlink_bps() if down_track.downlink_bps is not None else None
            if estimate is not None and estimate < limit:
                limit = estimate
        return max(floor_bps, limit)

    def request_keyframe(self, now: float) -> bool:
        """Whether to send a keyframe request (PLI) to the publisher now; throttled to one per interval."""
        if now - self._last_keyframe_request < self.keyframe_interval:
            return False
        self._last_keyframe_request = now
        return True

    def unsubscribe(self, down_track: DownTrack) -> None:
        self.down_tracks.remove(down_track)

    def fan_out(self, packet: bytes, now: float, send: Callable[[DownTrack, bytes], object]) -> bool:
        """Rewrite ``packet`` once per subscriber and call ``send(down_track, rewritten)`` for each, with no
        intermediate list. Returns True if a subscriber is waiting for a key frame (ask the publisher for one)."""
        self.packets_in += 1
        if self._paused:
            self.paused_drops += 1
            return False
        try:
            parsed = parse_rtp(packet)
        except RtpFormatError:
            self.dropped += 1
            return False
        waiting = False
        for down_track in self.down_tracks:
            rewritten = down_track.rewrite_parsed(packet, parsed, now)
            if rewritten is not None:
                send(down_track, rewritten)
            elif down_track._resync:
                waiting = True
        return waiting

    def forward(self, packet: bytes, now: float) -> list[tuple[DownTrack, bytes]]:
        """Rewrite ``packet`` once per subscriber; the caller sends each result to ``down_track.sink``."""
        out: list[tuple[DownTrack, bytes]] = []
        self.fan_out(packet, now, lambda down_track, rewritten: out.append((down_track, rewritten)))
        return out
