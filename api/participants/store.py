from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, exists, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from api.point_reads import Entity, PointRead, PointReader
from api.security import GuestPrincipal, Principal, UserPrincipal
from dbschema.models import Attendance, Meeting, Participant, utcnow
from dbschema.sso import MeetingSsoRequirement, UserIdentity


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


_MEETING = Entity(Meeting, "m_")
_PARTICIPANT = Entity(Participant, "p_")


def _meeting_with(cond: ColumnElement[bool]) -> PointRead:
    return PointRead(
        select(*_MEETING.columns, *_PARTICIPANT.columns)
        .select_from(Meeting)
        .outerjoin(Participant, (Participant.meeting_id == Meeting.id) & cond)
        .where(Meeting.id == bindparam("meeting_id"))
        .limit(1)
    )


_WITH_USER = _meeting_with(Participant.user_id == bindparam("who"))
_WITH_GUEST = _meeting_with(Participant.guest_id == bindparam("who"))
_MEETING_ONLY = PointRead(select(*_MEETING.columns).where(Meeting.id == bindparam("meeting_id")))


async def meeting_with_participant(
    points: PointReader, meeting_id: str, principal: Principal | None
) -> tuple[Meeting, Participant | None] | None:
    """The meeting and the principal's participation in it (None if it has none), in one statement; None when
    the meeting does not exist."""
    if isinstance(principal, UserPrincipal):
        values = await points.one(_WITH_USER, meeting_id=meeting_id, who=principal.user_id)
    elif isinstance(principal, GuestPrincipal):
        values = await points.one(_WITH_GUEST, meeting_id=meeting_id, who=principal.guest_id)
    else:
        values = await points.one(_MEETING_ONLY, meeting_id=meeting_id)
        return (_MEETING.build(values), None) if values is not None else None  # type: ignore[return-value]
    if values is None:
        return None
    m = _MEETING.build(values)
    assert m is not None  # the meeting's own primary key is never NULL
    return m, _PARTICIPANT.build(values, len(_MEETING.keys))


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


_others = aliased(Participant, name="others")


def _tally(cond: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


# Built once: composing these expressions cost more event-loop time than running the statement (issue 16).
_OCCUPANCY = (
    select(
        _tally(_others.state == "admitted").label("admitted"),
        _tally(and_(_others.state == "admitted", _others.role == "host")).label("hosts"),
        _tally(and_(_others.blocked.is_(True), _others.client_id == bindparam("client_id"))).label("by_client"),
        _tally(and_(_others.blocked.is_(True), _others.client_addr == bindparam("client_addr"))).label("by_addr"),
    )
    .where(_others.meeting_id == select(Meeting.id).where(Meeting.number == bindparam("number")).scalar_subquery())
    .subquery("occupancy")
)


# Single sign-on (api/sso/meeting_access.py), in the same statement: the provider a meeting requires, and for an
# account whether it has an identity there.
_SSO_PROVIDER = (
    select(MeetingSsoRequirement.provider)
    .where(MeetingSsoRequirement.meeting_id == Meeting.id)
    .correlate(Meeting)
    .scalar_subquery()
    .label("sso_provider")
)
_SSO_MEMBER = (
    exists()
    .where(
        MeetingSsoRequirement.meeting_id == Meeting.id,
        UserIdentity.provider == MeetingSsoRequirement.provider,
        UserIdentity.user_id == bindparam("user_id"),
    )
    .correlate(Meeting)
    .label("sso_member")
)


def _for_join(mine: ColumnElement[bool] | None, *, account: bool = False) -> Select[Any]:
    occ = _OCCUPANCY.c
    if mine is None:  # a newcomer (a guest being made now) has no participation to look for
        q = select(Meeting, occ.admitted, occ.hosts, occ.by_client, occ.by_addr, _SSO_PROVIDER).select_from(Meeting)
    else:
        q = (
            select(Meeting, Participant, occ.admitted, occ.hosts, occ.by_client, occ.by_addr, _SSO_PROVIDER)
            .select_from(Meeting)
            .outerjoin(Participant, and_(Participant.meeting_id == Meeting.id, mine))
        )
    if account:
        q = q.add_columns(_SSO_MEMBER)
    return q.join(_OCCUPANCY, true()).where(Meeting.number == bindparam("number"))


_JOIN_AS_USER = _for_join(Participant.user_id == bindparam("user_id"), account=True)
_JOIN_AS_GUEST = _for_join(Participant.guest_id == bindparam("guest_id"))
_JOIN_AS_NEWCOMER = _for_join(None)
_LOCK_BY_NUMBER = select(Meeting.id).where(Meeting.number == bindparam("number")).with_for_update()


@dataclass(frozen=True, slots=True)
class JoinView:
    meeting: Meeting
    participant: Participant | None
    """The principal's participation so far (None for a newcomer)."""
    here: Occupancy
    sso_provider: str | None = None
    """The identity provider joiners need (a meeting that requires single sign-on: api/sso/meeting_access.py)."""
    sso_member: bool = False
    """Whether the joining account has an identity at ``sso_provider``."""


async def for_join(
    session: AsyncSession, number: str, principal: Principal | None, client_id: str, client_addr: str
) -> JoinView | None:
    """Everything a join decides on, in one statement (after the lock on PostgreSQL): the meeting, the principal's
    participation and the occupancy (who is in, whether the host is, whether this client or address was blocked).
    None when no meeting has this number. Call it in a write transaction."""
    params = {"number": number, "client_id": client_id, "client_addr": client_addr}
    if session.get_bind().dialect.name != "sqlite":
        # The meeting row is the lock all writes to one meeting queue on. It is taken by a statement of its own:
        # under READ COMMITTED a statement that waited for the lock still reads everything else (the counts, the
        # caller's participation) as of its start, which would let concurrent joins overfill the meeting. SQLite
        # needs no lock here: its writers are serialised by BEGIN IMMEDIATE before anything is read.
        await session.execute(_LOCK_BY_NUMBER, {"number": number})
    if isinstance(principal, UserPrincipal):
        q, params["user_id"] = _JOIN_AS_USER, principal.user_id
    elif isinstance(principal, GuestPrincipal):
        q, params["guest_id"] = _JOIN_AS_GUEST, principal.guest_id
    else:
        q = _JOIN_AS_NEWCOMER
    row = (await session.execute(q, params)).first()
    if row is None:
        return None
    member = False
    if q is _JOIN_AS_NEWCOMER:
        (m, n, hosts, by_client, by_addr, sso), p = row, None
    elif q is _JOIN_AS_GUEST:
        m, p, n, hosts, by_client, by_addr, sso = row
    else:
        m, p, n, hosts, by_client, by_addr, sso, member = row
    here = Occupancy(int(n), int(hosts) > 0, int(by_client) > 0, int(by_addr) > 0)
    return JoinView(m, p, here, sso, bool(member))


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
