"""Held-out transcription: sentences, voices, speeds and noise levels the tests never use (issue #13).

Four two-person conversations, each a different pair of espeak-ng voices (en-gb, en-gb-scotland, en-029,
en-us-nyc, en-gb-x-gbcwmd) at 150-200 words/min, taking turns with pauses of 0.5-1.5 s. Each microphone track
holds its owner's voice and the other's echo at -30 dB (60 ms late), plus seeded room noise: none, 20 dB and
10 dB below the speech (SNR). Tracks are Opus through `capture.tracks.TrackWriter` (what the edge writes) and
transcribed by `workers.transcribe.transcribe` with the bundled tiny.en (beam 1): the production path.

- `transcribe_wer_heldout`: word error rate pooled over every speaker of every conversation (each speaker's
  lines against what they said); `transcribe_wer_heldout_snr{20,10}` the same per noise level.
- `transcribe_sentences_lost_heldout`: sentences with more than 70 % of their words missing.
- `transcribe_turn_start_error_p95_s` (and `_p50_s`): per spoken sentence, |start of the line of that speaker
  nearest to it - the moment its speech becomes audible|.
- `transcribe_heldout_rtf`: wall seconds of transcription per second of conversation.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from faster_whisper import WhisperModel

from bench.wer import errors as word_errors
from workers.captions import Segment, from_json
from workers.synthetic import AudioSpec, ParticipantSpec, active_rms, echo, noise, place, speech, write_recording
from workers.transcribe import DecodeOptions, load_model, transcribe


@dataclass(frozen=True)
class Conversation:
    voices: tuple[tuple[str, int], tuple[str, int]]
    """(espeak-ng voice, words/min) of each side."""
    snr_db: float | None
    turns: tuple[str, ...]
    """Alternating sides, first side first."""
    language: str = "en"
    """ISO 639-1 code both sides speak."""


CONVERSATIONS = [
    Conversation(
        (("en-gb", 175), ("en-029", 160)),
        None,
        (
            "Have you had a chance to look at the hotel booking for the conference?",
            "Yes, I reserved six rooms near the station for three nights.",
            "Good. Did they confirm the discount for early payment?",
            "They did, and breakfast is included in the price.",
            "Then we only need to arrange the airport transfer.",
            "I can ask the travel agent about a minibus tomorrow.",
        ),
    ),
    Conversation(
        (("en-gb-scotland", 190), ("en-us-nyc", 150)),
        20.0,
        (
            "The printer on the second floor keeps jamming every morning.",
            "Maybe the paper is too thin for that model.",
            "I switched to the heavier paper last week and nothing changed.",
            "Then we should call the technician before Friday.",
            "Could you also order a spare toner cartridge?",
            "Sure, I will add it to the supplier order today.",
        ),
    ),
    Conversation(
        (("en-gb-x-gbcwmd", 200), ("en-gb", 165)),
        10.0,
        (
            "How many people signed up for the charity run?",
            "Forty two so far, and more are expected this weekend.",
            "That is more than double the number from last year.",
            "The new route along the river seems to attract runners.",
            "We will need extra water stations along the way.",
        ),
    ),
    Conversation(
        (("en-029", 185), ("en-gb-scotland", 155)),
        20.0,
        (
            "When does the new parking policy start?",
            "From the first of next month, according to the memo.",
            "Will visitors still be able to park near the entrance?",
            "Only in the four bays marked with yellow lines.",
            "Then the reception desk should hand out temporary permits.",
        ),
    ),
]


MULTILINGUAL = [
    Conversation(
        (("de", 160), ("de+f2", 175)),
        20.0,
        (
            "Hast du die Unterlagen für die Besprechung am Dienstag schon gelesen?",
            "Ja, aber die Zahlen im dritten Kapitel stimmen noch nicht.",
            "Dann schreibe ich der Buchhaltung heute Nachmittag eine kurze Nachricht.",
            "Gut, und bitte frag auch nach den Reisekosten vom letzten Monat.",
        ),
        "de",
    ),
    Conversation(
        (("es", 165), ("es-419", 150)),
        20.0,
        (
            "¿Sabes a qué hora sale el tren para Valencia mañana?",
            "Creo que hay uno a las nueve y otro después de comer.",
            "Prefiero el de la mañana, así llegamos antes de la reunión.",
            "Entonces compro los billetes esta tarde por internet.",
        ),
        "es",
    ),
]
"""German and Spanish (new sentences, espeak-ng de/es voices, -30 dB echo, 20 dB SNR): language detection and WER
with a multilingual model (`BENCH_WHISPER_MODEL`); the bundled tiny.en is English-only."""


@dataclass
class _Turn:
    side: str
    text: str
    onset: float
    end: float


def _build(tmp: Path, index: int, conv: Conversation) -> tuple[Path, list[_Turn], float]:
    sides = ("a", "b")
    t, schedule = 0.8, []
    for i, text in enumerate(conv.turns):
        voice, wpm = conv.voices[i % 2]
        schedule.append((sides[i % 2], t, text))
        t += len(speech(text, 48_000, voice, wpm)) / 48_000 + 0.5 + (i * 0.37) % 1.0
    duration = t + 1.0
    own: dict[str, np.ndarray] = {}
    turns: list[_Turn] = []
    for s, side in enumerate(sides):
        voice, wpm = conv.voices[s]
        pcm, placed = place([(at, text) for who, at, text in schedule if who == side], duration, voice, wpm)
        own[side] = pcm
        turns += [_Turn(side, p.text, p.onset, p.end) for p in placed]
    people = []
    for s, side in enumerate(sides):
        mic = own[side] + echo(own[sides[1 - s]], -30.0)
        if conv.snr_db is not None:
            mic += noise(len(mic), active_rms(own[side]) * 10 ** (-conv.snr_db / 20), seed=100 * index + s)
        people.append(ParticipantSpec(f"{side}{index}", f"Speaker {side.upper()}", audio=AudioSpec(0.0, pcm=mic)))
    rec = write_recording(tmp / f"conv{index}", people)
    return rec, sorted(turns, key=lambda x: x.onset), duration


def _score(
    segments: list[Segment], turns: list[_Turn], index: int, language: str = "en"
) -> tuple[dict[str, list[int]], list[float], int]:
    """({"normalised"|"raw": [word errors, reference words]}, turn start errors, sentences lost) of one
    conversation."""
    counts = {"normalised": [0, 0], "raw": [0, 0]}
    lost = 0
    starts: list[float] = []
    for side in ("a", "b"):
        mine = [s for s in segments if s.speaker_id == f"{side}{index}"]
        said = [t for t in turns if t.side == side]
        ref, hyp = " ".join(t.text for t in said), " ".join(s.text for s in mine)
        for how, count in counts.items():
            e, n = word_errors(ref, hyp, normalise=how == "normalised", language=language)
            count[0] += e
            count[1] += n
        for turn in said:
            nearest = min(mine, key=lambda s: abs(s.start - turn.onset), default=None)
            starts.append(abs(nearest.start - turn.onset) if nearest else float("inf"))
            heard = " ".join(s.text for s in mine if s.start < turn.end + 1 and s.end > turn.onset - 1)
            if _missing(turn.text, heard) > 0.7:
                lost += 1
    return counts, starts, lost


def _missing(sentence: str, heard: str) -> float:
    """The share of a sentence's words not found anywhere in `heard` (a lost sentence: 1.0)."""
    want = sentence.lower().replace(",", "").replace(".", "").replace("?", "").split()
    got = set(heard.lower().replace(",", " ").replace(".", " ").replace("?", " ").split())
    return sum(w not in got for w in want) / max(1, len(want))


@dataclass
class Scores:
    """One pass of `transcribe` over a set of conversations."""

    errors: dict[str, list[int]]
    """(word errors, reference words) per noise label ("clean", "snr20", "snr10") and "all", normalised
    (`bench.wer`); the same with a "raw:" prefix scored without the normaliser."""
    starts: list[float]
    lost: int
    rtf: float
    hypotheses: list[list[Segment]]
    languages: list[tuple[str, str]] = field(default_factory=list)
    """(spoken, transcribed in) per speaker."""

    def wer(self, key: str = "all") -> float:
        e, w = self.errors[key]
        return e / w


def evaluate(
    conversations: list[Conversation],
    model: WhisperModel | None = None,
    options: DecodeOptions | None = None,
    verbose: bool = True,
) -> Scores:
    """Build each conversation's recording, transcribe it through the production path and score it."""
    model = model or load_model()
    totals: dict[str, list[int]] = {}
    starts: list[float] = []
    hypotheses: list[list[Segment]] = []
    languages: list[tuple[str, str]] = []
    lost = 0
    wall = audio = 0.0
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for i, conv in enumerate(conversations):
            rec, turns, duration = _build(tmp, i, conv)
            t0 = time.perf_counter()
            result = transcribe(rec, tmp / f"out{i}", model, options=options)
            wall += time.perf_counter() - t0
            audio += duration
            segments = from_json(Path(result.transcript).read_text())
            hypotheses.append(segments)
            for side in ("a", "b"):
                said = sorted({s.language for s in segments if s.speaker_id == f"{side}{i}"})
                languages.append((conv.language, ",".join(said) or "-"))
            counts, conv_starts, conv_lost = _score(segments, turns, i, conv.language)
            label = "clean" if conv.snr_db is None else f"snr{conv.snr_db:g}"
            for how, (errors, words) in counts.items():
                prefix = "" if how == "normalised" else "raw:"
                for key in (prefix + "all", prefix + label):
                    e, w = totals.setdefault(key, [0, 0])
                    totals[key] = [e + errors, w + words]
            starts += conv_starts
            lost += conv_lost
            if verbose:
                e, w = counts["normalised"]
                print(f"  conversation {i} ({label}): WER {e / w:.3f}, worst start {max(conv_starts):.2f} s")
    return Scores(totals, starts, lost, wall / audio, hypotheses, languages)


def run() -> dict[str, float | str]:
    options = DecodeOptions()
    scores = evaluate(CONVERSATIONS, options=options)
    out: dict[str, float | str] = {
        "transcribe_wer_heldout": round(scores.wer(), 3),
        "transcribe_sentences_lost_heldout": scores.lost,
        "transcribe_turn_start_error_p50_s": round(float(np.percentile(scores.starts, 50)), 3),
        "transcribe_turn_start_error_p95_s": round(float(np.percentile(scores.starts, 95)), 3),
        "transcribe_heldout_rtf": round(scores.rtf, 3),
        "transcribe_heldout_source": (
            f"{len(CONVERSATIONS)} two-person conversations ({sum(len(c.turns) for c in CONVERSATIONS)} "
            "sentences) the tests do not use: espeak-ng voices en-gb, en-gb-scotland, en-029, en-us-nyc, "
            "en-gb-x-gbcwmd at 150-200 wpm, the other side's echo at -30 dB in every mic, noise none/20/10 dB "
            f"SNR; Opus via the capture writer; workers.transcribe.transcribe, bundled tiny.en int8, "
            f"beam {options.beam_size}, noise suppression {'on' if options.denoise else 'off'}, "
            f"English prompt {options.prompt!r}; WER after "
            "Whisper's English normaliser (*_raw: lower case and punctuation only)"
        ),
    }
    out["transcribe_wer_heldout_raw"] = round(scores.wer("raw:all"), 3)
    for key in ("clean", "snr20", "snr10"):
        if key in scores.errors:
            out[f"transcribe_wer_heldout_{key}"] = round(scores.wer(key), 3)
            out[f"transcribe_wer_heldout_{key}_raw"] = round(scores.wer(f"raw:{key}"), 3)
    other = os.environ.get("BENCH_WHISPER_MODEL", "")
    if other:
        out.update(other_model(other, os.environ.get("BENCH_WHISPER_MODEL_KEY", "other"), options))
    return out


def other_model(path: str, key: str, options: DecodeOptions) -> dict[str, float | str]:
    """The same held-out set with another CTranslate2 model directory (`WORKER_WHISPER_MODEL`), and, if it is
    multilingual, German and Spanish conversations with each speaker's language detected. Measured only when
    `BENCH_WHISPER_MODEL` names the directory: no such model is a dependency of the project."""
    model = load_model(path)
    scores = evaluate(CONVERSATIONS, model=model, options=options)
    out: dict[str, float | str] = {
        f"transcribe_wer_heldout_{key}": round(scores.wer(), 3),
        f"transcribe_wer_heldout_{key}_raw": round(scores.wer("raw:all"), 3),
        f"transcribe_heldout_rtf_{key}": round(scores.rtf, 3),
        f"transcribe_heldout_{key}_source": os.environ.get("BENCH_WHISPER_MODEL_SOURCE", path),
    }
    for label in ("clean", "snr20", "snr10"):
        out[f"transcribe_wer_heldout_{key}_{label}"] = round(scores.wer(label), 3)
    if model.model.is_multilingual:
        multi = evaluate(MULTILINGUAL, model=model, options=options)
        right = sum(spoken == got for spoken, got in multi.languages)
        out[f"transcribe_language_detected_{key}"] = f"{right}/{len(multi.languages)} speakers: " + ", ".join(
            f"{spoken}->{got}" for spoken, got in multi.languages
        )
        out[f"transcribe_wer_de_es_{key}"] = round(multi.wer(), 3)
    return out


if __name__ == "__main__":
    print(run())
