"""Where someone is speaking in a per-participant signal, and the decoding windows cut around it.

Whisper decodes 30 s at a time. Fed a long signal, it seeks from window to window by the last timestamp it
emitted, and a sentence that straddles a window edge can vanish (the decoder closes the window early and the
next one starts after it); its segment starts also include the silence before the speech. So the transcript
job decides the windows itself: Silero VAD (the ONNX model shipped inside the faster-whisper wheel: offline)
finds the speech, and :func:`windows` groups whole speech spans into windows shorter than Whisper's, never
cutting inside one. A span longer than a window is split by the VAD itself at its longest inner pause.

:func:`echo_frames` finds another participant's voice leaking into a track (their speaker into this mic,
attenuated): a frame far quieter than what someone else says at the same moment is their echo, not speech.
All functions are pure (numpy in, numbers out) so they are tested without a model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATE = 16_000
FRAME = 320
"""20 ms at 16 kHz: the echo gate's frame."""


@dataclass(frozen=True, slots=True)
class Span:
    """Speech from `start` to `end` (seconds of the signal)."""

    start: float
    end: float


@dataclass(frozen=True, slots=True)
class VoiceOptions:
    threshold: float = 0.5
    """Silero speech probability above which a 32 ms chunk is speech."""
    min_silence_s: float = 0.3
    """A pause at least this long ends a span (sentence gaps are longer; gaps between words shorter)."""
    min_speech_s: float = 0.15
    """Shorter blips (a click, a breath) are not speech."""
    max_span_s: float = 24.0
    """Longer speech is split by the VAD at an inner pause, so every span fits in a window."""
    pad_s: float = 0.25
    """Audio kept either side of a span when it is decoded (Silero ends a span a little early on soft endings)."""
    window_s: float = 28.0
    """Longest window (Whisper's is 30 s; the rest is headroom for the padding)."""


@dataclass(frozen=True, slots=True)
class Piece:
    """Audio from `start` to `end` (seconds of the signal) placed at `offset` seconds into a window."""

    start: float
    end: float
    offset: float


@dataclass(frozen=True, slots=True)
class Window:
    """What one decode sees: `pieces` of the signal, each holding whole speech spans, laid end to end with
    `GAP_S` of silence between them (long silences are squeezed out, so one decode covers up to `window_s`
    of speech instead of a few seconds)."""

    pieces: tuple[Piece, ...]
    spans: tuple[Span, ...]

    @property
    def length(self) -> float:
        last = self.pieces[-1]
        return last.offset + last.end - last.start

    def to_signal(self, t: float, end: bool = False) -> float:
        """A time in the window → the same moment in the signal. A time in an inserted gap maps to the start of
        the next piece, or for an `end` (a word's end) to the end of the previous one."""
        previous: Piece | None = None
        for p in self.pieces:
            if t < p.offset:
                return previous.end if end and previous is not None else p.start
            if t <= p.offset + p.end - p.start:
                return p.start + t - p.offset
            previous = p
        return self.pieces[-1].end

    def onset_before(self, t: float) -> float | None:
        """The start of the span that signal time `t` lies in (or the gap before it): where that speech began."""
        onset = None
        for s in self.spans:
            if s.start > t:
                break
            onset = s.start
        return onset


GAP_S = 0.4
"""Silence laid between two pieces of a window: Whisper hears a pause and starts a new sentence."""


def speech_spans(pcm: np.ndarray, options: VoiceOptions | None = None) -> list[Span]:
    """Silero VAD over 16 kHz mono float32: the unpadded spans of speech, in order."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    opt = options or VoiceOptions()
    if len(pcm) < FRAME:
        return []
    chunks = get_speech_timestamps(
        pcm.astype(np.float32, copy=False),
        VadOptions(
            threshold=opt.threshold,
            min_silence_duration_ms=round(opt.min_silence_s * 1000),
            min_speech_duration_ms=round(opt.min_speech_s * 1000),
            max_speech_duration_s=opt.max_span_s,
            speech_pad_ms=0,
        ),
        sampling_rate=RATE,
    )
    return [Span(c["start"] / RATE, c["end"] / RATE) for c in chunks if c["end"] > c["start"]]


def windows(spans: list[Span], duration: float, options: VoiceOptions | None = None) -> list[Window]:
    """Lay `spans` (in order) into decoding windows. Each span is padded by `pad_s` (never past the midpoint to
    its neighbour or the signal's ends); spans whose padded audio touches share a piece; pieces are laid end to
    end with `GAP_S` between them while the window stays under `window_s`. No span is ever cut."""
    opt = options or VoiceOptions()
    padded = []
    for i, span in enumerate(spans):
        lo = 0.0 if i == 0 else (spans[i - 1].end + span.start) / 2
        hi = duration if i == len(spans) - 1 else (span.end + spans[i + 1].start) / 2
        padded.append((max(lo, span.start - opt.pad_s), min(hi, span.end + opt.pad_s), span))
    out: list[Window] = []
    pieces: list[Piece] = []
    members: list[Span] = []
    offset = 0.0
    for a, b, span in padded:
        if pieces and pieces[-1].end >= a - 1e-9:
            grown = Piece(pieces[-1].start, b, pieces[-1].offset)
            if grown.offset + grown.end - grown.start <= opt.window_s:
                pieces[-1] = grown
                members.append(span)
                offset = grown.offset + grown.end - grown.start
                continue
        start_at = offset + GAP_S if pieces else 0.0
        if pieces and start_at + (b - a) > opt.window_s:
            out.append(Window(tuple(pieces), tuple(members)))
            pieces, members, start_at = [], [], 0.0
        pieces.append(Piece(a, b, start_at))
        members.append(span)
        offset = start_at + b - a
    if pieces:
        out.append(Window(tuple(pieces), tuple(members)))
    return out


def frame_rms(pcm: np.ndarray) -> np.ndarray:
    """RMS per 20 ms frame (the last partial frame dropped)."""
    n = len(pcm) // FRAME
    frames = pcm[: n * FRAME].astype(np.float32, copy=False).reshape(n, FRAME)
    rms: np.ndarray = np.sqrt(np.mean(frames * frames, axis=1))
    return rms


def echo_frames(levels: np.ndarray, ratio_db: float = 20.0, reach_frames: int = 10) -> np.ndarray:
    """Which 20 ms frames of each signal are another speaker's echo: `levels` is (signals, frames) of
    :func:`frame_rms` on one timeline; a frame `ratio_db` or more below the loudest *other* signal within
    `reach_frames` (echo arrives late by the round trip), counting the signal's own loudest frame within that
    reach too, is marked True. Double talk survives: both voices are then within a few dB of each other."""
    n = levels.shape[0]
    if n < 2:
        return np.zeros(levels.shape, bool)
    k = 2 * reach_frames + 1
    padded = np.pad(levels, ((0, 0), (reach_frames, reach_frames)))
    near = np.lib.stride_tricks.sliding_window_view(padded, k, axis=1).max(axis=2)
    # The loudest other signal per frame: the top two of `near` serve every signal at once.
    order = np.argsort(near, axis=0)
    top, second = near[order[-1], np.arange(near.shape[1])], near[order[-2], np.arange(near.shape[1])]
    others = np.where(order[-1][None, :] == np.arange(n)[:, None], second[None, :], top[None, :])
    # Own level over the same reach: a soft consonant or a gap between words of someone talking over another
    # speaker is not echo as long as their voice is near.
    echo: np.ndarray = near < others * 10 ** (-ratio_db / 20)
    return echo


def silence_frames(pcm: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`pcm` with the 20 ms frames marked in `mask` set to zero (a copy if any are)."""
    if not mask.any():
        return pcm
    out = pcm.copy()
    full = np.repeat(mask, FRAME)
    out[: len(full)][full] = 0.0
    return out
