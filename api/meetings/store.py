from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dbschema.models import Meeting, Participant, User


async def number_taken(session: AsyncSession, number: str) -> bool:
    return (await session.execute(select(Meeting.id).where(Meeting.number == number))).first() is not None


async def by_id(session: AsyncSession, meeting_id: str) -> Meeting | None:
    return await session.get(Meeting, meeting_id)


async def by_number_with_host_name(session: AsyncSession, number: str) -> tuple[Meeting, str | None] | None:
    """The meeting with this number and its host's display name, in one statement."""
    q = select(Meeting, User.display_name).outerjoin(User, User.id == Meeting.host_user_id)
    row = (await session.execute(q.where(Meeting.number == number))).first()
    return (row[0], row[1]) if row is not None else None


async def host_name(session: AsyncSession, user_id: str) -> str | None:
    return (await session.execute(select(User.display_name).where(User.id == user_id))).scalar_one_or_none()


async def list_for_user(
    session: AsyncSession,
    user_id: str,
    *,
    upcoming: bool,
    now: datetime,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Meeting]:
    mine = or_(
        Meeting.host_user_id == user_id,
        Meeting.id.in_(select(Participant.meeting_id).where(Participant.user_id == user_id)),
    )
    open_ = and_(
        Meeting.status.in_(("scheduled", "live")),
        or_(Meeting.last_ends_at.is_(None), Meeting.last_ends_at > now, Meeting.status == "live"),
    )
    q = select(Meeting).where(mine, open_ if upcoming else ~open_)
    if upcoming:
        if after is not None:
            q = q.where(or_(Meeting.starts_at > after[0], and_(Meeting.starts_at == after[0], Meeting.id > after[1])))
        q = q.order_by(Meeting.starts_at, Meeting.id)
    else:
        if after is not None:
            q = q.where(or_(Meeting.starts_at < after[0], and_(Meeting.starts_at == after[0], Meeting.id < after[1])))
        q = q.order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    return list((await session.execute(q.limit(limit))).scalars())
