"""WORKER_WHISPER_MODEL selects another CTranslate2 model directory; the language setting and detection.

Only the bundled English-only tiny.en can be loaded here (no multilingual model is available offline), so
these tests check that another directory is the one loaded, that an English-only model always labels its
segments "en" whatever is configured, and that live captions follow the same rule. Detection with a
multilingual model (`model.detect_language` per speaker) is not exercised by any test."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from tests.integration.workers.conftest import ALICE_TEXT
from tests.support.speech import wer
from workers import transcribe as transcribe_module
from workers.captions import from_json
from workers.config import WorkerConfig
from workers.live_captions import caption_language, caption_line, caption_text
from workers.synthetic import speech
from workers.transcribe import default_model_path, load_model, transcribe_recording


@pytest.fixture(scope="module")
def other_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second model directory (links to the bundled files: a different path, as a deployment would have)."""
    target = tmp_path_factory.mktemp("models") / "whisper-other-ct2"
    target.mkdir()
    for f in Path(default_model_path()).iterdir():
        (target / f.name).symlink_to(f)
    return target


def test_the_job_loads_the_configured_model_directory(recording: Path, other_model: Path, tmp_path: Path) -> None:
    config = WorkerConfig(whisper_model=str(other_model), whisper_language="fr")
    result = asyncio.run(transcribe_recording({"config": config}, str(recording), str(tmp_path)))
    assert (str(other_model), 0) in transcribe_module._models
    segments = from_json(Path(result["transcript"]).read_text())
    # An English-only model can write nothing but English: "fr" cannot apply, and the segments say so.
    assert segments and {s.language for s in segments} == {"en"}
    assert wer(ALICE_TEXT, " ".join(s.text for s in segments if s.speaker_id == "alice")) <= 0.2


def test_a_directory_that_is_not_a_model_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises((RuntimeError, ValueError, OSError)):
        load_model(str(tmp_path))


def test_live_captions_language_follows_the_model() -> None:
    model = load_model()
    assert caption_language(model, "") == "en" and caption_language(model, "de") == "en"
    line = caption_text(model, speech("Thank you.", 16000), "")
    assert wer("thank you", line) == 0.0  # a real "Thank you." is a line, not filtered as noise
    assert caption_text(model, np.zeros(16000, np.float32)) == ""
    # Each line says the language it was decoded in: an English-only model's is "en" even when "de" is asked for.
    assert caption_line(model, speech("Good morning.", 16000), "de") == ("Good morning.", "en")
