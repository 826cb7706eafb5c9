"""Scaled mode: real arq workers on the Redis at 127.0.0.1:6379, each test on a queue of its own."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import av
import pytest
from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix, retry_key_prefix
from arq.worker import Worker

from protocol.jobs import COMPOSE_RECORDING, PROGRESS_KEY_PREFIX
from workers.config import WorkerConfig
from workers.settings import worker_kwargs

# arq 0.28 closes its pool with redis-py's deprecated close().
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
async def queue() -> AsyncIterator[tuple[ArqRedis, str]]:
    name = f"test-workers-{uuid.uuid4().hex}"
    pool = await create_pool(RedisSettings.from_dsn(REDIS_URL), default_queue_name=name)
    jobs: list[str] = []
    pool.test_jobs = jobs  # type: ignore[attr-defined]
    try:
        yield pool, name
    finally:
        keys = [name, f"{name}:health-check"]
        for j in jobs:
            keys += [p + j for p in (job_key_prefix, result_key_prefix, retry_key_prefix, in_progress_key_prefix)]
            keys.append(PROGRESS_KEY_PREFIX + j)
        await pool.delete(*keys)
        await pool.aclose()  # type: ignore[attr-defined]


def burst_worker(config: WorkerConfig) -> Worker:
    return Worker(**worker_kwargs(config, load_whisper=False), burst=True, handle_signals=False, poll_delay=0.1)


async def test_burst_worker_composes(recording: Path, tmp_path: Path, queue: tuple[ArqRedis, str]) -> None:
    pool, name = queue
    job_id = f"compose-{uuid.uuid4().hex}"
    pool.test_jobs.append(job_id)  # type: ignore[attr-defined]
    job = await pool.enqueue_job(
        COMPOSE_RECORDING, str(recording), str(tmp_path), "gallery", _job_id=job_id, width=320, height=180, fps=10
    )
    assert job is not None
    # Same id while queued: arq refuses the duplicate, so a double submit composes once.
    assert await pool.enqueue_job(COMPOSE_RECORDING, str(recording), str(tmp_path), _job_id=job_id) is None
    worker = burst_worker(WorkerConfig(redis_url=REDIS_URL, queue_name=name, job_timeout_s=60))
    try:
        await worker.main()
    finally:
        await worker.close()
    info = await job.result_info()
    assert info is not None and info.success and info.job_try == 1
    with av.open(info.result["mp4"]) as c:
        assert abs(c.duration / 1e6 - 6.0) <= 0.5
    assert await pool.get(PROGRESS_KEY_PREFIX + job_id) == b"100.0"


@pytest.mark.slow
async def test_worker_killed_mid_job_is_retried_to_a_complete_output(
    recording: Path, tmp_path: Path, queue: tuple[ArqRedis, str]
) -> None:
    pool, name = queue
    job_timeout = 8.0
    job_id = f"compose-{uuid.uuid4().hex}"
    pool.test_jobs.append(job_id)  # type: ignore[attr-defined]
    # Full 720p, so the job runs long enough (a few seconds) to be killed in the middle.
    job = await pool.enqueue_job(COMPOSE_RECORDING, str(recording), str(tmp_path), "gallery", _job_id=job_id)
    assert job is not None
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REDIS_URL": REDIS_URL, "WORKER_QUEUE": name}
    env["WORKER_JOB_TIMEOUT_S"] = str(job_timeout)
    proc = subprocess.Popen(  # noqa: ASYNC220 (starting a process does not wait for it)
        [sys.executable, "-m", "workers"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            progress = await pool.get(PROGRESS_KEY_PREFIX + job_id)
            if progress is not None and 10.0 <= float(progress) < 100.0:
                break
            assert progress != b"100.0", "the job finished before it could be killed"
            assert time.monotonic() < deadline and proc.poll() is None
            await asyncio.sleep(0.01)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    # Killed mid-job: no finished output, the job still queued and claimed by the dead worker's in-progress key.
    assert not (tmp_path / "compose-gallery.json").exists()
    assert (tmp_path / ".recording-gallery.mp4.gallery.part").exists()
    assert await pool.zscore(name, job_id) is not None
    ttl_ms = await pool.pttl(in_progress_key_prefix + job_id)
    assert 0 < ttl_ms <= (job_timeout + 10) * 1000

    worker = burst_worker(WorkerConfig(redis_url=REDIS_URL, queue_name=name, job_timeout_s=job_timeout))
    started = time.monotonic()
    try:
        await asyncio.wait_for(worker.main(), timeout=job_timeout + 60)
    finally:
        await worker.close()
    # The new worker could only take the job once the dead worker's claim expired.
    assert time.monotonic() - started >= ttl_ms / 1000 - 0.5
    info = await job.result_info()
    assert info is not None and info.success, info
    assert info.job_try == 2
    with av.open(info.result["mp4"]) as c:
        assert abs(c.duration / 1e6 - 6.0) <= 0.5
        assert sum(1 for _ in c.demux(video=0)) >= 150
    assert (tmp_path / "compose-gallery.json").exists()
    assert not list(tmp_path.glob(".*.part"))  # noqa: ASYNC240 the dead run's temporary files were cleared
