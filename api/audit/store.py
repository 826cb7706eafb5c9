"""SQL of the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dbschema.audit import AuditEntry

DELETED_USER = "deleted user"


async def page_for_meeting(
    session: AsyncSession, meeting_id: str, *, before: int | None, limit: int
) -> list[AuditEntry]:
    q = select(AuditEntry).where(AuditEntry.meeting_id == meeting_id)
    if before is not None:
        q = q.where(AuditEntry.pos < before)
    return list((await session.execute(q.order_by(AuditEntry.pos.desc()).limit(limit))).scalars())


async def page_for_user(session: AsyncSession, user_id: str, *, before: int | None, limit: int) -> list[AuditEntry]:
    q = select(AuditEntry).where(AuditEntry.user_id == user_id)
    if before is not None:
        q = q.where(AuditEntry.pos < before)
    return list((await session.execute(q.order_by(AuditEntry.pos.desc()).limit(limit))).scalars())


async def prune(session: AsyncSession, cutoff: datetime) -> int:
    result = await session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


async def forget_actor(session: AsyncSession, user_id: str) -> None:
    """An account is being deleted: rows it appears in as actor (in meetings others own) keep the action but no
    longer say who it was."""
    await session.execute(
        update(AuditEntry)
        .where(AuditEntry.actor_user_id == user_id)
        .values(actor_user_id=None, actor_name=DELETED_USER, client_address=None)
        .execution_options(synchronize_session=False)
    )
