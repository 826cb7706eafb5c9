"""Processing stopped recordings: compose the media, transcribe, store the transcript, announce READY/FAILED.

The API never imports the workers (ARCHITECTURE.md): it drives a :class:`Processor` chosen by configuration
(``API_RECORDING_PROCESSOR``, an import path; the default runs the worker job functions in this process, as the
embedded stack promises). A sweeper claims stopped recordings one at a time with a conditional UPDATE, so N API
processes never process the same recording twice and a recording stopped by the meeting's end (inside another
transaction) is picked up like any other.

The claim is a lease (``lease_until``), renewed while the processor works: a recording left "processing" by a
process that died is claimed again once its lease runs out, and its jobs run again (they are idempotent, keyed
by the recording's id, so a re-run gives the same files).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import ColumnElement, and_, or_, select, update

from api.recordings import service, transcripts
from api.recordings.transcripts import Line
from api.services import Services
from dbschema.models import utcnow
from dbschema.recordings import Recording
from protocol.events import EventType

log = logging.getLogger("meetmesh.recordings")

SWEEP_INTERVAL_S = 1.0
LEASE_S = 60.0
"""How long a claim holds without renewal: long enough to ride out a slow database, short enough that a
recording whose process died is taken up again within a minute or so."""


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


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        Recording.status == service.STOPPED,
        and_(Recording.status == "processing", or_(Recording.lease_until.is_(None), Recording.lease_until < now)),
    )


async def _claim(svc: Services, lease_s: float = LEASE_S) -> Recording | None:
    now = utcnow()
    async with svc.db.write() as tx:
        candidate = await tx.session.scalar(
            select(Recording.id).where(_claimable(now)).order_by(Recording.stopped_at).limit(1)
        )
        if candidate is None:
            return None
        # Conditional: between the SELECT and here another process may have claimed it (or renewed its lease).
        claimed = await tx.session.execute(
            update(Recording)
            .where(Recording.id == candidate, _claimable(now))
            .values(status="processing", progress=0, lease_until=now + timedelta(seconds=lease_s))
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None  # another process took it
        r = await tx.session.get(Recording, candidate, populate_existing=True)
        assert r is not None
        await tx.emit(r.meeting_id, EventType.RECORDING_PROCESSING, data={"recording": service.recording_snapshot(r)})
        return r


async def _renew(svc: Services, recording_id: str, lease_s: float) -> bool:
    """Extend our lease; False if the recording is no longer ours to process (finished, deleted)."""
    async with svc.db.write() as tx:
        renewed = await tx.session.execute(
            update(Recording)
            .where(Recording.id == recording_id, Recording.status == "processing")
            .values(lease_until=utcnow() + timedelta(seconds=lease_s))
            .execution_options(synchronize_session=False)
        )
        return bool(renewed.rowcount)  # type: ignore[attr-defined]


async def _keep_lease(svc: Services, recording_id: str, lease_s: float) -> None:
    while True:
        await asyncio.sleep(lease_s / 3)
        try:
            if not await _renew(svc, recording_id, lease_s):
                return
        except Exception:
            # A missed renewal costs at worst a second run of idempotent jobs elsewhere; keep trying.
            log.warning("renewing the processing lease of recording %s failed", recording_id, exc_info=True)


async def process_one(svc: Services, processor: Processor, recording_id: str, lease_s: float = LEASE_S) -> None:
    async def progress(percent: int) -> None:
        await service.processing(svc, recording_id, percent)

    lease = asyncio.create_task(_keep_lease(svc, recording_id, lease_s))
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
    finally:
        lease.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await lease
    await transcripts.save(svc, recording_id, lines)
    await service.finished(svc, recording_id)


async def run_processing_forever(svc: Services, processor: Processor, lease_s: float = LEASE_S) -> None:
    while True:
        try:
            r = await _claim(svc, lease_s)
            if r is not None:
                await process_one(svc, processor, r.id, lease_s)
                continue  # look for the next one at once
        except Exception:
            log.exception("recording sweeper failed; retrying")
        await asyncio.sleep(SWEEP_INTERVAL_S)
