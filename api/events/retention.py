"""The event log keeps what resuming subscribers need, for ``API_EVENT_RETENTION`` seconds."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import delete

from api.services import Services
from dbschema.models import MeetingEventRow, utcnow

log = logging.getLogger("meetmesh.api")
PRUNE_EVERY_S = 300


async def prune(svc: Services, older_than_s: float | None = None) -> int:
    """Delete logged events older than the retention period; returns how many went."""
    age = svc.settings.event_retention_s if older_than_s is None else older_than_s
    cutoff = utcnow() - timedelta(seconds=age)
    async with svc.db.write() as tx:
        result = await tx.session.execute(delete(MeetingEventRow).where(MeetingEventRow.at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


async def prune_forever(svc: Services) -> None:
    while True:
        await asyncio.sleep(PRUNE_EVERY_S)
        try:
            gone = await prune(svc)
            if gone:
                log.info("pruned %d old meeting events", gone)
        except Exception:  # a task boundary: log and keep the loop alive
            log.exception("pruning the event log failed")
