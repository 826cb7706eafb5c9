"""SQL of api/calendars (the only place with it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dbschema.calendars import CalendarFeed, MeetingCalendar, MeetingInvitee
from dbschema.models import Meeting, Participant, User

FEED_LIMIT = 500


async def state(session: AsyncSession, meeting_id: str) -> MeetingCalendar | None:
    return await session.get(MeetingCalendar, meeting_id)


async def state_for_write(session: AsyncSession, meeting_id: str) -> MeetingCalendar:
    """The meeting's row, added (with defaults) when it has none. Call with the meeting row locked."""
    row = await session.get(MeetingCalendar, meeting_id)
    if row is None:
        row = MeetingCalendar(meeting_id=meeting_id, sequence=0, exdates=[], include_passcode=False)
        session.add(row)
    return row


async def states(session: AsyncSession, meeting_ids: list[str]) -> dict[str, MeetingCalendar]:
    if not meeting_ids:
        return {}
    rows = await session.execute(select(MeetingCalendar).where(MeetingCalendar.meeting_id.in_(meeting_ids)))
    return {r.meeting_id: r for r in rows.scalars()}


async def user(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def users(session: AsyncSession, user_ids: set[str]) -> dict[str, User]:
    if not user_ids:
        return {}
    return {u.id: u for u in (await session.execute(select(User).where(User.id.in_(user_ids)))).scalars()}


async def invitees(session: AsyncSession, meeting_id: str) -> list[str]:
    q = select(MeetingInvitee.email).where(MeetingInvitee.meeting_id == meeting_id).order_by(MeetingInvitee.email)
    return list((await session.execute(q)).scalars())


async def add_invitees(session: AsyncSession, meeting_id: str, emails: list[str], now: datetime) -> list[str]:
    """Adds the addresses not invited yet; returns those."""
    have = set(await invitees(session, meeting_id))
    new = [e for e in emails if e not in have]
    session.add_all(MeetingInvitee(meeting_id=meeting_id, email=e, created_at=now) for e in new)
    return new


async def remove_invitees(session: AsyncSession, meeting_id: str, emails: list[str]) -> list[str]:
    have = set(await invitees(session, meeting_id))
    gone = [e for e in emails if e in have]
    if gone:
        await session.execute(
            delete(MeetingInvitee).where(MeetingInvitee.meeting_id == meeting_id, MeetingInvitee.email.in_(gone))
        )
    return gone


async def feed(session: AsyncSession, user_id: str) -> CalendarFeed | None:
    return await session.get(CalendarFeed, user_id)


async def feed_by_digest(session: AsyncSession, digest: str) -> CalendarFeed | None:
    q = select(CalendarFeed).where(CalendarFeed.secret_digest == digest)
    return (await session.execute(q)).scalar_one_or_none()


async def feed_meetings(session: AsyncSession, user_id: str, *, since: datetime) -> list[Meeting]:
    """Scheduled meetings the user hosts or took part in that have not ended before ``since`` (cancelled ones too,
    so subscribed calendars mark them cancelled), newest first, at most ``FEED_LIMIT``."""
    # As api/meetings/service.access: people let in (now or before); not those waiting, denied or never admitted.
    let_in = or_(Participant.state == "admitted", and_(Participant.state == "left", Participant.joined_at.is_not(None)))
    mine = or_(
        Meeting.host_user_id == user_id,
        Meeting.id.in_(select(Participant.meeting_id).where(Participant.user_id == user_id, let_in)),
    )
    recent = or_(Meeting.last_ends_at.is_(None), Meeting.last_ends_at > since)
    q = select(Meeting).where(and_(mine, recent, Meeting.kind == "scheduled"))
    return list((await session.execute(q.order_by(Meeting.starts_at.desc()).limit(FEED_LIMIT))).scalars())
