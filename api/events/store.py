from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dbschema.models import Meeting, MeetingEventRow
from protocol.events import MeetingEvent


async def current_seq(session: AsyncSession, meeting_id: str) -> int | None:
    return (await session.execute(select(Meeting.event_seq).where(Meeting.id == meeting_id))).scalar_one_or_none()


async def between(session: AsyncSession, meeting_id: str, after: int, before: int | None) -> list[MeetingEvent]:
    """Logged events with ``after < seq < before`` (no upper bound when ``before`` is None), in order."""
    q = select(MeetingEventRow.body).where(MeetingEventRow.meeting_id == meeting_id, MeetingEventRow.seq > after)
    if before is not None:
        q = q.where(MeetingEventRow.seq < before)
    rows = await session.execute(q.order_by(MeetingEventRow.seq))
    return [MeetingEvent.from_dict(body) for body in rows.scalars()]


async def oldest_seq(session: AsyncSession, meeting_id: str) -> int | None:
    """Smallest sequence number still in the log (None when the log holds nothing for the meeting)."""
    return (
        await session.execute(select(func.min(MeetingEventRow.seq)).where(MeetingEventRow.meeting_id == meeting_id))
    ).scalar_one_or_none()
