"""Pruning the delivery log: delivered and failed deliveries (with their attempts) older than
``API_WEBHOOK_RETENTION_DAYS`` go; pending ones stay whatever their age (they are still owed)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from api.services import Services
from dbschema.models import utcnow
from dbschema.webhooks import WebhookAttempt, WebhookDelivery

log = logging.getLogger("meetmesh.webhooks")

PRUNE_EVERY_S = 3600.0
BATCH = 1000


async def prune(svc: Services, now: datetime | None = None) -> int:
    """Delete what is past retention, in batches (short write transactions); returns how many deliveries."""
    cutoff = (now or utcnow()) - timedelta(days=svc.settings.webhook_retention_days)
    gone = 0
    while True:
        async with svc.db.write() as tx:
            ids = list(
                await tx.session.scalars(
                    select(WebhookDelivery.id)
                    .where(WebhookDelivery.created_at < cutoff, WebhookDelivery.status != "pending")
                    .limit(BATCH)
                )
            )
            if ids:
                await tx.session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
                await tx.session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
        gone += len(ids)
        if len(ids) < BATCH:
            return gone


async def prune_forever(svc: Services) -> None:
    while True:
        await asyncio.sleep(PRUNE_EVERY_S)
        try:
            gone = await prune(svc)
            if gone:
                log.info("pruned %d old webhook deliveries", gone)
        except Exception:  # a task boundary: log and keep the loop alive
            log.exception("pruning the webhook delivery log failed")
