"""Recording taps: while a meeting records, each forwarded track's RTP is depacketized into encoded frames and
written to a per-track capture file (``capture.tracks``, format in ``protocol.jobs``). No decoding: VP8 frames
and Opus packets go into Matroska as they arrived; workers compose them later.

A tap sees the packets the forwarder forwards (never a muted participant's audio: the forwarder is paused
then), reassembles VP8 frames by RTP timestamp (RFC 7741 section 4.2: a frame ends with the marker bit or when
the timestamp changes) and drops a frame with a sequence gap rather than write one the decoder would choke on.
Files are flushed as they grow (``TrackWriter``), so an edge crash leaves a usable partial recording.
"""

from __future__ import annotations

import logging
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiortc.codecs.vpx import vp8_depayload

from capture.tracks import TrackError, TrackWriter
from protocol.jobs import TrackMeta
from sfu.forwarder import RtpFormatError, payload_offset
from sfu.vp8 import vp8_keyframe_start

log = logging.getLogger("meetmesh.edge.recorder")

_SEQ_TS = struct.Struct("!HI")
_CODECS = {"video/vp8": ("video", "vp8", 90_000), "audio/opus": ("audio", "opus", 48_000)}


def recordable(mime_type: str) -> bool:
    return mime_type.lower() in _CODECS


@dataclass(eq=False)
class TrackTap:
    """One track being recorded: RTP in, encoded frames out to its capture file."""

    writer: TrackWriter
    kind: str
    frames: int = 0
    dropped_frames: int = 0
    _parts: list[bytes] = field(default_factory=list)
    _frame_ts: int | None = None
    _keyframe: bool = False
    _next_seq: int | None = None
    _broken: bool = False
    _ts_base: int = 0
    """Unwrapped high bits of the RTP timestamp (it wraps every 13 h at 90 kHz, and starts anywhere)."""
    _last_ts: int | None = None
    failed: bool = False

    def on_rtp(self, packet: bytes) -> None:
        if self.failed:
            return
        try:
            start = payload_offset(packet)
        except RtpFormatError:
            return
        seq, ts = _SEQ_TS.unpack_from(packet, 2)
        pts = self._unwrap(ts)
        if self.kind == "audio":
            self._write(packet[start:], pts, True)
            return
        if self._frame_ts is not None and pts != self._frame_ts:
            self._flush(complete=False)  # the marker was lost: the frame may be incomplete
        if self._frame_ts is None:
            self._frame_ts, self._keyframe, self._broken = pts, vp8_keyframe_start(packet, start), False
            self._next_seq = seq
        if seq != self._next_seq:
            self._broken = True
        self._next_seq = (seq + 1) & 0xFFFF
        try:
            self._parts.append(vp8_depayload(packet[start:]))
        except ValueError:
            self._broken = True
        if packet[1] & 0x80:  # marker: the frame's last packet
            self._flush(complete=True)

    def _unwrap(self, ts: int) -> int:
        if self._last_ts is not None:
            if ts < self._last_ts and self._last_ts - ts > 0x80000000:
                self._ts_base += 1 << 32
            elif ts > self._last_ts and ts - self._last_ts > 0x80000000:
                return self._ts_base - (1 << 32) + ts  # a late packet from before the wrap
        self._last_ts = ts
        return self._ts_base + ts

    def _flush(self, *, complete: bool) -> None:
        assert self._frame_ts is not None
        if complete and not self._broken and self._parts:
            self._write(b"".join(self._parts), self._frame_ts, self._keyframe)
        else:
            self.dropped_frames += 1
        self._parts.clear()
        self._frame_ts = None

    def _write(self, frame: bytes, pts: int, keyframe: bool) -> None:
        if self.frames == 0 and self.kind == "video" and not keyframe:
            self.dropped_frames += 1  # a file must start with a key frame to be decodable
            return
        try:
            self.writer.write_packet(frame, pts, keyframe, wallclock=time.time())
        except (TrackError, OSError, ValueError) as exc:
            # A full disk must not stop the meeting: this track stops recording, the call goes on.
            self.failed = True
            log.error("recording stopped for a track: %s", exc)
            return
        self.frames += 1

    def close(self) -> None:
        try:
            self.writer.close()
        except (TrackError, OSError, ValueError) as exc:
            log.error("closing a recorded track failed: %s", exc)


@dataclass(frozen=True, slots=True)
class Tapped:
    """A recordable track flowing now, and the room (None: the main room) its participant is in."""

    participant_id: str
    mid: str
    room: str | None


@dataclass(frozen=True, slots=True)
class TapPlan:
    close: list[tuple[str, str]]
    """Taps to close, by (participant, mid)."""
    open: list[tuple[Tapped, str]]
    """Tracks to tap, each with the recording (its room's) to write into."""


def plan_taps(taps: dict[tuple[str, str], str], tracks: list[Tapped], recordings: dict[str | None, str]) -> TapPlan:
    """Which taps to close and open so that each flowing track is recorded into its room's recording, and only
    there. ``taps``: the open taps' recordings by (participant, mid); ``recordings``: the recording capturing
    now in each room (None: the main room). A track whose room's recording changed (stopped, paused: a resume
    gives the same id but the taps were closed) or whose participant changed rooms closes and, when its new
    room records, opens again into that room's recording: a recording never holds another room's media."""
    flowing = {(t.participant_id, t.mid): t for t in tracks}
    close = [
        key
        for key, recording_id in taps.items()
        if key not in flowing or recordings.get(flowing[key].room) != recording_id
    ]
    open_ = []
    for key, t in flowing.items():
        want = recordings.get(t.room)
        if want is not None and (key not in taps or key in close):
            open_.append((t, want))
    return TapPlan(close, open_)


def open_tap(
    directory: Path, track_id: str, mime_type: str, participant_id: str, display_name: str, source: str
) -> TrackTap:
    """Start recording one track into ``directory/<track_id>.mkv`` (+ ``.json``)."""
    kind, codec, clock = _CODECS[mime_type.lower()]
    directory.mkdir(parents=True, exist_ok=True)
    capture_source = {"microphone": "mic"}.get(source, source)
    if kind == "audio" and capture_source == "screen":
        capture_source = "screen_audio"
    meta = TrackMeta(
        track_id=track_id,
        participant_id=participant_id,
        display_name=display_name,
        kind=kind,  # type: ignore[arg-type]
        source=capture_source,  # type: ignore[arg-type]
        codec=codec,
        clock_rate=clock,
    )
    writer = TrackWriter()
    writer.open(directory / f"{track_id}.mkv", kind, codec, meta)
    return TrackTap(writer, kind)
