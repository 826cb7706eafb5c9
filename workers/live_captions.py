"""Live captions, the heavy half: Opus packets in, caption lines out, in a process of its own.

The edge (``edge.captions``) hands each speaking participant's forwarded Opus packets to this process and never
decodes anything itself. Here, per track: Opus → 16 kHz mono (PyAV), an energy voice-activity segmenter
over the noise floor (:class:`Segmenter`, sans-I/O) cuts utterances - one ends after ``end_silence_s`` of quiet, or at
``max_utterance_s`` so a long monologue still captions as it goes - and faster-whisper (the same offline model
as the recording transcripts, beam 1) turns each into a line. A track that stops sending (muted, gone) has its
pending speech captioned after ``IDLE_FLUSH_S``.

Messages (tuples, pickled through ``multiprocessing`` queues): in ``("packets", key, [payload, ...], sent_at)``
(``sent_at``: the edge's ``time.monotonic()``, a system-wide clock) and ``("stop",)``; out ``("ready",)``,
``("caption", key, text, start_s, end_s, heard_at)`` (times in seconds of that track's audio; ``heard_at``: the
``sent_at`` of the batch that ended the utterance) and ``("error", message)``.
"""

from __future__ import annotations

import collections
import logging
import math
import queue
import time
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np

from workers.hallucination import is_hallucination

RATE = 16_000
IDLE_FLUSH_S = 0.5
"""A track silent on the wire this long (muted, left) has its pending speech captioned."""

log = logging.getLogger("workers.live_captions")


@dataclass(frozen=True, slots=True)
class SegmenterConfig:
    frame_s: float = 0.02
    speech_rms: float = 0.01
    """A frame at least this loud (RMS, full scale 1.0: about -40 dBFS) may be speech: the threshold in silence."""
    floor_window_s: float = 2.0
    """The noise floor is the quietest frame of this much recent audio (gaps between words reach it)."""
    floor_margin_db: float = 8.0
    """Over noise, a frame must be this far above the floor to be speech (frames of steady noise vary ~2 dB)."""
    floor_max_rms: float = 0.05
    """The floor never rises above this (-26 dBFS): a voice with no pause in the window is not noise."""
    end_silence_s: float = 0.4
    max_utterance_s: float = 6.0
    min_speech_s: float = 0.2
    """An utterance with less speech than this (a click, a cough) is not transcribed."""
    pre_roll_s: float = 0.2
    """Quiet kept before the first loud frame, so a soft word onset is not cut."""


@dataclass(frozen=True, slots=True)
class Utterance:
    pcm: np.ndarray
    start_s: float
    end_s: float


@dataclass(slots=True)
class Segmenter:
    """Energy VAD over 16 kHz mono float32: :meth:`feed` returns the utterances that ended. The threshold adapts
    to the noise floor (the quietest frame of the last `floor_window_s`), so the end of a sentence is heard
    over a fan or a street as soon as it is in silence."""

    config: SegmenterConfig = field(default_factory=SegmenterConfig)
    _pending: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    _pre: collections.deque[np.ndarray] = field(default_factory=collections.deque)
    _frames: list[np.ndarray] = field(default_factory=list)
    _speech_s: float = 0.0
    _silence_s: float = 0.0
    _start_s: float = 0.0
    _recent: collections.deque[float] = field(default_factory=collections.deque)
    """Frame RMS of the last `floor_window_s`, for the noise floor."""
    _t: float = 0.0
    """Seconds of audio consumed so far."""

    @property
    def speaking(self) -> bool:
        return bool(self._frames)

    def feed(self, pcm: np.ndarray) -> list[Utterance]:
        cfg = self.config
        n = round(cfg.frame_s * RATE)
        pending = np.concatenate((self._pending, pcm.astype(np.float32, copy=False)))
        out: list[Utterance] = []
        pre_frames = max(0, round(cfg.pre_roll_s / cfg.frame_s))
        floor_frames = max(1, round(cfg.floor_window_s / cfg.frame_s))
        margin = 10 ** (cfg.floor_margin_db / 20)
        offset = 0
        while len(pending) - offset >= n:
            frame = pending[offset : offset + n]
            offset += n
            rms = float(np.sqrt(np.mean(frame * frame)))
            self._recent.append(rms)
            if len(self._recent) > floor_frames:
                self._recent.popleft()
            # A fixed threshold never hears the pause after a sentence once background noise is above it: the
            # pause is then only "quieter than the voice". So speech is what stands out of the recent floor.
            floor = min(min(self._recent), cfg.floor_max_rms)
            loud = rms >= max(cfg.speech_rms, floor * margin)
            if not self._frames:
                if loud:
                    self._start_s = self._t - len(self._pre) * cfg.frame_s
                    self._frames = [*self._pre, frame]
                    self._pre.clear()
                    self._speech_s, self._silence_s = cfg.frame_s, 0.0
                else:
                    self._pre.append(frame)
                    while len(self._pre) > pre_frames:
                        self._pre.popleft()
            else:
                self._frames.append(frame)
                if loud:
                    self._speech_s += cfg.frame_s
                    self._silence_s = 0.0
                else:
                    self._silence_s += cfg.frame_s
                if self._silence_s >= cfg.end_silence_s or len(self._frames) * cfg.frame_s >= cfg.max_utterance_s:
                    utterance = self._finish(self._t + cfg.frame_s)
                    if utterance is not None:
                        out.append(utterance)
            self._t += cfg.frame_s
        self._pending = pending[offset:].copy()
        return out

    def flush(self) -> Utterance | None:
        """End the current utterance now (the track went quiet on the wire)."""
        return self._finish(self._t) if self._frames else None

    def _finish(self, end_s: float) -> Utterance | None:
        frames, speech = self._frames, self._speech_s
        self._frames, self._speech_s, self._silence_s = [], 0.0, 0.0
        if speech < self.config.min_speech_s:
            return None
        return Utterance(np.concatenate(frames), self._start_s, end_s)


class _Track:
    """One participant's audio: Opus decoder, resampler to 16 kHz mono, segmenter."""

    def __init__(self, config: SegmenterConfig) -> None:
        self.decoder: Any = av.CodecContext.create("opus", "r")
        self.resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        self.segmenter = Segmenter(config)
        self.last = time.monotonic()

    def feed(self, payloads: list[bytes]) -> list[Utterance]:
        chunks: list[np.ndarray] = []
        for payload in payloads:
            try:
                frames = self.decoder.decode(av.Packet(payload))
            except av.error.FFmpegError:
                continue  # a damaged packet: skip it, the next one decodes
            for frame in frames:
                for out in self.resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
        if not chunks:
            return []
        return self.segmenter.feed(np.concatenate(chunks))


def caption_text(model: Any, pcm: np.ndarray, language: str = "") -> str:
    """One utterance → its line ("" for noise). `language`: ISO 639-1 code; empty: "en" for an English-only
    model, else detected on the utterance (a multilingual model captions each speaker in their language)."""
    return caption_line(model, pcm, language)[0]


def caption_line(model: Any, pcm: np.ndarray, language: str = "") -> tuple[str, str]:
    """One utterance → (its line, the ISO 639-1 code it was decoded in): the configured language, "en" for an
    English-only model, else what Whisper detected on the utterance. The line is "" for noise."""
    segments, info = model.transcribe(
        pcm,
        language=caption_language(model, language),
        beam_size=1,
        temperature=0.0,  # no sampling fallback: the same speech gives the same line
        condition_on_previous_text=False,
        vad_filter=False,
        without_timestamps=True,
    )
    segments = list(segments)
    text = " ".join(s.text.strip() for s in segments).strip()
    # Whisper writes noise as text ("[Music]", ".", "you"): the same filter as recorded transcripts, where a
    # real "Thank you." is kept. Without word timestamps the decoder's confidence is its mean log-probability.
    probability = math.exp(min(s.avg_logprob for s in segments)) if segments else 0.0
    used = caption_language(model, language) or str(info.language)
    return ("" if not text or is_hallucination(text, probability) else text[:500]), used


def caption_language(model: Any, language: str = "") -> str | None:
    """The language to pass to Whisper: an English-only model only does "en"; else `language` or None (detect)."""
    if not model.model.is_multilingual:
        return "en"
    return language or None


def run(inbox: Any, outbox: Any, model_path: str = "", threads: int = 1, language: str = "") -> None:
    """The captioning process's main loop (a ``multiprocessing`` target)."""
    from workers.transcribe import load_model

    try:
        model = load_model(model_path, threads)
    except Exception as exc:  # the process boundary: tell the edge why there will be no captions
        outbox.put(("error", f"cannot load the Whisper model: {exc}"))
        return
    config = SegmenterConfig()
    tracks: dict[str, _Track] = {}
    outbox.put(("ready",))

    def caption(key: str, utterance: Utterance, heard_at: float) -> None:
        text, used = caption_line(model, utterance.pcm, language)
        if text:
            outbox.put(("caption", key, text, utterance.start_s, utterance.end_s, heard_at, used))

    while True:
        try:
            item = inbox.get(timeout=0.1)
        except queue.Empty:
            item = None
        now = time.monotonic()
        if item is not None:
            if item[0] == "stop":
                return
            if item[0] == "packets":
                _, key, payloads, sent_at = item
                track = tracks.get(key)
                if track is None:
                    track = tracks[key] = _Track(config)
                track.last = sent_at
                for utterance in track.feed(payloads):
                    caption(key, utterance, sent_at)
            continue
        # Caught up with the queue: a track with nothing sent for a while really went quiet (while transcribing,
        # queued batches would look "late" and cut an utterance that was still going on).
        for key, track in list(tracks.items()):
            if now - track.last >= IDLE_FLUSH_S:
                pending = track.segmenter.flush()
                if pending is not None:
                    caption(key, pending, track.last)
                if now - track.last >= 60:
                    del tracks[key]  # long gone: free its decoder
