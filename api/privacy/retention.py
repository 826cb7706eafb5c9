"""The privacy sweeper: prunes the audit log (``API_AUDIT_RETENTION_DAYS``) and deletes recordings past their
retention (the owner's ``recordingRetentionDays``, else ``API_RECORDING_RETENTION_DAYS``)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from api.audit import service as audit
from api.privacy import service
from api.services import Services
from dbschema.models import utcnow

log = logging.getLogger("meetmesh.api")
SWEEP_EVERY_S = 600


async def sweep(svc: Services, now: datetime | None = None) -> tuple[int, int]:
    """One pass; returns (audit rows pruned, recordings deleted). ``now`` is injectable for tests."""
    pruned = await audit.prune(svc, now)
    recordings = await service.sweep_recordings(svc, now)
    await asyncio.to_thread(service.remove_stale_exports, svc, (now or utcnow()).timestamp())
    return pruned, recordings


async def sweep_forever(svc: Services) -> None:
    while True:
        await asyncio.sleep(SWEEP_EVERY_S)
        try:
            pruned, recordings = await sweep(svc)
            if pruned or recordings:
                log.info("privacy sweep: %d audit rows pruned, %d recordings deleted", pruned, recordings)
        except Exception:  # a task boundary: log and keep the loop alive
            log.exception("the privacy sweep failed")
