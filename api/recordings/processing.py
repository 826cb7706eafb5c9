"""Processing stopped recordings: compose the media, transcribe, store the transcript, announce READY/FAILED.

The API never imports the workers (ARCHITECTURE.md): it drives a :class:`Processor` chosen by configuration
(``API_RECORDING_PROCESSOR``, an import path; the default runs the worker job functions in this process, as the
embedded stack promises). A sweeper claims stopped recordings one at a time with a conditional UPDATE, so N API
processes never process the same recording twice and a recording stopped by the meeting's end (inside another
transaction) is picked up like any other.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from sqlalchemy import select, update

from api.recordings import service, transcripts
from api.recordings.transcripts import Line
from api.services import Services
from dbschema.recordings import Recording
from protocol.events import EventType

log = logging.getLogger("meetmesh.recordings")

SWEEP_INTERVAL_S = 1.0


class ProcessingError(Exception):
    """The recording cannot be processed; the message is shown to its hosts."""


class Processor(Protocol):
    async def process(
        self, recording_id: str, directory: Path, progress: Callable[[int], Awaitable[None]]
    ) -> list[Line]:
        """Make the recording's media files in ``directory`` (names in ``api.recordings.media.MEDIA``) and return
        its transcript. Raise :class:`ProcessingError` for a failure people should read about."""
        ...


def load_processor(spec: str) -> Processor | None:
    """``module:Class`` → an instance; empty → None (recordings then stay STOPPED)."""
    if not spec:
        return None
    module, _, name = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise RuntimeError(f"API_RECORDING_PROCESSOR={spec!r} cannot be loaded: {exc}") from exc
    processor: Processor = factory()
    return processor


async def _claim(svc: Services) -> Recording | None:
    async with svc.db.write() as tx:
        candidate = await tx.session.scalar(
            select(Recording.id).where(Recording.status == service.STOPPED).order_by(Recording.stopped_at).limit(1)
        )
        if candidate is None:
            return None
        claimed = await tx.session.execute(
            update(Recording)
            .where(Recording.id == candidate, Recording.status == service.STOPPED)
            .values(status="processing", progress=0)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None  # another process took it
        r = await tx.session.get(Recording, candidate, populate_existing=True)
        assert r is not None
        await tx.emit(r.meeting_id, EventType.RECORDING_PROCESSING, data={"recording": service.recording_snapshot(r)})
        return r


async def process_one(svc: Services, processor: Processor, recording_id: str) -> None:
    async def progress(percent: int) -> None:
        await service.processing(svc, recording_id, percent)

    try:
        lines = await processor.process(recording_id, service.recording_dir(svc, recording_id), progress)
    except ProcessingError as exc:
        await service.finished(svc, recording_id, error=str(exc))
        return
    except Exception as exc:
        # The task boundary: log with the id, tell the hosts it failed without internals.
        log.exception("processing recording %s failed", recording_id)
        await service.finished(svc, recording_id, error=f"processing failed unexpectedly ({type(exc).__name__})")
        return
    await transcripts.save(svc, recording_id, lines)
    await service.finished(svc, recording_id)


async def run_processing_forever(svc: Services, processor: Processor) -> None:
    while True:
        try:
            r = await _claim(svc)
            if r is not None:
                await process_one(svc, processor, r.id)
                continue  # look for the next one at once
        except Exception:
            log.exception("recording sweeper failed; retrying")
        await asyncio.sleep(SWEEP_INTERVAL_S)
