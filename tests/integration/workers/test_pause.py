"""A paused recording (issue #13 item 5): the pause is cut from the MP4, the M4A and the transcript's times.

Pausing closes every track tap and resuming opens new ones (edge.rooms), so the capture files of a recording
paused from 8 s to 14 s are each participant's tracks for 0-8 s and again from 14 s."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from tests.integration.workers.test_compose import colour, frame_at, near
from tests.support.speech import wer
from workers.captions import from_json
from workers.compose import ComposeOptions, compose
from workers.synthetic import AudioSpec, ParticipantSpec, VideoSpec, place, write_recording
from workers.transcribe import load_model, transcribe

RED, TEAL = (220, 30, 30), (30, 180, 180)
OPTS = ComposeOptions(width=320, height=180, fps=10, thumbnail_interval_s=5.0)
AFTER = "We can continue with the budget now."
ONSET = 1.05
"""Seconds after resuming at which Eve's words become audible (espeak-ng starts with a little silence)."""


def hum(seconds: float, hz: float) -> np.ndarray:
    t = np.arange(round(seconds * 48_000)) / 48_000
    return (0.2 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.fixture(scope="module")
def paused(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Dan hums (a tone: any gap in it is audible to a test) before and after the pause; Eve speaks after it."""
    out = tmp_path_factory.mktemp("paused")
    eve_after, (spoken,) = place([(1.0, AFTER)], 6.0, "en-us")
    assert abs(spoken.onset - ONSET) < 0.1
    write_recording(
        out,
        [
            ParticipantSpec("dan", "Dan", video=VideoSpec(RED, 0.0, 8.0), audio=AudioSpec(0.0, 8.0, pcm=hum(8.0, 300))),
            ParticipantSpec("eve", "Eve", video=VideoSpec(TEAL, 0.2, 7.8), audio=AudioSpec(0.2, duration=7.8)),
            # Resumed at 14 s: new track files.
            ParticipantSpec(
                "dan", "Dan", video=VideoSpec(RED, 14.0, 6.0), audio=AudioSpec(14.0, 6.0, pcm=hum(6.0, 300)), tag="-2"
            ),
            ParticipantSpec(
                "eve", "Eve", video=VideoSpec(TEAL, 14.0, 6.0), audio=AudioSpec(14.0, 6.0, pcm=eve_after), tag="-2"
            ),
        ],
    )
    return out


def test_composed_files_leave_the_pause_out(paused: Path, tmp_path: Path) -> None:
    result = compose(paused, tmp_path, "gallery", OPTS)
    assert abs(result.duration - 14.0) <= 0.5
    for name in ("recording-gallery.mp4", "recording.m4a"):
        with av.open(str(tmp_path / name)) as c:
            assert c.duration is not None and abs(c.duration / 1e6 - 14.0) <= 0.5, name
    # Both cameras show right after the cut: no black frames where the pause was.
    img = frame_at(str(tmp_path / "recording-gallery.mp4"), 8.3)
    assert near(colour(img, 80, 90), RED) and near(colour(img, 240, 90), TEAL), (
        colour(img, 80, 90),
        colour(img, 240, 90),
    )
    # The hum runs through the cut: no silent stretch longer than the 20 ms of padding the synthetic Opus
    # encoder's last packet carries (the pause itself was 6 s of silence).
    with av.open(str(tmp_path / "recording.m4a")) as c:
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
        rate = c.streams.audio[0].sample_rate
    step = rate // 200  # 5 ms
    window = pcm[7 * rate : 9 * rate]
    rms = np.sqrt(np.mean(window[: len(window) // step * step].reshape(-1, step) ** 2, axis=1))
    quiet_run = longest = 0
    for r in rms:
        quiet_run = quiet_run + 1 if r < 0.05 else 0
        longest = max(longest, quiet_run)
    assert longest * 5 <= 25, f"{longest * 5} ms of silence at the cut"


def test_transcript_times_are_recorded_times(paused: Path, tmp_path: Path) -> None:
    segments = from_json(Path(transcribe(paused, tmp_path, load_model()).transcript).read_text())
    eve = [s for s in segments if s.speaker_id == "eve"]
    assert wer(AFTER, " ".join(s.text for s in eve)) <= 0.25
    # Spoken ~1 s after resuming at 14 s of wall-clock time: at 8 + ~1 s of recorded time.
    assert abs(eve[0].start - (8.0 + ONSET)) <= 0.5, eve
