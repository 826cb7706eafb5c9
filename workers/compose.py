"""compose_recording: per-track files → one MP4 (H.264 + AAC, faststart), an audio-only M4A, thumbnails, a poster.

Tracks are aligned by their wall-clock start (see `protocol/jobs.py`), with pauses cut (`workers.timeline`).
Video is composited in yuv420p with numpy slice copies of tiles that swscale (`VideoFrame.reformat`) has
already scaled, so the only per-pixel work in Python is a plane copy; layout changes (joins, leaves, mutes,
resolution changes) are re-evaluated per output frame.
Audio is decoded, summed on a 48 kHz mono timeline and also used to pick the active speaker (RMS per 0.5 s).

Idempotent: outputs are written to temporary names and renamed into place; a manifest holding the digest of the
inputs and options is written last, so a rerun with the same inputs finds it and returns without work, and a
rerun after a crash (no manifest) recomposes and replaces whatever partial files exist.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from capture.tracks import Track, TrackFileInvalidError, read_recording
from protocol.jobs import Layout
from workers import label, screen_marks
from workers.audio import decode_audio
from workers.layout import Rect, featured, fit, gallery
from workers.progress import progress_reporter
from workers.timeline import timeline

COMPOSE_VERSION = 2
"""Bump when the output for the same inputs changes, so cached outputs are recomposed."""
AUDIO_RATE = 48000
SPEAKER_WINDOW_S = 0.5
STEREO_MIN_DIFF = 1e-3
"""Channels that differ by more than this anywhere make the output stereo (a mono source decodes to L == R)."""
SPEAKER_MIN_RMS = 0.01
"""Below this RMS (full scale 1.0) nobody is speaking and the previous speaker stays featured."""

Progress = Callable[[float], None]


class ComposeError(Exception):
    """Base of composition errors that a retry cannot fix (bad inputs)."""


@dataclass
class ComposeOptions:
    width: int = 1280
    height: int = 720
    fps: int = 25
    preset: str = "veryfast"
    crf: int = 23
    threads: int = 0
    """Encoder/decoder threads; 0: FFmpeg's choice. 1 for a one-core measurement."""
    thumbnail_interval_s: float = 10.0
    thumbnail_width: int = 320
    labels: bool = True
    """Each tile carries its participant's name."""


@dataclass
class ComposeResult:
    mp4: str
    m4a: str
    poster: str
    thumbnails: list[str]
    duration: float
    digest: str
    speakers: list[str | None] = field(default_factory=list)
    """The featured speaker's participant id per 0.5 s window."""
    skipped: bool = False
    """True when a complete output with the same input digest already existed."""


async def compose_recording(
    ctx: dict[str, Any], recording_dir: str, out_dir: str, layout: Layout = "gallery", **options: Any
) -> dict[str, Any]:
    """The job (arq or in-process): compose in a worker thread, reporting progress through `ctx`."""
    report = progress_reporter(ctx)
    result = await asyncio.to_thread(compose, recording_dir, out_dir, layout, ComposeOptions(**options), report)
    return asdict(result)


def input_digest(tracks: list[Track], layout: str, options: ComposeOptions, marks: bytes = b"") -> str:
    h = hashlib.sha256(json.dumps([COMPOSE_VERSION, layout, asdict(options)]).encode())
    h.update(marks)  # the marks drawn over screen shares (workers/screen_marks.py); empty when there are none
    for t in sorted(tracks, key=lambda t: t.path.name):
        h.update(t.path.name.encode())
        h.update(t.path.with_suffix(".json").read_bytes())
        with open(t.path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


def compose(
    recording_dir: str | Path,
    out_dir: str | Path,
    layout: Layout = "gallery",
    options: ComposeOptions | None = None,
    progress: Progress | None = None,
) -> ComposeResult:
    options = options or ComposeOptions()
    if layout not in ("gallery", "speaker", "screen"):
        raise ComposeError(f"layout must be gallery, speaker or screen (got {layout!r})")
    try:
        tracks = read_recording(recording_dir)
    except TrackFileInvalidError as e:
        raise ComposeError(str(e)) from e
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    digest = input_digest(tracks, layout, options, screen_marks.digest_input(recording_dir))
    manifest = out / f"compose-{layout}.json"
    if manifest.exists():
        try:
            previous = ComposeResult(**json.loads(manifest.read_text()))
        except (ValueError, TypeError):
            previous = None
        if previous and previous.digest == digest and all(Path(p).exists() for p in [previous.mp4, previous.m4a]):
            previous.skipped = True
            return previous
    # Temporary files of a run whose worker died. Their names are per layout and only one worker runs a
    # recording's job for a layout at a time, so they are stale (and would be overwritten anyway).
    for stale in out.glob(f".*.{layout}.part"):
        stale.unlink(missing_ok=True)
    composer = _Composer(tracks, out, layout, options, digest, progress or (lambda _p: None))
    composer.marks = screen_marks.read_marks(recording_dir, composer.timeline)
    result = composer.run()
    _replace_text(manifest, json.dumps(asdict(result), indent=1), layout)
    return result


def _replace_text(path: Path, text: str, layout: str) -> None:
    tmp = _tmp(path, layout)
    tmp.write_text(text)
    os.replace(tmp, path)


def _tmp(path: Path, layout: str) -> Path:
    """The temporary name of an output: per layout, because jobs of different layouts of one recording may run at
    once and share `recording.m4a`; the rename into place is atomic, and they write the same bytes."""
    return path.with_name(f".{path.name}.{layout}.part")


class _Planes:
    """A yuv420p image as one contiguous buffer (what `VideoFrame.from_ndarray` takes) with plane views."""

    def __init__(self, buf: np.ndarray, w: int, h: int) -> None:
        flat = buf.reshape(-1)
        self.buf, self.w, self.h = buf, w, h
        self.y = flat[: w * h].reshape(h, w)
        self.u = flat[w * h : w * h * 5 // 4].reshape(h // 2, w // 2)
        self.v = flat[w * h * 5 // 4 :].reshape(h // 2, w // 2)

    @classmethod
    def blank(cls, w: int, h: int, yuv: tuple[int, int, int] = (16, 128, 128)) -> _Planes:
        p = cls(np.empty((h * 3 // 2, w), np.uint8), w, h)
        p.y[:], p.u[:], p.v[:] = yuv
        return p

    def paste(self, tile: _Planes, r: Rect) -> None:
        self.y[r.y : r.y + r.h, r.x : r.x + r.w] = tile.y
        self.u[r.y // 2 : (r.y + r.h) // 2, r.x // 2 : (r.x + r.w) // 2] = tile.u
        self.v[r.y // 2 : (r.y + r.h) // 2, r.x // 2 : (r.x + r.w) // 2] = tile.v

    def fill(self, r: Rect, yuv: tuple[int, int, int]) -> None:
        self.y[r.y : r.y + r.h, r.x : r.x + r.w] = yuv[0]
        self.u[r.y // 2 : (r.y + r.h) // 2, r.x // 2 : (r.x + r.w) // 2] = yuv[1]
        self.v[r.y // 2 : (r.y + r.h) // 2, r.x // 2 : (r.x + r.w) // 2] = yuv[2]


class _VideoSource:
    """One video track decoded lazily as the output clock advances; holds the frame showing at time t."""

    def __init__(self, track: Track, origin: float, threads: int) -> None:
        self.track, self.origin, self.offset = track, origin, track.start - origin
        self.container = av.open(str(track.path))
        stream = self.container.streams.video[0]
        stream.codec_context.thread_count = threads
        self._frames = self._decode(stream)
        self._first_time: float | None = None
        self.current: av.VideoFrame | None = None
        self._next: tuple[float, av.VideoFrame] | None = None
        self._done = False
        self._cache: tuple[int, Rect, _Planes] | None = None
        self._serial = 0

    def _decode(self, stream: av.video.stream.VideoStream) -> Iterator[av.VideoFrame]:
        try:
            for packet in self.container.demux(stream):
                yield from packet.decode()
        except av.FFmpegError:
            return  # truncated tail of a partial file

    def active(self, t: float) -> bool:
        return self.offset <= t < self.track.end - self.track.start + self.offset

    def advance(self, t: float) -> None:
        while not self._done:
            if self._next is None:
                frame = next(self._frames, None)
                if frame is None:
                    self._done = True
                    break
                ft = float(frame.time or 0.0)
                if self._first_time is None:
                    self._first_time = ft
                self._next = (self.offset + ft - self._first_time, frame)
            if self._next[0] > t + 1e-6:
                break
            self.current = self._next[1]
            self._serial += 1
            self._next = None

    def tile(self, box: Rect) -> tuple[Rect, _Planes] | None:
        """The current frame scaled to fit `box` (cached: sources run slower than the output)."""
        if self.current is None:
            return None
        r = fit(self.current.width, self.current.height, box)
        if self._cache and self._cache[0] == self._serial and self._cache[1] == r:
            return r, self._cache[2]
        scaled = self.current.reformat(width=r.w, height=r.h, format="yuv420p")
        planes = _Planes(scaled.to_ndarray(), r.w, r.h)
        self._cache = (self._serial, r, planes)
        return r, planes

    def close(self) -> None:
        self.container.close()


class _MonoView:
    """Slices of a (samples, 2) signal as mono (the mean of its channels), for `window_energy`."""

    def __init__(self, signal: np.ndarray) -> None:
        self.signal = signal

    def __getitem__(self, key: slice) -> np.ndarray:
        block: np.ndarray = np.asarray(self.signal[key], np.float32).mean(axis=1)
        return block


def window_energy(signal: Any, n_windows: int, block: int = 600) -> np.ndarray:
    """Mean square per 0.5 s window, `block` windows at a time (the signal may be a disk-backed memmap)."""
    win = int(SPEAKER_WINDOW_S * AUDIO_RATE)
    out = np.zeros(n_windows, np.float32)
    for w0 in range(0, n_windows, block):
        w1 = min(n_windows, w0 + block)
        s = np.asarray(signal[w0 * win : w1 * win], np.float32)
        s = np.pad(s, (0, (w1 - w0) * win - len(s)))
        out[w0:w1] = np.mean(s.reshape(w1 - w0, win) ** 2, axis=1)
    return out


def active_speakers(energy: dict[str, np.ndarray], n_windows: int) -> list[str | None]:
    """The loudest participant per 0.5 s window (RMS), holding the previous one through silence."""
    ids = sorted(energy)
    if not ids:
        return [None] * n_windows
    rms = np.sqrt(np.stack([energy[pid] for pid in ids]))
    speakers: list[str | None] = []
    current: str | None = None
    for w in range(n_windows):
        best = int(np.argmax(rms[:, w]))
        if rms[best, w] >= SPEAKER_MIN_RMS:
            current = ids[best]
        speakers.append(current)
    return speakers


class _Composer:
    def __init__(
        self, tracks: list[Track], out: Path, layout: Layout, options: ComposeOptions, digest: str, progress: Progress
    ) -> None:
        self.tracks, self.out, self.layout, self.opt, self.digest = tracks, out, layout, options, digest
        self.progress = progress
        # Pauses are cut: each track is placed at its recorded time, and the output lasts as long as the
        # recording captured (what the API shows as recorded time).
        self.timeline = timeline(tracks)
        self.duration = self.timeline.duration
        self.marks: list[screen_marks.Mark] = []
        """Marks drawn over screen shares, in recorded time (workers/screen_marks.py)."""

    def run(self) -> ComposeResult:
        opt = self.opt
        n_frames = max(1, round(self.duration * opt.fps))
        total_samples = round(n_frames / opt.fps * AUDIO_RATE)
        n_windows = int(np.ceil(total_samples / (SPEAKER_WINDOW_S * AUDIO_RATE)))
        # The mix and each track's signal are disk-backed timelines (an hour of 48 kHz float32 is 0.7 GB): one
        # track at a time is decoded, added to the mix and reduced to window energies, so memory stays small
        # whatever the length and the number of participants. (A participant's tracks are summed in energy,
        # which assumes they are uncorrelated; mic + screen audio are.)
        mix_path = _tmp(self.out / "audio-mix", self.layout)
        track_path = _tmp(self.out / "audio-track", self.layout)
        # Stereo throughout (a browser may send stereo: screen-share audio, a music source); the output is
        # stereo only if some track's channels differ, else mono as before.
        shape = (max(1, total_samples), 2)
        mix = np.memmap(mix_path, np.float32, mode="w+", shape=shape)
        energy: dict[str, np.ndarray] = {}
        stereo = False
        step = 1 << 21
        try:
            for tr in self.tracks:
                if tr.meta.kind == "audio":
                    sig = np.memmap(track_path, np.float32, mode="w+", shape=shape)
                    decode_audio(tr, self.timeline.origin(tr), total_samples, AUDIO_RATE, out=sig, channels=2)
                    for a in range(0, total_samples, step):
                        block = sig[a : a + step]
                        mix[a : a + step] += block
                        stereo = stereo or bool(np.any(np.abs(block[:, 0] - block[:, 1]) > STEREO_MIN_DIFF))
                    e = window_energy(_MonoView(sig), n_windows)
                    pid = tr.meta.participant_id
                    energy[pid] = energy[pid] + e if pid in energy else e
                    del sig
            for a in range(0, total_samples, step):
                np.clip(mix[a : a + step], -1.0, 1.0, out=mix[a : a + step])
            speakers = active_speakers(energy, n_windows)
            self.progress(5.0)
            return self._encode(n_frames, total_samples, mix, speakers, stereo)
        finally:
            del mix
            mix_path.unlink(missing_ok=True)
            track_path.unlink(missing_ok=True)

    def _encode(
        self, n_frames: int, total_samples: int, mix: np.ndarray, speakers: list[str | None], stereo: bool
    ) -> ComposeResult:
        opt = self.opt
        mp4 = self.out / f"recording-{self.layout}.mp4"
        m4a = self.out / "recording.m4a"
        poster = self.out / f"poster-{self.layout}.jpg"
        thumbs_dir = self.out / f"thumbnails-{self.layout}"
        thumbs_dir.mkdir(exist_ok=True)
        tmp_mp4, tmp_m4a = _tmp(mp4, self.layout), _tmp(m4a, self.layout)
        sources = [
            _VideoSource(t, self.timeline.origin(t), opt.threads or 0) for t in self.tracks if t.meta.kind == "video"
        ]
        thumbnails: list[str] = []
        poster_at = min(n_frames - 1, round(n_frames * 0.25))
        try:
            with (
                av.open(str(tmp_mp4), "w", format="mp4", options={"movflags": "+faststart"}) as vc,
                av.open(str(tmp_m4a), "w", format="ipod", options={"movflags": "+faststart"}) as ac,
            ):
                vs = vc.add_stream("libx264", rate=opt.fps)
                vs.width, vs.height, vs.pix_fmt = opt.width, opt.height, "yuv420p"
                vs.codec_context.thread_count = opt.threads
                vs.options = {"preset": opt.preset, "crf": str(opt.crf)}
                audio_streams = []
                for container in (vc, ac):
                    a = container.add_stream("aac", rate=AUDIO_RATE)
                    a.layout = "stereo" if stereo else "mono"
                    a.bit_rate = 128000 if stereo else 96000
                    audio_streams.append((container, a))
                sent = 0
                for i in range(n_frames):
                    t = i / opt.fps
                    canvas = self._render(sources, t, speakers)
                    frame = av.VideoFrame.from_ndarray(canvas.buf, format="yuv420p")
                    frame.pts, frame.time_base = i, Fraction(1, opt.fps)
                    vc.mux(vs.encode(frame))
                    if i % max(1, round(opt.thumbnail_interval_s * opt.fps)) == 0:
                        path = thumbs_dir / f"{round(t):06d}.jpg"
                        _write_jpeg(frame, path, opt.thumbnail_width, self.layout)
                        thumbnails.append(str(path))
                    if i == poster_at:
                        _write_jpeg(frame, poster, opt.width, self.layout)
                    # Audio up to the end of this video frame, in AAC-sized frames.
                    upto = min(total_samples, round((i + 1) / opt.fps * AUDIO_RATE))
                    while sent + 1024 <= upto or (i == n_frames - 1 and sent < total_samples):
                        block = np.array(mix[sent : sent + 1024])
                        chunk = block if stereo else block.mean(axis=1)
                        af = av.AudioFrame.from_ndarray(
                            np.ascontiguousarray(chunk).reshape(1, -1),
                            format="flt",
                            layout="stereo" if stereo else "mono",
                        )
                        af.sample_rate, af.pts, af.time_base = AUDIO_RATE, sent, Fraction(1, AUDIO_RATE)
                        for container, a in audio_streams:
                            container.mux(a.encode(af))
                        sent += len(chunk)
                    if i % max(1, n_frames // 50) == 0:
                        self.progress(5.0 + 94.0 * i / n_frames)
                vc.mux(vs.encode(None))
                for container, a in audio_streams:
                    container.mux(a.encode(None))
            os.replace(tmp_mp4, mp4)
            os.replace(tmp_m4a, m4a)
        finally:
            for s in sources:
                s.close()
            for p in (tmp_mp4, tmp_m4a):
                p.unlink(missing_ok=True)
        self.progress(100.0)
        return ComposeResult(
            mp4=str(mp4),
            m4a=str(m4a),
            poster=str(poster),
            thumbnails=thumbnails,
            duration=n_frames / opt.fps,
            digest=self.digest,
            speakers=speakers,
        )

    def _render(self, sources: list[_VideoSource], t: float, speakers: list[str | None]) -> _Planes:
        opt = self.opt
        canvas = _Planes.blank(opt.width, opt.height)
        shown: list[_VideoSource] = []
        for s in sources:
            if s.active(t):
                s.advance(t)
                shown.append(s)
        by_id = {s.track.meta.track_id: s for s in shown}
        cameras = [s.track.meta.track_id for s in shown if s.track.meta.source == "camera"]
        screens = [s.track.meta.track_id for s in shown if s.track.meta.source == "screen"]
        if self.layout == "gallery" or (self.layout == "screen" and not screens):
            tiles = gallery(screens + cameras, opt.width, opt.height)
        elif self.layout == "screen":
            main: str | None = screens[-1]  # the most recent share
            tiles = featured(main, cameras, opt.width, opt.height)
        else:
            speaker = speakers[min(len(speakers) - 1, int(t / SPEAKER_WINDOW_S))] if speakers else None
            main = next((c for c in cameras if by_id[c].track.meta.participant_id == speaker), None)
            if main is None and cameras:
                main = cameras[0]
            tiles = featured(main, cameras, opt.width, opt.height)
        for tid, box in tiles.items():
            src = by_id[tid]
            tile = None if src.track.muted_at(src.origin + t) else src.tile(box)
            if tile is None:
                canvas.fill(box, (40, 128, 128))  # camera off: a dark grey tile
                shown_rect = box
            else:
                canvas.paste(tile[1], tile[0])
                shown_rect = tile[0]
                if src.track.meta.source == "screen":
                    self._marks(canvas, src.track.meta.participant_id, shown_rect, t)
            if opt.labels:
                self._label(canvas, src.track, shown_rect)
        return canvas

    def _marks(self, canvas: _Planes, sharer: str, picture: Rect, t: float) -> None:
        for mark in self.marks:
            if mark.start > t:
                break  # sorted by start
            opacity = mark.opacity(t) if mark.sharer == sharer else 0.0
            if opacity > 0:
                screen_marks.draw(canvas.y, canvas.u, canvas.v, picture, mark, opacity)

    def _label(self, canvas: _Planes, track: Track, r: Rect) -> None:
        name = track.meta.display_name
        if track.meta.source == "screen":
            name = f"{name} (screen)"
        height = max(label.MIN_HEIGHT, r.h // 12)
        margin = max(2, r.h // 40) // 2 * 2
        lab = label.label(name, r.w - 2 * margin, height)
        if lab is None:
            return
        h = lab.mask.shape[0]
        x0, y0 = (r.x + margin) // 2 * 2, (r.y + r.h - margin - h) // 2 * 2
        if y0 >= r.y:
            label.draw(canvas.y, canvas.u, canvas.v, lab, x0, y0)


def _write_jpeg(frame: av.VideoFrame, path: Path, width: int, layout: str) -> None:
    height = round(frame.height * width / frame.width) // 2 * 2
    enc = av.CodecContext.create("mjpeg", "w")
    assert isinstance(enc, av.VideoCodecContext)
    enc.width, enc.height, enc.pix_fmt = width, height, "yuvj420p"
    enc.time_base = Fraction(1, 1)
    small = frame.reformat(width=width, height=height, format="yuvj420p")
    small.pts = 0
    data = b"".join(bytes(p) for p in [*enc.encode(small), *enc.encode(None)])
    tmp = _tmp(path, layout)
    tmp.write_bytes(data)
    os.replace(tmp, path)
