from __future__ import annotations

import pytest

from workers.config import WorkerConfig


def test_model_and_language_settings_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_WHISPER_MODEL", "/models/whisper-base-ct2")
    monkeypatch.setenv("WORKER_WHISPER_LANGUAGE", " DE ")
    config = WorkerConfig.from_env()
    assert config.whisper_model == "/models/whisper-base-ct2" and config.whisper_language == "de"


def test_defaults_are_the_bundled_model_and_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKER_WHISPER_MODEL", raising=False)
    monkeypatch.delenv("WORKER_WHISPER_LANGUAGE", raising=False)
    config = WorkerConfig.from_env()
    assert config.whisper_model == "" and config.whisper_language == ""
