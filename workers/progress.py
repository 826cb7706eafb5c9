"""Progress reporting from a job's worker thread to whoever runs it (arq's Redis, or the in-process runner)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from protocol.jobs import PROGRESS_KEY_PREFIX

PROGRESS_TTL_S = 86400


def progress_reporter(ctx: dict[str, Any]) -> Callable[[float], None]:
    """A thread-safe `report(percent)` for the job described by `ctx`.

    In-process mode the runner puts `ctx["progress"]`, a callable taking (job_id, percent). Under arq, `ctx["redis"]`
    is the pool and `ctx["job_id"]` the job: progress goes to `PROGRESS_KEY_PREFIX + job_id`. Calls from the worker
    thread hop onto the event loop, because neither the runner's state nor the Redis client is thread-safe.
    """
    loop = asyncio.get_running_loop()
    job_id = str(ctx.get("job_id", ""))
    sink = ctx.get("progress")
    redis = ctx.get("redis")
    last = [-1.0]

    def send(percent: float) -> None:
        if sink is not None:
            sink(job_id, percent)
        if redis is not None:
            task = loop.create_task(redis.set(PROGRESS_KEY_PREFIX + job_id, f"{percent:.1f}", ex=PROGRESS_TTL_S))
            _pending.add(task)
            task.add_done_callback(_pending.discard)

    def report(percent: float) -> None:
        if percent - last[0] < 1.0 and percent < 100.0:
            return  # at most ~100 updates per job
        last[0] = percent
        loop.call_soon_threadsafe(send, percent)

    return report


_pending: set[asyncio.Task[Any]] = set()
