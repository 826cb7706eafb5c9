"""The API's recording processors (``api.recordings.processing.Processor``): compose, then transcribe, then put
the outputs under the names the API serves. Two ways to run the workers' jobs:

- :class:`EmbeddedProcessor` (the default): the job functions in the API's own process
  (``workers.runner.InProcessRunner``: same functions, retries and progress as under arq);
- :class:`ArqProcessor` (scaled mode, ``API_RECORDING_PROCESSOR=stack.jobs:ArqProcessor``): the jobs go on the
  arq queue that ``python -m workers`` processes serve (``REDIS_URL``, ``WORKER_QUEUE``); progress comes back
  through Redis. The workers must see the recordings directory at the same path (shared storage).

Job ids are the recording's (``compose-<id>``), so processing a recording again - a claim taken over after the
API process holding it died - joins the job already queued or running instead of starting a second one.
Lives in ``stack`` because it is where the parts are put together: the API names a processor only by its
import path, so ``api`` never imports ``workers``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.jobs import Job, JobStatus

from api.recordings.processing import ProcessingError
from api.recordings.transcripts import Line
from protocol.jobs import COMPOSE_RECORDING, PROGRESS_KEY_PREFIX, TRANSCRIBE_RECORDING
from workers.captions import from_json
from workers.config import WorkerConfig
from workers.runner import InProcessRunner, JobHandle

COMPOSE_SHARE = 70
"""Composition's share of the progress percent (it is most of the work); transcription has the rest."""
LAYOUT = "gallery"
POLL_S = 0.5

Progress = Callable[[float], Awaitable[None]]


class _Pipeline:
    """Compose → transcribe → publish; subclasses say how one job runs."""

    async def run_job(self, name: str, *args: str, job_id: str, progress: Progress) -> Any:
        """Run job ``name`` to its end, reporting its percent; its failure is a :class:`ProcessingError`."""
        raise NotImplementedError

    async def process(
        self, recording_id: str, directory: Path, progress: Callable[[int], Awaitable[None]]
    ) -> list[Line]:
        if not await asyncio.to_thread(_captured, directory):
            raise ProcessingError("nothing was captured: no media reached the edge while recording")
        out = directory / "out"
        composed = await self.run_job(
            COMPOSE_RECORDING,
            str(directory),
            str(out),
            LAYOUT,
            job_id=f"compose-{recording_id}",
            progress=lambda p: progress(int(p * COMPOSE_SHARE / 100)),
        )
        try:
            await self.run_job(
                TRANSCRIBE_RECORDING,
                str(directory),
                str(out),
                job_id=f"transcribe-{recording_id}",
                progress=lambda p: progress(COMPOSE_SHARE + int(p * (100 - COMPOSE_SHARE) / 100)),
            )
            transcribed = True
        except ProcessingError:
            transcribed = False  # a recording without a transcript is still a recording (nobody had a microphone)
        return await asyncio.to_thread(_outputs, directory, out, composed, transcribed)


class EmbeddedProcessor(_Pipeline):
    def __init__(self) -> None:
        self.runner = InProcessRunner(WorkerConfig.from_env())

    async def run_job(self, name: str, *args: str, job_id: str, progress: Progress) -> Any:
        handle = self.runner.enqueue(name, *args, job_id=job_id)
        await _follow(handle, progress)
        return handle.result


class ArqProcessor(_Pipeline):
    def __init__(self, config: WorkerConfig | None = None) -> None:
        self.config = config or WorkerConfig.from_env()
        self._pool: ArqRedis | None = None

    async def _redis(self) -> ArqRedis:
        if self._pool is None:
            self._pool = await create_pool(
                RedisSettings.from_dsn(self.config.redis_url), default_queue_name=self.config.queue_name
            )
        return self._pool

    async def run_job(self, name: str, *args: str, job_id: str, progress: Progress) -> Any:
        redis = await self._redis()
        job = await redis.enqueue_job(name, *args, _job_id=job_id)
        if job is None:  # queued, running or finished already (a taken-over claim): follow that one
            job = Job(job_id, redis, _queue_name=self.config.queue_name)
        while (status := await job.status()) != JobStatus.complete:
            if status == JobStatus.not_found:
                # Its result expired between our enqueue and now: run it again (jobs are idempotent).
                if await redis.enqueue_job(name, *args, _job_id=job_id) is None:
                    await asyncio.sleep(POLL_S)
                continue
            raw = await redis.get(PROGRESS_KEY_PREFIX + job_id)
            if raw is not None:
                await progress(float(raw))
            await asyncio.sleep(POLL_S)
        info = await job.result_info()
        if info is None:
            raise ProcessingError(f"{name} finished but its result is gone; processing again will redo it")
        if not info.success:
            raise ProcessingError(f"{name} failed: {info.result}")
        await progress(100.0)
        return info.result

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None


def _captured(directory: Path) -> bool:
    return directory.is_dir() and any(directory.glob("*.mkv"))


def _outputs(directory: Path, out: Path, composed: dict[str, str], transcribed: bool) -> list[Line]:
    _publish(Path(composed["mp4"]), directory / "recording.mp4")
    _publish(Path(composed["m4a"]), directory / "audio.m4a")
    _publish(Path(composed["poster"]), directory / "poster.jpg")
    if not transcribed:
        return []
    _publish(out / "transcript.vtt", directory / "captions.vtt")
    _publish(out / "transcript.srt", directory / "transcript.srt")
    segments = from_json((out / "transcript.json").read_text())
    return [Line(s.start, s.end, s.speaker_id, s.speaker_name, s.text, s.language) for s in segments]


async def _follow(handle: JobHandle, progress: Progress) -> None:
    """Report the job's progress until it ends; its failure becomes a ProcessingError people can read."""
    while not handle.done.is_set():
        await progress(handle.progress)
        try:
            await asyncio.wait_for(handle.done.wait(), 0.5)
        except TimeoutError:
            pass
    if handle.error is not None:
        raise ProcessingError(f"{handle.name} failed: {handle.error}")
    await progress(100.0)


def _publish(src: Path, dst: Path) -> None:
    """Put a job's output under the name the API serves (a hard link: no copy, atomic replace)."""
    tmp = dst.with_name(f".{dst.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:  # another file system
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)
