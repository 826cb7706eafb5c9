"""Recording jobs: composition speed (720p, one core) and transcription real-time factor and word error rate.

Inputs are synthetic recordings written through `capture.tracks.TrackWriter` (what the edge's taps will write):
10 s of 640x360 25 fps VP8 cameras per participant (a flat colour under a panning random texture, so the
encoder has picture detail and motion to code) plus Opus speech (espeak-ng). Generating them is not timed.

- `compose_720p_{2,4}up_x_realtime`: seconds of recording composed (gallery, 1280x720 25 fps, H.264 veryfast
  crf 23 + AAC MP4 with faststart, the M4A, thumbnails, poster) per CPU second of this process, with every codec
  limited to one thread (`ComposeOptions.threads=1`: libx264, libvpx decoders). CPU time rather than wall time so
  other load on the machine does not count; with one thread per codec they agree on an idle machine.
- `transcribe_rtf`: wall seconds of `transcribe()` per second of speech (model loaded beforehand; faster-whisper
  tiny.en int8 on CPU, its default threads, beam 5 - the default since #13; measured at beam 1 before);
  `transcribe_wer`: word error rate of the merged transcript against the spoken text, ~30 s of espeak-ng speech
  from two participants.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

from workers.captions import from_json
from workers.compose import ComposeOptions, compose
from workers.synthetic import AudioSpec, ParticipantSpec, VideoSpec, write_recording
from workers.transcribe import load_model, transcribe

COLOURS = [(220, 30, 30), (30, 30, 220), (30, 200, 30), (200, 200, 30)]
SPEECH = [
    "Good morning everyone. Let us start with the status of the mobile release. The build passed all tests "
    "yesterday and we plan to ship it to the store on Thursday afternoon. Please send me any last changes today.",
    "Thanks for the update. The support team reported fewer crashes this week. We still need a fix for the login "
    "screen on older phones, and I will write the release notes before the end of the day.",
]


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = _words(reference), _words(hypothesis)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / max(1, len(ref))


def _compose_x_realtime(tmp: Path, n: int, seconds: float = 10.0) -> float:
    people = [
        ParticipantSpec(
            f"p{i}",
            f"P{i}",
            video=VideoSpec(COLOURS[i], start=0.0, duration=seconds, size=(640, 360), fps=25, texture=True),
            audio=AudioSpec(start=0.0, duration=seconds, text=SPEECH[i % 2] if i < 2 else ""),
        )
        for i in range(n)
    ]
    rec = write_recording(tmp / f"rec{n}", people)
    options = ComposeOptions(width=1280, height=720, fps=25, threads=1)
    cpu = time.process_time()
    result = compose(rec, tmp / f"out{n}", "gallery", options)
    cpu = time.process_time() - cpu
    return result.duration / cpu


def _transcribe(tmp: Path) -> tuple[float, float]:
    people = [
        ParticipantSpec("a", "Ann", audio=AudioSpec(start=0.0, text=SPEECH[0])),
        ParticipantSpec("b", "Ben", audio=AudioSpec(start=16.0, text=SPEECH[1])),
    ]
    rec = write_recording(tmp / "speech", people)
    from capture.tracks import read_recording

    speech_s = sum(t.end - t.start for t in read_recording(rec))
    model = load_model()
    wall = time.perf_counter()
    result = transcribe(rec, tmp / "transcript", model)
    wall = time.perf_counter() - wall
    segments = from_json(Path(result.transcript).read_text())
    hyp = (
        " ".join(s.text for s in segments if s.speaker_id == "a")
        + " "
        + " ".join(s.text for s in segments if s.speaker_id == "b")
    )
    return wall / speech_s, word_error_rate(" ".join(SPEECH), hyp)


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        two = _compose_x_realtime(tmp, 2)
        four = _compose_x_realtime(tmp, 4)
        rtf, wer = _transcribe(tmp)
    return {
        "compose_720p_2up_x_realtime": round(two, 2),
        "compose_720p_4up_x_realtime": round(four, 2),
        "transcribe_rtf": round(rtf, 3),
        "transcribe_wer": round(wer, 3),
    }


if __name__ == "__main__":
    print(run())
