"""The SQL of api/webhooks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from dbschema.models import Meeting
from dbschema.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from protocol.webhooks import WebhookEvent


async def endpoints_of_meeting_owner(session: AsyncSession, meeting_id: str) -> list[WebhookEndpoint]:
    rows = await session.scalars(
        select(WebhookEndpoint)
        .join(Meeting, Meeting.host_user_id == WebhookEndpoint.owner_id)
        .where(Meeting.id == meeting_id, WebhookEndpoint.enabled.is_(True))
    )
    return list(rows)


async def endpoints_of_owner(
    session: AsyncSession, owner_id: str, *, enabled_only: bool = True
) -> list[WebhookEndpoint]:
    q = select(WebhookEndpoint).where(WebhookEndpoint.owner_id == owner_id)
    if enabled_only:
        q = q.where(WebhookEndpoint.enabled.is_(True))
    return list(await session.scalars(q.order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)))


async def count_of_owner(session: AsyncSession, owner_id: str) -> int:
    return len(await endpoints_of_owner(session, owner_id, enabled_only=False))


async def due_heads(session: AsyncSession, now: datetime, limit: int) -> Sequence[str]:
    """Ids of deliveries that may be attempted now: pending, due, unclaimed, their endpoint enabled and verified
    (or the delivery is the verification itself), and first in their (endpoint, meeting) queue."""
    earlier = aliased(WebhookDelivery)
    head = ~exists().where(
        earlier.endpoint_id == WebhookDelivery.endpoint_id,
        earlier.meeting_id == WebhookDelivery.meeting_id,
        earlier.status == "pending",
        earlier.seq < WebhookDelivery.seq,
    )
    q = (
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            (WebhookDelivery.lease_until.is_(None)) | (WebhookDelivery.lease_until < now),
            WebhookEndpoint.enabled.is_(True),
            (WebhookEndpoint.verified_at.is_not(None))
            | (WebhookDelivery.event_type == WebhookEvent.ENDPOINT_VERIFICATION.value),
            head,
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
    )
    return list(await session.scalars(q))


async def deliveries(
    session: AsyncSession,
    endpoint_id: str,
    *,
    first: int,
    status: str | None,
    before: datetime | None,
    after: WebhookDelivery | None = None,
) -> list[WebhookDelivery]:
    """Newest first: (created_at, seq, id) descending, a total order, so ``after`` (the last row of the previous
    page) continues exactly where that page ended."""
    d = WebhookDelivery
    q = select(d).where(d.endpoint_id == endpoint_id)
    if status is not None:
        q = q.where(d.status == status)
    if before is not None:
        q = q.where(d.created_at < before)
    if after is not None:
        q = q.where(
            (d.created_at < after.created_at)
            | ((d.created_at == after.created_at) & ((d.seq < after.seq) | ((d.seq == after.seq) & (d.id < after.id))))
        )
    q = q.order_by(d.created_at.desc(), d.seq.desc(), d.id.desc()).limit(first)
    return list(await session.scalars(q))


async def attempts_of(session: AsyncSession, delivery_ids: Sequence[str]) -> dict[str, list[WebhookAttempt]]:
    out: dict[str, list[WebhookAttempt]] = {d: [] for d in delivery_ids}
    if not delivery_ids:
        return out
    rows = await session.scalars(
        select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids)).order_by(WebhookAttempt.pos)
    )
    for a in rows:
        out[a.delivery_id].append(a)
    return out


def since(endpoint_id: str, at: datetime) -> object:
    return and_(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.created_at >= at)
