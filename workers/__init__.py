"""Background jobs: recording composition (`compose.py`) and transcription (`transcribe.py`), run by arq workers on
Redis (`settings.py`, `python -m workers`) or in-process (`runner.py`). Job names and the per-track recording
format are in `protocol/jobs.py`; `tracks.py` writes and reads per-track files."""
