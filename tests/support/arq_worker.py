"""A real ``python -m workers`` process on an arq queue of its own, for the scaled-mode tests (jobs on Redis)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from redis.asyncio import Redis

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def arq_worker(monkeypatch: pytest.MonkeyPatch, jobs: str) -> AsyncIterator[str]:
    """Start the worker on a fresh queue and yield the queue's name. ``REDIS_URL`` and ``WORKER_QUEUE`` are set in
    this process's environment too, so an API started inside the block enqueues there. On exit the worker is
    stopped and the queue's keys (and those of its ``jobs`` jobs, e.g. "webhook") are deleted."""
    queue = f"test-{jobs}-{uuid.uuid4().hex}"
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("WORKER_QUEUE", queue)
    worker = subprocess.Popen([sys.executable, "-m", "workers"], cwd=ROOT, env={**os.environ})  # noqa: ASYNC220
    try:
        yield queue
    finally:
        worker.terminate()
        worker.wait(15)
        redis = Redis.from_url(REDIS_URL)
        keys = [k async for k in redis.scan_iter(match=f"arq:*{queue}:{jobs}:*", count=1000)]
        await redis.delete(queue, f"{queue}:health-check", *keys)
        await redis.aclose()
