"""The SQL of api/breakouts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dbschema.breakouts import BreakoutAssignment, BreakoutRoom, BreakoutState
from dbschema.models import Meeting, Participant


async def state(session: AsyncSession, meeting_id: str) -> BreakoutState | None:
    return await session.get(BreakoutState, meeting_id)


async def state_for_write(session: AsyncSession, meeting_id: str) -> BreakoutState:
    """The meeting's row, created on first use. Callers hold the meeting row's lock, so two first writers
    cannot both insert."""
    st = await session.get(BreakoutState, meeting_id)
    if st is None:
        st = BreakoutState(meeting_id=meeting_id, status="closed", allow_choose=False, grace_s=60)
        session.add(st)
        await session.flush()
    return st


async def rooms(session: AsyncSession, meeting_id: str) -> list[BreakoutRoom]:
    rows = await session.execute(
        select(BreakoutRoom)
        .where(BreakoutRoom.meeting_id == meeting_id)
        .order_by(BreakoutRoom.position, BreakoutRoom.id)
    )
    return list(rows.scalars())


async def room(session: AsyncSession, room_id: str) -> BreakoutRoom | None:
    return await session.get(BreakoutRoom, room_id)


async def next_position(session: AsyncSession, meeting_id: str) -> int:
    top = (
        await session.execute(select(func.max(BreakoutRoom.position)).where(BreakoutRoom.meeting_id == meeting_id))
    ).scalar_one()
    return 0 if top is None else int(top) + 1


async def delete_room(session: AsyncSession, room_id: str) -> None:
    # Explicitly, not only by ON DELETE CASCADE: the ORM session may hold assignment rows of this room.
    await session.execute(delete(BreakoutAssignment).where(BreakoutAssignment.room_id == room_id))
    await session.execute(delete(BreakoutRoom).where(BreakoutRoom.id == room_id))


async def assignments(session: AsyncSession, meeting_id: str) -> dict[str, str]:
    """participant id → room id."""
    rows = await session.execute(
        select(BreakoutAssignment.participant_id, BreakoutAssignment.room_id).where(
            BreakoutAssignment.meeting_id == meeting_id
        )
    )
    return {pid: rid for pid, rid in rows.all()}


async def set_assignment(session: AsyncSession, meeting_id: str, participant_id: str, room_id: str | None) -> None:
    current = await session.get(BreakoutAssignment, participant_id)
    if room_id is None:
        if current is not None:
            await session.delete(current)
    elif current is None:
        session.add(BreakoutAssignment(participant_id=participant_id, meeting_id=meeting_id, room_id=room_id))
    else:
        current.room_id = room_id


async def clear_assignments(session: AsyncSession, meeting_id: str) -> None:
    await session.execute(delete(BreakoutAssignment).where(BreakoutAssignment.meeting_id == meeting_id))


async def participants(session: AsyncSession, meeting_id: str) -> list[Participant]:
    """Everyone who ever came to the meeting, in order of first arrival (views pick what they show)."""
    rows = await session.execute(
        select(Participant).where(Participant.meeting_id == meeting_id).order_by(Participant.created_at, Participant.id)
    )
    return list(rows.scalars())


async def in_rooms(session: AsyncSession, meeting_id: str) -> list[Participant]:
    """Everyone whose breakout_room_id is set, whatever their state (someone who left inside a room too)."""
    rows = await session.execute(
        select(Participant)
        .where(Participant.meeting_id == meeting_id, Participant.breakout_room_id.is_not(None))
        .order_by(Participant.created_at, Participant.id)
    )
    return list(rows.scalars())


async def due_meetings(session: AsyncSession, now: datetime) -> list[str]:
    """Meetings with a breakout transition due: a timer or countdown ran out, or the meeting stopped being live
    with rooms still in use. `deadline.advance` decides what exactly; this only narrows the search."""
    rows = await session.execute(
        select(BreakoutState.meeting_id)
        .join(Meeting, Meeting.id == BreakoutState.meeting_id)
        .where(
            BreakoutState.status.in_(("open", "closing")),
            or_(
                and_(BreakoutState.status == "open", BreakoutState.closes_at <= now),
                and_(BreakoutState.status == "closing", BreakoutState.returns_at <= now),
                Meeting.status != "live",
            ),
        )
        .order_by(BreakoutState.meeting_id)
    )
    return list(rows.scalars())
