"""Synthetic recordings for tests and benchmarks: what the edge's recording taps would write for fake participants.

Video: a solid colour per participant (so a pixel check tells tiles apart) with a moving bar, encoded to VP8.
Audio: espeak-ng speech (or silence) encoded to Opus in 20 ms packets. Both go through `TrackWriter`.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from capture.tracks import TrackWriter
from protocol.jobs import TrackMeta

VIDEO_CLOCK = 90000
AUDIO_CLOCK = 48000
T0 = 1_700_000_000.0
"""Wall-clock time zero of synthetic recordings (fixed, so outputs are reproducible)."""


@dataclass
class VideoSpec:
    rgb: tuple[int, int, int]
    start: float
    duration: float
    size: tuple[int, int] = (320, 180)
    resize_at: float | None = None
    """Switch to `resize_to` this many seconds into the track (a resolution change)."""
    resize_to: tuple[int, int] = (480, 270)
    fps: int = 15
    source: str = "camera"
    texture: bool = False
    """Overlay a scrolling random luma texture (±24): costs an encoder about what a camera picture does, where a
    flat colour costs almost nothing. Benchmarks use it; pixel-colour tests do not need it."""


@dataclass
class AudioSpec:
    start: float
    duration: float | None = None
    """Seconds of audio; None: the length of the speech."""
    text: str = ""
    """Spoken with espeak-ng; empty: silence."""
    mutes: list[tuple[float, float]] = field(default_factory=list)
    """(start, end) seconds into the track during which no packets are sent (a mute gap)."""
    pcm: np.ndarray | None = None
    """48 kHz float32 to send instead of `text` (mixes, noise, echo built by the caller): shape (n,) mono or
    (n, 2) stereo."""


@dataclass
class ParticipantSpec:
    participant_id: str
    name: str
    video: VideoSpec | None = None
    audio: AudioSpec | None = None
    screen: VideoSpec | None = None
    tag: str = ""
    """Appended to the track ids: the same participant's tracks of a second capture (after a pause)."""


def rgb_to_yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """BT.601 limited range, as swscale converts."""
    r, g, b = rgb
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    return round(y), round(u), round(v)


def speech(text: str, rate: int = 48000, voice: str = "", wpm: int = 0) -> np.ndarray:
    """espeak-ng speech as float32 mono at `rate`; `voice` (e.g. "en-gb-scotland") and `wpm` (words per minute)
    default to espeak-ng's own (en, 175)."""
    args = ["espeak-ng"] + (["-v", voice] if voice else []) + (["-s", str(wpm)] if wpm else [])
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "s.wav"
        subprocess.run([*args, "-w", str(wav), text], check=True, capture_output=True)
        with av.open(str(wav)) as c:
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            chunks = [f.to_ndarray().reshape(-1) for fr in c.decode(audio=0) for f in resampler.resample(fr)]
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.float32)


@dataclass(frozen=True)
class Placed:
    text: str
    onset: float
    """Seconds at which the speech becomes audible (first sample above 1 % of full scale)."""
    end: float


def active_rms(pcm: np.ndarray) -> float:
    """RMS over the 20 ms frames that carry speech (above -40 dBFS)."""
    n = len(pcm) // 960
    frames = pcm[: n * 960].reshape(n, 960)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    loud = rms[rms > 0.01]
    return float(np.sqrt(np.mean(loud * loud))) if len(loud) else 0.0


def place(
    lines: list[tuple[float, str]], duration: float, voice: str = "", wpm: int = 0, gain: float = 1.0
) -> tuple[np.ndarray, list[Placed]]:
    """Speak each (start seconds, text) at its time; returns the 48 kHz signal and where each line is heard."""
    out = np.zeros(round(duration * AUDIO_CLOCK), np.float32)
    placed = []
    for start, text in lines:
        pcm = speech(text, AUDIO_CLOCK, voice, wpm) * gain
        a = round(start * AUDIO_CLOCK)
        b = min(len(out), a + len(pcm))
        out[a:b] += pcm[: b - a]
        loud = np.flatnonzero(np.abs(pcm) > 0.01 * gain)
        placed.append(Placed(text, start + loud[0] / AUDIO_CLOCK, start + loud[-1] / AUDIO_CLOCK))
    return out, placed


def noise(n: int, rms: float, seed: int) -> np.ndarray:
    """Seeded pink-ish noise (white through a one-pole low-pass, like a fan or a room) at `rms`."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(n).astype(np.float32)
    # A one-pole low-pass approximated by its truncated impulse response (numpy has no IIR filter).
    kernel = 0.97 ** np.arange(64, dtype=np.float32)
    pink = np.convolve(white, kernel, mode="same").astype(np.float32)
    return pink * (rms / float(np.sqrt(np.mean(pink * pink))))


def echo(pcm: np.ndarray, db: float, delay_s: float = 0.06) -> np.ndarray:
    """`pcm` attenuated by `db` (negative) and delayed, as a speaker's voice reaches another's microphone."""
    d = round(delay_s * AUDIO_CLOCK)
    out = np.zeros_like(pcm)
    out[d:] = pcm[: len(pcm) - d] * 10 ** (db / 20)
    return out


def _video_frames(spec: VideoSpec) -> list[tuple[av.VideoFrame, float]]:
    frames = []
    n = round(spec.duration * spec.fps)
    y, u, v = rgb_to_yuv(spec.rgb)
    rng = np.random.default_rng(sum(spec.rgb))
    textures: dict[tuple[int, int], np.ndarray] = {}
    for i in range(n):
        t = i / spec.fps
        w, h = spec.resize_to if spec.resize_at is not None and t >= spec.resize_at else spec.size
        img = np.empty((h * 3 // 2, w), np.uint8)
        img[:h] = y
        img[h : h + h // 4] = u
        img[h + h // 4 :] = v
        if spec.texture:
            if (w, h) not in textures:
                # Smooth-ish: random blocks upscaled 4x, like real picture detail rather than white noise.
                small = rng.integers(-24, 25, (h // 4 + 1, w // 4 + 1), dtype=np.int16)
                textures[(w, h)] = np.kron(small, np.ones((4, 4), np.int16))[:h, :w]
            moved = np.roll(textures[(w, h)], (i, 2 * i), axis=(0, 1))  # a slow diagonal pan
            img[:h] = np.clip(moved + y, 16, 235).astype(np.uint8)
        # A moving bright bar in the bottom quarter: motion, away from the centre where colours are checked.
        x = (i * 4) % max(1, w - 8)
        img[h * 7 // 8 : h, x : x + 8] = 235
        frames.append((av.VideoFrame.from_ndarray(img, format="yuv420p"), t))
    return frames


def write_video_track(path: Path, meta: TrackMeta, spec: VideoSpec) -> None:
    writer = TrackWriter()
    meta.width, meta.height = spec.size
    writer.open(path, "video", "vp8", meta)
    enc: av.VideoCodecContext | None = None
    size = None
    for frame, t in _video_frames(spec):
        if (frame.width, frame.height) != size:
            # A new encoder per size, as a browser restarts its stream with a keyframe at the new resolution.
            enc = av.CodecContext.create("libvpx", "w")
            assert isinstance(enc, av.VideoCodecContext)
            enc.width, enc.height, enc.pix_fmt = frame.width, frame.height, "yuv420p"
            enc.time_base = Fraction(1, spec.fps)
            enc.framerate = Fraction(spec.fps)
            enc.bit_rate = 300_000
            enc.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
            size = (frame.width, frame.height)
        assert enc is not None
        frame.pts = round(t * spec.fps)
        frame.time_base = Fraction(1, spec.fps)
        for packet in enc.encode(frame):
            # pts in the RTP clock, as the edge sees it.
            writer.write_packet(
                bytes(packet), round(t * VIDEO_CLOCK) + 1234, packet.is_keyframe, wallclock=T0 + spec.start
            )
    writer.close()


def write_audio_track(path: Path, meta: TrackMeta, spec: AudioSpec) -> None:
    if spec.pcm is not None:
        pcm = spec.pcm.astype(np.float32, copy=False)
    else:
        pcm = speech(spec.text) if spec.text else np.zeros(0, np.float32)
    stereo = pcm.ndim == 2
    layout = "stereo" if stereo else "mono"
    total = spec.duration if spec.duration is not None else len(pcm) / AUDIO_CLOCK + 0.5
    n = round(total * AUDIO_CLOCK)
    buf = np.zeros((n, 2) if stereo else n, np.float32)
    buf[: min(n, len(pcm))] = pcm[:n]
    writer = TrackWriter()
    writer.open(path, "audio", "opus", meta)
    enc = av.CodecContext.create("libopus", "w")
    assert isinstance(enc, av.AudioCodecContext)
    enc.sample_rate, enc.layout, enc.format = AUDIO_CLOCK, layout, "s16"
    enc.bit_rate = 32000
    step = 960  # 20 ms
    for i in range(0, n - step + 1, step):
        t = i / AUDIO_CLOCK
        muted = any(a <= t < b for a, b in spec.mutes)
        if muted:
            continue
        chunk = (np.clip(buf[i : i + step], -1, 1) * 32767).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout=layout)
        frame.sample_rate, frame.pts, frame.time_base = AUDIO_CLOCK, i, Fraction(1, AUDIO_CLOCK)
        for packet in enc.encode(frame):
            assert packet.pts is not None
            writer.write_packet(bytes(packet), packet.pts + 5000, True, wallclock=T0 + spec.start)
    for packet in enc.encode(None):
        assert packet.pts is not None
        writer.write_packet(bytes(packet), packet.pts + 5000, True, wallclock=T0 + spec.start)
    for a, b in spec.mutes:
        writer.set_muted(True, T0 + spec.start + a)
        writer.set_muted(False, T0 + spec.start + b)
    writer.close()


def write_recording(out: Path, participants: list[ParticipantSpec]) -> Path:
    """Write every participant's tracks into `out` (created) and return it."""
    out.mkdir(parents=True, exist_ok=True)
    for p in participants:
        for source, vspec in (("camera", p.video), ("screen", p.screen)):
            if vspec is None:
                continue
            tid = f"{p.participant_id}-{source}{p.tag}"
            meta = TrackMeta(tid, p.participant_id, p.name, "video", source, "vp8", VIDEO_CLOCK)  # type: ignore[arg-type]
            write_video_track(out / f"{tid}.mkv", meta, vspec)
        if p.audio is not None:
            tid = f"{p.participant_id}-mic{p.tag}"
            meta = TrackMeta(tid, p.participant_id, p.name, "audio", "mic", "opus", AUDIO_CLOCK)
            write_audio_track(out / f"{tid}.mkv", meta, p.audio)
    return out
