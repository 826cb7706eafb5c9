"""Per-track recording files: the writer the edge calls with encoded frames, and the reader the jobs use.

Format: see `protocol/jobs.py`. The writer never decodes: it remuxes already-depacketized VP8 frames and Opus
packets into Matroska with PyAV.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from protocol.jobs import MuteInterval, TrackMeta


class TrackError(Exception):
    """Base of the track file errors."""


class TrackFileInvalidError(TrackError):
    """A track file or its sidecar cannot be read."""


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_text(text)
    os.replace(tmp, path)


class TrackWriter:
    """Writes one published track. Not thread-safe; the edge owns one per track."""

    def __init__(self) -> None:
        self._container: av.container.OutputContainer | None = None
        self._stream: av.VideoStream | av.AudioStream | None = None
        self._meta: TrackMeta | None = None
        self._sidecar: Path | None = None
        self._last_pts: int | None = None

    @property
    def meta(self) -> TrackMeta:
        assert self._meta is not None, "open() first"
        return self._meta

    def open(self, path: str | Path, kind: str, codec: str, meta: TrackMeta) -> None:
        """Create `path` (.mkv) and its sidecar (.json). `meta.kind`/`meta.codec` must agree with the arguments."""
        if (kind, codec) not in (("video", "vp8"), ("audio", "opus")):
            raise TrackError(f"unsupported track {kind}/{codec} (vp8 video or opus audio)")
        meta.kind, meta.codec = kind, codec  # type: ignore[assignment]
        path = Path(path)
        self._meta = meta
        self._sidecar = path.with_suffix(".json")
        # cluster_time_limit: close a Matroska cluster every second, because the muxer holds the open cluster in
        # memory; flush_packets: push every written packet to the file. Together a crash loses at most ~1 s.
        container = av.open(
            str(path),
            "w",
            format="matroska",
            options={"cluster_time_limit": "1000"},
            container_options={"flush_packets": "1"},
        )
        stream: av.VideoStream | av.AudioStream
        if kind == "video":
            stream = video = container.add_stream("libvpx")
            video.width = meta.width or 640
            video.height = meta.height or 360
            video.pix_fmt = "yuv420p"
        else:
            stream = audio = container.add_stream("libopus", rate=48000)
            audio.layout = "stereo"
            # RFC 7845 section 5.1 identification header: Matroska's CodecPrivate for Opus, which an encoder would
            # have produced. WebRTC Opus is signalled as 2 channels (RFC 7587 section 7); pre-skip 312 as libopus.
            stream.codec_context.extradata = (
                b"OpusHead"
                + bytes([1, 2])
                + (312).to_bytes(2, "little")
                + (48000).to_bytes(4, "little")
                + bytes([0, 0, 0])
            )
        stream.time_base = Fraction(1, meta.clock_rate)
        self._container, self._stream = container, stream
        _write_atomic(self._sidecar, meta.to_json())

    def write_packet(self, payload: bytes, pts: int, keyframe: bool, wallclock: float | None = None) -> None:
        """Append one encoded frame with its pts in the track clock. `wallclock` (unix s) defaults to now; only
        the first packet's is kept."""
        assert self._container is not None and self._stream is not None and self._meta is not None
        meta = self._meta
        if meta.start_time is None:
            meta.start_time = time.time() if wallclock is None else wallclock
            meta.first_pts = pts
            assert self._sidecar is not None
            _write_atomic(self._sidecar, meta.to_json())
        if self._last_pts is not None and pts <= self._last_pts:
            return  # reordered or duplicate frame: Matroska needs increasing dts, and we do not reorder here
        self._last_pts = pts
        packet = av.Packet(payload)
        packet.stream = self._stream
        packet.pts = packet.dts = pts
        packet.time_base = Fraction(1, meta.clock_rate)  # the muxer rescales to Matroska's milliseconds
        packet.is_keyframe = keyframe
        self._container.mux(packet)

    def set_muted(self, muted: bool, at: float | None = None) -> None:
        """Record a mute change (unix seconds, default now) in the sidecar."""
        meta = self.meta
        now = time.time() if at is None else at
        if muted and (not meta.mutes or meta.mutes[-1].end is not None):
            meta.mutes.append(MuteInterval(start=now))
        elif not muted and meta.mutes and meta.mutes[-1].end is None:
            meta.mutes[-1].end = now
        assert self._sidecar is not None
        _write_atomic(self._sidecar, meta.to_json())

    def close(self) -> None:
        if self._container is None:
            return
        self._container.close()
        self._container = None
        meta = self.meta
        meta.closed = True
        assert self._sidecar is not None
        _write_atomic(self._sidecar, meta.to_json())


@dataclass
class Track:
    """A track file as read back: its sidecar and where it lies on the recording's timeline."""

    path: Path
    meta: TrackMeta
    start: float
    """Unix seconds of the first packet."""
    end: float
    """Unix seconds just after the last packet."""

    def muted_at(self, t: float) -> bool:
        return any(m.start <= t < (m.end if m.end is not None else float("inf")) for m in self.meta.mutes)


def read_track(path: str | Path) -> Track:
    """Read a track's sidecar and find its extent by demuxing (no decoding)."""
    path = Path(path)
    try:
        meta = TrackMeta.from_json(path.with_suffix(".json").read_text())
    except (OSError, ValueError, TypeError) as e:
        raise TrackFileInvalidError(f"sidecar of {path} unreadable: {e}") from e
    first_pts = last_pts = None
    last_dur = 0
    tb: Fraction | None = None
    for packet in iter_packets(path):
        if packet.pts is None:
            continue
        tb = packet.time_base
        if first_pts is None:
            first_pts = packet.pts
        last_pts = packet.pts
        last_dur = packet.duration or 0
    if first_pts is None or last_pts is None or tb is None or meta.start_time is None:
        raise TrackFileInvalidError(f"{path} holds no packets")
    if meta.kind == "video" and not last_dur:
        last_dur = int(1 / (30 * tb))  # one frame at 30 fps: VP8 packets carry no duration
    end = meta.start_time + float((last_pts - first_pts + last_dur) * tb)
    return Track(path=path, meta=meta, start=meta.start_time, end=end)


def iter_packets(path: str | Path) -> Iterator[av.Packet]:  # type: ignore[type-arg]
    """Demux a track file, stopping quietly at a truncated tail (a crashed writer)."""
    try:
        container = av.open(str(path))
    except av.FFmpegError as e:
        raise TrackFileInvalidError(f"{path} does not demux: {e}") from e
    try:
        packets = container.demux(container.streams[0])
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.FFmpegError:
                return  # truncated cluster at the end of a partial file
            if packet.size:
                yield packet
    finally:
        container.close()


def read_recording(recording_dir: str | Path) -> list[Track]:
    """All tracks of a recording directory, ordered by start time then track id."""
    tracks = [read_track(p) for p in sorted(Path(recording_dir).glob("*.mkv"))]
    if not tracks:
        raise TrackFileInvalidError(f"no tracks in {recording_dir}")
    return sorted(tracks, key=lambda t: (t.start, t.meta.track_id))
