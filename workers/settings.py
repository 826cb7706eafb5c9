"""arq worker settings (scaled mode): `python -m workers` or `arq workers.settings.WorkerSettings`.

Crash recovery, as arq 0.26+ does it: a job stays in the queue's sorted set until a worker finishes it; a worker
claims it by setting `arq:in-progress:<job id>` with a TTL of (largest job timeout + 10 s). If the worker dies the
key expires, another worker claims the job again and runs it with `job_try` incremented (the `arq:retry:` counter is
bumped at every start), up to `max_tries`. Our jobs are idempotent, so re-running a half-done job is safe.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from arq import Retry
from arq.connections import RedisSettings
from arq.worker import Function, func

from workers.config import WorkerConfig
from workers.registry import JOBS, PERMANENT_ERRORS, JobFunction, backoff_s
from workers.transcribe import load_model

log = logging.getLogger("workers")


def with_retry(name: str, fn: JobFunction) -> JobFunction:
    """Turn a transient failure into arq's `Retry` with exponential backoff; bad inputs fail at once."""

    @functools.wraps(fn)
    async def job(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(ctx, *args, **kwargs)
        except PERMANENT_ERRORS:
            log.exception("job %s %s failed for good", name, ctx.get("job_id"))
            raise
        except Exception as e:
            delay = backoff_s(int(ctx.get("job_try", 1)))
            log.warning(
                "job %s %s try %s failed (%s); retrying in %.0f s",
                name,
                ctx.get("job_id"),
                ctx.get("job_try"),
                e,
                delay,
            )
            raise Retry(defer=delay) from e

    return job


def functions(config: WorkerConfig) -> list[Function]:
    return [
        func(with_retry(name, fn), name=name, max_tries=config.max_tries)  # type: ignore[arg-type]
        for name, fn in JOBS.items()
    ]


def make_startup(config: WorkerConfig, load_whisper: bool = True) -> Any:
    async def startup(ctx: dict[str, Any]) -> None:
        ctx["config"] = config
        if load_whisper:
            # Once per worker process, off the event loop (~1 s).
            ctx["whisper_model"] = await asyncio.to_thread(load_model, config.whisper_model, config.whisper_threads)

    return startup


def worker_kwargs(config: WorkerConfig, load_whisper: bool = True) -> dict[str, Any]:
    """Keyword arguments for `arq.worker.Worker` (tests build workers with their own queue from these)."""
    return {
        "functions": functions(config),
        "queue_name": config.queue_name,
        "on_startup": make_startup(config, load_whisper),
        "job_timeout": config.job_timeout_s,
        "max_tries": config.max_tries,
        "max_jobs": config.max_jobs,
        "redis_settings": RedisSettings.from_dsn(config.redis_url),
    }


_config = WorkerConfig.from_env()


class WorkerSettings:
    """For the `arq` CLI."""

    functions = functions(_config)
    queue_name = _config.queue_name
    on_startup = make_startup(_config)
    job_timeout = _config.job_timeout_s
    max_tries = _config.max_tries
    max_jobs = _config.max_jobs
    redis_settings = RedisSettings.from_dsn(_config.redis_url)
