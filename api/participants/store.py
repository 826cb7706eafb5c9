from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.security import GuestPrincipal, Principal, UserPrincipal
from dbschema.models import Attendance, Meeting, Participant, utcnow


async def meeting_for_update(session: AsyncSession, meeting_id: str) -> Meeting | None:
    # FOR UPDATE serialises all writes to one meeting on PostgreSQL (SQLite writers are serialised already by
    # BEGIN IMMEDIATE): capacity checks and host hand-overs then see a stable participant list.
    return (
        await session.execute(select(Meeting).where(Meeting.id == meeting_id).with_for_update())
    ).scalar_one_or_none()


async def meeting_by_number(session: AsyncSession, number: str, *, lock: bool = False) -> Meeting | None:
    q = select(Meeting).where(Meeting.number == number)
    if lock:
        q = q.with_for_update()
    return (await session.execute(q)).scalar_one_or_none()


async def by_principal(session: AsyncSession, meeting_id: str, principal: Principal | None) -> Participant | None:
    if isinstance(principal, UserPrincipal):
        cond = Participant.user_id == principal.user_id
    elif isinstance(principal, GuestPrincipal):
        cond = Participant.guest_id == principal.guest_id
    else:
        return None
    return (
        await session.execute(select(Participant).where(Participant.meeting_id == meeting_id, cond))
    ).scalar_one_or_none()


async def meeting_with_participant(
    session: AsyncSession, meeting_id: str, principal: Principal | None
) -> tuple[Meeting, Participant | None] | None:
    """The meeting and the principal's participation in it (None if it has none), in one statement; None when
    the meeting does not exist."""
    if isinstance(principal, UserPrincipal):
        cond = Participant.user_id == principal.user_id
    elif isinstance(principal, GuestPrincipal):
        cond = Participant.guest_id == principal.guest_id
    else:
        m = await session.get(Meeting, meeting_id)
        return (m, None) if m is not None else None
    q = (
        select(Meeting, Participant)
        .outerjoin(Participant, (Participant.meeting_id == Meeting.id) & cond)
        .where(Meeting.id == meeting_id)
    )
    row = (await session.execute(q)).first()
    return (row[0], row[1]) if row is not None else None


async def client_blocked(session: AsyncSession, meeting_id: str, client_id: str) -> bool:
    """Whether the host blocked someone who joined this meeting from this client."""
    q = select(Participant.id).where(
        Participant.meeting_id == meeting_id, Participant.client_id == client_id, Participant.blocked.is_(True)
    )
    return (await session.execute(q.limit(1))).first() is not None


async def address_blocked(session: AsyncSession, meeting_id: str, client_addr: str) -> bool:
    """Whether the host blocked someone who joined this meeting from this (hashed) address."""
    q = select(Participant.id).where(
        Participant.meeting_id == meeting_id, Participant.client_addr == client_addr, Participant.blocked.is_(True)
    )
    return (await session.execute(q.limit(1))).first() is not None


async def by_id(session: AsyncSession, participant_id: str) -> Participant | None:
    return await session.get(Participant, participant_id)


async def in_states(session: AsyncSession, meeting_id: str, states: Sequence[str]) -> list[Participant]:
    rows = await session.execute(
        select(Participant)
        .where(Participant.meeting_id == meeting_id, Participant.state.in_(states))
        .order_by(Participant.created_at, Participant.id)
    )
    return list(rows.scalars())


async def count_admitted(session: AsyncSession, meeting_id: str) -> int:
    return (
        await session.execute(
            select(func.count())
            .select_from(Participant)
            .where(Participant.meeting_id == meeting_id, Participant.state == "admitted")
        )
    ).scalar_one()


async def host_present(session: AsyncSession, meeting_id: str) -> bool:
    return (
        await session.execute(
            select(func.count())
            .select_from(Participant)
            .where(
                Participant.meeting_id == meeting_id,
                Participant.state == "admitted",
                Participant.role == "host",
            )
        )
    ).scalar_one() > 0


@dataclass(frozen=True, slots=True)
class Occupancy:
    """What a join decides on, read in one statement: how many are in, whether the host is, and whether the
    joining client or address was blocked by a host."""

    admitted: int
    host_here: bool
    client_blocked: bool
    address_blocked: bool


async def occupancy(session: AsyncSession, meeting_id: str, client_id: str, client_addr: str) -> Occupancy:
    admitted = Participant.state == "admitted"
    blocked = Participant.blocked.is_(True)

    def count_of(cond: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    q = select(
        count_of(admitted),
        count_of(and_(admitted, Participant.role == "host")),
        count_of(and_(blocked, Participant.client_id == client_id)),
        count_of(and_(blocked, Participant.client_addr == client_addr)),
    ).where(Participant.meeting_id == meeting_id)
    n, hosts, by_client, by_addr = (await session.execute(q)).one()
    return Occupancy(int(n), int(hosts) > 0, int(by_client) > 0, int(by_addr) > 0)


def record(session: AsyncSession, p: Participant) -> None:
    session.add(Attendance(meeting_id=p.meeting_id, participant_id=p.id, state=p.state, at=utcnow()))


async def attendance(session: AsyncSession, meeting_id: str) -> list[tuple[Attendance, Participant]]:
    rows = await session.execute(
        select(Attendance, Participant)
        .join(Participant, Participant.id == Attendance.participant_id)
        .where(Attendance.meeting_id == meeting_id)
        .order_by(Attendance.id)
    )
    return [(row[0], row[1]) for row in rows.all()]


async def raised_hands(session: AsyncSession, meeting_id: str) -> list[Participant]:
    """Admitted participants with a raised hand, in the order the hands went up."""
    rows = await session.execute(
        select(Participant)
        .where(
            Participant.meeting_id == meeting_id,
            Participant.state == "admitted",
            Participant.hand_raised_at.is_not(None),
        )
        .order_by(Participant.hand_raised_at, Participant.id)
    )
    return list(rows.scalars())
