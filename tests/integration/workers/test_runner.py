"""Embedded mode: the in-process runner runs the same job functions, with retries and progress."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import pytest

from protocol.jobs import COMPOSE_RECORDING, TRANSCRIBE_RECORDING
from workers.config import WorkerConfig
from workers.runner import InProcessRunner


async def test_runner_composes_and_transcribes(recording: Path, tmp_path: Path) -> None:
    runner = InProcessRunner(concurrency=2)
    await runner.start()
    try:
        opts = {"width": 320, "height": 180, "fps": 10}
        compose_job = runner.enqueue(COMPOSE_RECORDING, str(recording), str(tmp_path), "gallery", job_id="r1", **opts)
        assert runner.enqueue(COMPOSE_RECORDING, str(recording), str(tmp_path), job_id="r1") is compose_job
        transcribe_job = runner.enqueue(TRANSCRIBE_RECORDING, str(recording), str(tmp_path), job_id="t1")
        result = await compose_job.wait()
        assert compose_job.status == "complete" and compose_job.progress == 100.0 and compose_job.tries == 1
        with av.open(result["mp4"]) as c:
            assert abs(c.duration / 1e6 - 6.0) <= 0.5
        transcript = await transcribe_job.wait()
        assert transcript["segments"] >= 2 and Path(transcript["vtt"]).exists()  # noqa: ASYNC240
    finally:
        await runner.close()


async def test_runner_retries_transient_failures_with_backoff(recording: Path, tmp_path: Path) -> None:
    # The output directory's parent is a *file* at first: an OSError, as a full or missing disk would give.
    # It is replaced by a directory after the first try fails, so a retry succeeds.
    blocker = tmp_path / "out"
    blocker.write_text("not a directory")
    runner = InProcessRunner(WorkerConfig(max_tries=3), backoff_base_s=0.2)
    job = runner.enqueue(COMPOSE_RECORDING, str(recording), str(blocker / "x"), width=160, height=90, fps=5)
    try:
        while job.tries < 1 or job.status == "running":  # noqa: ASYNC110 (polling the handle is the test)
            await asyncio.sleep(0.02)
        assert job.status == "retrying"
        blocker.unlink()
        blocker.mkdir()
        result = await job.wait()
        assert job.tries == 2 and Path(result["mp4"]).exists()  # noqa: ASYNC240
    finally:
        await runner.close()


async def test_runner_fails_bad_input_at_once(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    runner = InProcessRunner(backoff_base_s=0.01)
    job = runner.enqueue(COMPOSE_RECORDING, str(tmp_path / "empty"), str(tmp_path / "out"))
    with pytest.raises(Exception, match="no tracks"):
        await job.wait()
    assert job.status == "failed" and job.tries == 1
