"""In-process job runner (embedded mode): the same job functions and ctx as the arq worker, run as asyncio tasks.

Jobs are keyed by id: enqueueing an id that is pending or running returns the existing handle (as arq does with
`_job_id`). Transient failures are retried with exponential backoff; `PERMANENT_ERRORS` fail at once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from workers.config import WorkerConfig
from workers.registry import JOBS, PERMANENT_ERRORS, backoff_s
from workers.transcribe import load_model

log = logging.getLogger("workers.runner")

JobStatus = Literal["queued", "running", "retrying", "complete", "failed"]


class JobNotFoundError(KeyError):
    pass


@dataclass
class JobHandle:
    job_id: str
    name: str
    status: JobStatus = "queued"
    progress: float = 0.0
    tries: int = 0
    result: Any = None
    error: BaseException | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self) -> Any:
        await self.done.wait()
        if self.error is not None:
            raise self.error
        return self.result


class InProcessRunner:
    def __init__(
        self,
        config: WorkerConfig | None = None,
        concurrency: int = 1,
        backoff_base_s: float = 2.0,
        load_whisper: bool = False,
    ) -> None:
        self.config = config or WorkerConfig()
        self.ctx: dict[str, Any] = {"config": self.config, "progress": self._on_progress}
        self._sem = asyncio.Semaphore(concurrency)
        self._jobs: dict[str, JobHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._backoff_base_s = backoff_base_s
        self._load_whisper = load_whisper

    async def start(self) -> None:
        """Like arq's on_startup: load the Whisper model once (or lazily at the first transcription)."""
        if self._load_whisper:
            self.ctx["whisper_model"] = await asyncio.to_thread(
                load_model, self.config.whisper_model, self.config.whisper_threads
            )

    def _on_progress(self, job_id: str, percent: float) -> None:
        if job_id in self._jobs:
            self._jobs[job_id].progress = percent

    def enqueue(self, name: str, *args: Any, job_id: str | None = None, **kwargs: Any) -> JobHandle:
        if name not in JOBS:
            raise JobNotFoundError(f"no job named {name!r} (known: {', '.join(sorted(JOBS))})")
        job_id = job_id or uuid.uuid4().hex
        existing = self._jobs.get(job_id)
        if existing is not None and existing.status not in ("complete", "failed"):
            return existing
        handle = JobHandle(job_id=job_id, name=name)
        self._jobs[job_id] = handle
        task = asyncio.get_running_loop().create_task(self._run(handle, args, kwargs))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return handle

    def job(self, job_id: str) -> JobHandle:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise JobNotFoundError(job_id) from None

    async def _run(self, handle: JobHandle, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        fn = JOBS[handle.name]
        try:
            while True:
                handle.tries += 1
                ctx = {**self.ctx, "job_id": handle.job_id, "job_try": handle.tries}
                async with self._sem:
                    handle.status = "running"
                    try:
                        handle.result = await fn(ctx, *args, **kwargs)
                        handle.status, handle.progress = "complete", 100.0
                        return
                    except PERMANENT_ERRORS as e:
                        log.exception("job %s %s failed for good", handle.name, handle.job_id)
                        handle.status, handle.error = "failed", e
                        return
                    except Exception as e:
                        if handle.tries >= self.config.max_tries:
                            log.exception("job %s %s failed after %d tries", handle.name, handle.job_id, handle.tries)
                            handle.status, handle.error = "failed", e
                            return
                        delay = backoff_s(handle.tries, self._backoff_base_s)
                        log.warning(
                            "job %s %s try %d failed (%s); retrying in %.1f s",
                            handle.name,
                            handle.job_id,
                            handle.tries,
                            e,
                            delay,
                        )
                        handle.status = "retrying"
                await asyncio.sleep(delay)
        finally:
            handle.done.set()

    async def close(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
