from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from faster_whisper import WhisperModel

from tests.integration.workers.conftest import ALICE_TEXT, BOB_TEXT, wer
from workers.captions import from_json
from workers.synthetic import speech
from workers.transcribe import load_model, transcribe, transcribe_window


@pytest.fixture(scope="module")
def model() -> WhisperModel:
    return load_model()


def test_transcript_is_speaker_labelled_accurate_and_exported(
    recording: Path, model: WhisperModel, tmp_path: Path
) -> None:
    result = transcribe(recording, tmp_path, model)
    segments = from_json(Path(result.transcript).read_text())
    assert segments == sorted(segments, key=lambda s: s.start)
    by_speaker = {pid: " ".join(s.text for s in segments if s.speaker_id == pid) for pid in ("alice", "bob")}
    assert wer(ALICE_TEXT, by_speaker["alice"]) <= 0.15, by_speaker["alice"]
    assert wer(BOB_TEXT, by_speaker["bob"]) <= 0.15, by_speaker["bob"]
    assert {s.speaker_name for s in segments if s.speaker_id == "bob"} == {"Bob"}
    # Bob joined at 1 s: his words are on the recording's timeline, not his track's.
    assert min(s.start for s in segments if s.speaker_id == "bob") >= 0.9
    assert min(s.start for s in segments if s.speaker_id == "alice") < 0.5
    vtt = Path(result.vtt).read_text()
    assert vtt.startswith("WEBVTT") and "<v Bob>" in vtt and "<v Alice>" in vtt
    srt = Path(result.srt).read_text()
    assert srt.count(" --> ") == len(segments) and "Bob: " in srt
    # Idempotent: the same inputs give the same files, without running the model again.
    again = transcribe(recording, tmp_path, model)
    assert again.skipped and again.digest == result.digest


def test_transcribe_window_offsets_and_labels(model: WhisperModel) -> None:
    pcm = np.concatenate([np.zeros(8000, np.float32), speech("Please share your screen now.", 16000)])
    segs = transcribe_window(model, pcm, offset_s=100.0, speaker_id="c", speaker_name="Carol")
    assert segs and all(s.speaker_id == "c" and s.start >= 100.0 for s in segs)
    assert wer("please share your screen now", " ".join(s.text for s in segs)) <= 0.2
