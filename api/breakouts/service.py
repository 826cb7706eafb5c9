"""Breakout rooms: configure, plan, open, move, broadcast, ask for help, close.

Every write follows the participants pattern: who acts (the meeting row locked, `acting`) → permission check →
finish whatever close is due (`_settle`) → write → events, published after commit.

Deadlines (the timer, the closing countdown) are stored in ``breakout_states``, never held in memory. Whoever
touches the meeting next applies what is due: any breakout read or write, and `run_due_closes_forever` in each
API process. Applying happens in a write transaction holding the meeting row's lock and re-reads the state
under it, so when two processes race, the second finds nothing left to do.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from api import validation
from api.breakouts import assign, deadline, store
from api.breakouts.deadline import Phase
from api.breakouts.views import Breakouts, schedule_of, snapshot
from api.db import Tx
from api.errors import BadInputError, ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError
from api.participants import store as participants_store
from api.participants.permissions import HOSTS, Role
from api.participants.service import (
    Acting,
    acting,
    emit_participant,
    ensure_running,
    load_meeting,
    meeting_end_hooks,
)
from api.participants.views import participant_snapshot
from api.security import Principal, UserPrincipal
from api.services import Services
from dbschema.breakouts import BreakoutRoom, BreakoutState
from dbschema.models import Meeting, Participant, utcnow
from protocol.events import Audience, EventType, MeetingEvent
from protocol.ids import new_id

log = logging.getLogger("meetmesh.api")

MAX_ROOMS = 50
MAX_MINUTES = 24 * 60
MAX_GRACE_S = 600
DEFAULT_GRACE_S = 60
MAX_ASSIGNMENTS = 1000
MAX_MESSAGE = 1000
HELP_LIMIT, HELP_WINDOW_S = 3, 60.0
"""A participant may ask for help this often: enough to repeat a request, not enough to flood the hosts."""
SWEEP_EVERY_S = 1.0
"""How often each API process looks for due closes: the most a timer or countdown can overrun."""

room_change_hooks: list[Callable[[Tx, Meeting, Participant | None], Awaitable[None]]] = []
"""Called in the transaction, holding the meeting row's lock, after rooms opened or closed or someone changed
rooms (``api.recordings`` gives each room its own recording). The last argument is who acted (None: the clock)."""


async def _rooms_changed(tx: Tx, m: Meeting, actor: Participant | None) -> None:
    for hook in room_change_hooks:
        await hook(tx, m, actor)


class AssignOrder(StrEnum):
    RANDOM = "random"
    JOIN_ORDER = "join_order"


# -- helpers ---------------------------------------------------------------------------------------------------


def _check_manage(role: Role) -> None:
    if role not in HOSTS:
        raise ForbiddenError(f"only the host and co-hosts manage breakout rooms (you are a {role.value})")


def _store_schedule(st: BreakoutState, s: deadline.Schedule) -> None:
    st.status = s.phase.value
    st.grace_s = s.grace_s
    st.closes_at = s.closes_at
    st.returns_at = s.returns_at
    if s.phase is Phase.CLOSED:
        st.opened_at = None


async def _view(session: AsyncSession, meeting_id: str, role: Role) -> Breakouts:
    return Breakouts(
        meeting_id=meeting_id,
        state=await store.state(session, meeting_id),
        rooms=await store.rooms(session, meeting_id),
        assignments=await store.assignments(session, meeting_id),
        people=await store.participants(session, meeting_id),
        viewer_role=role,
    )


async def _emit_breakouts(
    tx: Tx, m: Meeting, type: EventType, actor: Participant | None, role: Role, *, hosts_only: bool = False
) -> Breakouts:
    """One event with the whole (visible) state: rooms, presence, settings, deadlines. Plan changes go to hosts
    only and carry the plan; everything else goes to everyone without it."""
    b = await _view(tx.session, m.id, role)
    await tx.emit(
        m.id,
        type,
        audience=Audience.HOSTS if hosts_only else Audience.ALL,
        actor_id=actor.id if actor else None,
        data=snapshot(b, with_assignments=hosts_only),
    )
    return b


async def _move(tx: Tx, p: Participant, room_id: str | None, actor: Participant | None) -> None:
    # The contract with chat and the media token: every change of breakout_room_id is a PARTICIPANT_UPDATED.
    if p.breakout_room_id != room_id:
        p.breakout_room_id = room_id
        await emit_participant(tx, p, EventType.PARTICIPANT_UPDATED, actor=actor)


async def _finish_close(tx: Tx, m: Meeting, st: BreakoutState, actor: Participant | None) -> None:
    # Everyone with a room, whatever their state: someone who left from inside a room must not come back into it.
    for p in await store.in_rooms(tx.session, m.id):
        await _move(tx, p, None, actor)
    _store_schedule(st, deadline.closed(schedule_of(st)))
    await _emit_breakouts(tx, m, EventType.BREAKOUT_ROOMS_CLOSED, actor, Role.HOST)
    await _rooms_changed(tx, m, actor)


async def _settle(tx: Tx, m: Meeting, st: BreakoutState | None) -> bool:
    """Apply the transitions due now (the caller holds the meeting row's lock); True if anything changed. The
    events name no actor: the clock closed the rooms, not whoever happened to look."""
    if st is None:
        return False
    s, entered = deadline.advance(schedule_of(st), utcnow(), live=m.status == "live")
    for phase in entered:
        if phase is Phase.CLOSING:
            _store_schedule(st, s)
            await _emit_breakouts(tx, m, EventType.BREAKOUT_ROOMS_CLOSING, None, Role.HOST)
        else:
            await _finish_close(tx, m, st, None)
    return bool(entered)


async def _begin(tx: Tx, meeting_id: str, principal: Principal | None, *, manage: bool) -> tuple[Acting, BreakoutState]:
    a = await acting(tx, meeting_id, principal)
    if manage:
        _check_manage(a.role)
    ensure_running(a.meeting)
    st = await store.state_for_write(tx.session, a.meeting.id)
    await _settle(tx, a.meeting, st)
    return a, st


def _require_closed(st: BreakoutState, doing: str) -> None:
    if st.status != Phase.CLOSED:
        raise ConflictError(f"breakout rooms are {st.status}: close them before you {doing}")


def _require_running(st: BreakoutState) -> None:
    if st.status == Phase.CLOSED:
        raise ConflictError("breakout rooms are not open")


async def _room_of(session: AsyncSession, meeting_id: str, room_id: str, field: str = "roomId") -> BreakoutRoom:
    r = await store.room(session, room_id)
    if r is None or r.meeting_id != meeting_id:
        raise NotFoundError(f"breakout room {room_id} is not in this meeting", field=field)
    return r


async def _meeting_of_room(svc: Services, principal: Principal | None, room_id: str) -> str:
    if principal is None:  # before any lookup: anonymous callers learn nothing about which ids exist
        raise UnauthenticatedError("log in or join as a guest first")
    async with svc.db.read() as session:
        r = await store.room(session, room_id)
    if r is None:
        raise NotFoundError(f"breakout room {room_id} does not exist", field="roomId")
    return r.meeting_id


def _grace(value: int | None, field: str = "graceSeconds") -> int:
    return DEFAULT_GRACE_S if value is None else validation.int_range(field, value, 0, MAX_GRACE_S)


# -- reads -----------------------------------------------------------------------------------------------------


async def _reader_role(session: AsyncSession, m: Meeting, principal: Principal) -> Role:
    p = await participants_store.by_principal(session, m.id, principal)
    if p is not None and p.state == "admitted":
        return Role(p.role)
    if isinstance(principal, UserPrincipal) and principal.user_id == m.host_user_id:
        return Role.HOST
    if p is not None and p.state == "waiting":
        raise ForbiddenError("you are still in the waiting room")
    raise ForbiddenError("you are not in this meeting")


async def get(svc: Services, principal: Principal | None, meeting_id: str) -> Breakouts:
    """The meeting's breakout rooms for an admitted participant or the owner. Finishes a due close first, so a
    reader never sees rooms open past their deadline, sweeper or not."""
    if principal is None:
        raise UnauthenticatedError("log in or join as a guest first")
    async with svc.db.read() as session:
        m = await session.get(Meeting, meeting_id)
        if m is None:
            raise NotFoundError(f"meeting {meeting_id} does not exist")
        role = await _reader_role(session, m, principal)
        st = await store.state(session, m.id)
        if not deadline.due(schedule_of(st), utcnow(), live=m.status == "live"):
            return await _view(session, m.id, role)
    await settle(svc, meeting_id)
    async with svc.db.read() as session:
        return await _view(session, meeting_id, role)


async def finish_due(svc: Services, meeting_id: str) -> bool:
    """Finish a due close of one meeting, if any (only a read when nothing is due). For code outside this package
    that reads ``breakout_room_id`` and should not wait up to a sweep for it (join tokens, chat)."""
    async with svc.db.read() as session:
        m = await session.get(Meeting, meeting_id)
        if m is None:
            return False
        st = await store.state(session, meeting_id)
        if not deadline.due(schedule_of(st), utcnow(), live=m.status == "live"):
            return False
    return await settle(svc, meeting_id)


# -- configuring (while closed) ---------------------------------------------------------------------------------


async def create_rooms(
    svc: Services, principal: Principal | None, meeting_id: str, *, count: int | None, names: Sequence[str] | None
) -> Breakouts:
    if names is not None:
        if not names:
            raise BadInputError("names", "names must list at least one room name")
        if count is not None and count != len(names):
            raise BadInputError("count", f"count {count} does not match the {len(names)} names given")
        clean = [validation.display_name("names", n) for n in names]
        count = len(clean)
    elif count is None:
        raise BadInputError("count", "give count or names")
    else:
        clean = []
    field = "count" if names is None else "names"
    validation.int_range(field, count, 1, MAX_ROOMS)
    async with svc.db.write() as tx:
        a, st = await _begin(tx, meeting_id, principal, manage=True)
        _require_closed(st, "add rooms")
        existing = await store.rooms(tx.session, a.meeting.id)
        if len(existing) + count > MAX_ROOMS:
            raise BadInputError(
                field, f"a meeting has at most {MAX_ROOMS} breakout rooms (it has {len(existing)}, got {count} more)"
            )
        position = await store.next_position(tx.session, a.meeting.id)
        for i in range(count):
            name = clean[i] if clean else f"Room {len(existing) + i + 1}"
            tx.session.add(BreakoutRoom(id=new_id(), meeting_id=a.meeting.id, name=name, position=position + i))
        return await _emit_breakouts(tx, a.meeting, EventType.BREAKOUT_ROOMS_UPDATED, a.participant, a.role)


async def rename_room(svc: Services, principal: Principal | None, room_id: str, name: str) -> tuple[Breakouts, str]:
    name = validation.display_name("name", name)
    meeting_id = await _meeting_of_room(svc, principal, room_id)
    async with svc.db.write() as tx:
        a, st = await _begin(tx, meeting_id, principal, manage=True)
        _require_closed(st, "rename rooms")
        r = await _room_of(tx.session, a.meeting.id, room_id)
        r.name = name
        b = await _emit_breakouts(tx, a.meeting, EventType.BREAKOUT_ROOMS_UPDATED, a.participant, a.role)
    return b, r.id


async def delete_room(svc: Services, principal: Principal | None, room_id: str) -> Breakouts:
    meeting_id = await _meeting_of_room(svc, principal, room_id)
    async with svc.db.write() as tx:
        a, st = await _begin(tx, meeting_id, principal, manage=True)
        _require_closed(st, "delete rooms")
        await _room_of(tx.session, a.meeting.id, room_id)
        # Its part of the plan goes with it; the event (to everyone) carries no plan, so hosts' clients drop
        # the assignments to a room that is gone.
        await store.delete_room(tx.session, room_id)
        return await _emit_breakouts(tx, a.meeting, EventType.BREAKOUT_ROOMS_UPDATED, a.participant, a.role)


async def update_settings(
    svc: Services,
    principal: Principal | None,
    meeting_id: str,
    *,
    allow_choose: bool | None,
    grace_s: int | None,
) -> Breakouts:
    if grace_s is not None:
        _grace(grace_s)
    async with svc.db.write() as tx:
        a, st = await _begin(tx, meeting_id, principal, manage=True)
        if allow_choose is not None:
            st.allow_choose = allow_choose
        if grace_s is not None:
            st.grace_s = grace_s
        return await _emit_breakouts(tx, a.meeting, EventType.BREAKOUT_ROOMS_UPDATED, a.participant, a.role)


@dataclass(frozen=True, slots=True)
class Assignment:
    participant_id: str
    room_id: str | None
    """None takes the participant out of the plan."""


async def assign_rooms(
    svc: Services, principal: Principal | None, meeting_id: str, assignments: Sequence[Assignment]
) -> Breakouts:
    if not 1 <= len(assignments) <= MAX_ASSIGNMENTS:
        raise BadInputError("assignments", f"assignments must list 1..{MAX_ASSIGNMENTS} (got {len(assignments)})")
    seen: set[str] = set()
    for x in assignments:
        if x.participant_id in seen:
            raise BadInputError("assignments", f"participant {x.participant_id} is listed twice")
        seen.add(x.participant_id)
    async with svc.db.write() as tx:
        a, st = await _begin(tx, meeting_id, principal, manage=True)
        _require_closed(st, "change the plan (move people with moveToBreakoutRoom while rooms are open)")
        for x in assignments:
            p = await participants_store.by_id(tx.session, x.participant_id)
            if p is None or p.meeting_id != a.meeting.id:
                raise NotFoundError(f"participant {x.participant_id} is not in this meeting", field="assignments")
            if x.room_id is not None:
                await _room_of(tx.session, a.meeting.id, x.room_id, field="assignments")
                if p.state in ("denied", "removed"):
                    raise ConflictError(f"participant {p.id} is {p.state}; they cannot be assigned a room")
            await store.set_assignment(tx.session, a.meeting.id, p.id, x.room_id)
        return await _emit_breakouts(
            tx, a.meeting, EventType.BREAKOUT_ROOMS_UPDATED, a.participant, a.role, hosts_only=True
        )


async def auto_assign(
    svc: Services,
    principal: Principal | None,
    meeting_id: str,
    *,
    order: AssignOrder,
    seed: int | None,
    keep_existing: bool,
) -> Breakouts:
    """Spread the admitted participants (hosts and co-hosts stay free to visit) evenly over the rooms."""
    if order is AssignOrder.JOIN_ORDER and seed is not None:
        raise BadInputError("seed", "seed applies to order RANDOM only")
    if order is AssignOrder.RANDOM and seed is None:
        seed = secrets.randbits(31)
    async with svc.db.write() as tx:
        a, st = await _begin(tx, meeting_id, principal, manage=True)
        _require_closed(st, "change the plan")
        rooms = await store.rooms(tx.session, a.meeting.id)
        if not rooms:
            raise ConflictError("create breakout rooms first")
        if not keep_existing:
            await store.clear_assignments(tx.session, a.meeting.id)
        existing = await store.assignments(tx.session, a.meeting.id)
        people = [
            p.id
            for p in await participants_store.in_states(tx.session, a.meeting.id, ["admitted"])
            if Role(p.role) not in HOSTS and p.id not in existing
        ]
        plan = assign.balanced(people, [r.id for r in rooms], seed=seed, existing=existing)
        for pid, rid in plan.items():
            await store.set_assignment(tx.session, a.meeting.id, pid, rid)
        return await _emit_breakouts(
            tx, a.meeting, EventType.BREAKOUT_ROOMS_UPDATED, a.participant, a.role, hosts_only=True
        )


# -- opening and closing ----------------------------------------------------------------------------------------


async def open_rooms(
    svc: Services, principal: Principal | None, meeting_id: str, *, minutes: int | None, grace_s: int | None
) -> Breakouts:
    if minutes is not None:
        validation.int_range("durationMinutes", minutes, 1, MAX_MINUTES)
    grace_now = None if grace_s is None else _grace(grace_s)
    async with svc.db.write() as tx:
        a, st = await _begin(tx, meeting_id, principal, manage=True)
        grace = st.grace_s if grace_now is None else grace_now
        if a.meeting.status != "live":
            raise ConflictError("the meeting has not started; open breakout rooms once it is live")
        if st.status != Phase.CLOSED:
            raise ConflictError(f"breakout rooms are {st.status} already")
        if not await store.rooms(tx.session, a.meeting.id):
            raise ConflictError("create breakout rooms first")
        now = utcnow()
        _store_schedule(st, deadline.opened(now, minutes=minutes, grace_s=grace))
        st.opened_at = now
        plan = await store.assignments(tx.session, a.meeting.id)
        for p in await participants_store.in_states(tx.session, a.meeting.id, ["admitted"]):
            if p.id in plan:
                await _move(tx, p, plan[p.id], a.participant)
        # After the moves, so the room list it carries shows who is in each room.
        b = await _emit_breakouts(tx, a.meeting, EventType.BREAKOUT_ROOMS_OPENED, a.participant, a.role)
        await _rooms_changed(tx, a.meeting, a.participant)
        return b


async def close_rooms(svc: Services, principal: Principal | None, meeting_id: str, *, grace_s: int | None) -> Breakouts:
    grace = _grace(grace_s)
    async with svc.db.write() as tx:
        a, st = await _begin(tx, meeting_id, principal, manage=True)
        _require_running(st)
        before = schedule_of(st)
        after = deadline.close(before, utcnow(), grace)
        if after.phase is Phase.CLOSED:
            await _finish_close(tx, a.meeting, st, a.participant)
        elif after != before:
            _store_schedule(st, after)
            await _emit_breakouts(tx, a.meeting, EventType.BREAKOUT_ROOMS_CLOSING, a.participant, a.role)
        return await _view(tx.session, a.meeting.id, a.role)


async def settle(svc: Services, meeting_id: str) -> bool:
    """Finish whatever is due for one meeting; True if anything was. Safe to run from any number of processes at
    once: the meeting row's lock serialises them and the loser finds the state already advanced."""
    async with svc.db.write() as tx:
        m = await load_meeting(tx, meeting_id)
        return await _settle(tx, m, await store.state(tx.session, m.id))


async def close_due(svc: Services) -> int:
    """One sweep: finish every due timer and countdown; returns how many meetings advanced."""
    async with svc.db.read() as session:
        due = await store.due_meetings(session, utcnow())
    done = 0
    for meeting_id in due:
        try:
            done += await settle(svc, meeting_id)
        except NotFoundError:  # the meeting was deleted meanwhile; its rows went with it
            continue
        except Exception:  # one meeting's failure must not hold up the others' closes
            log.exception("finishing the breakout rooms of meeting %s failed", meeting_id)
    return done


async def run_due_closes_forever(svc: Services, interval_s: float = SWEEP_EVERY_S) -> None:
    """Background task for `create_app`'s lifespan: closes rooms whose timer or countdown ran out even when
    nobody is looking, including those left due by a process that stopped. Cancel it on shutdown."""
    while True:
        try:
            await close_due(svc)
        except Exception:  # a task boundary: log and keep sweeping (the database may be back next time)
            log.exception("sweeping due breakout closes failed")
        await asyncio.sleep(interval_s)


# -- while open ------------------------------------------------------------------------------------------------


async def move(svc: Services, principal: Principal | None, participant_id: str, room_id: str | None) -> Participant:
    """A host puts someone in a room (or back in the main room with ``room_id`` None) while rooms are open."""
    if principal is None:
        raise UnauthenticatedError("log in or join as a guest first")
    async with svc.db.read() as session:
        t0 = await participants_store.by_id(session, participant_id)
    if t0 is None:
        raise NotFoundError(f"participant {participant_id} does not exist", field="participantId")
    async with svc.db.write() as tx:
        a, st = await _begin(tx, t0.meeting_id, principal, manage=True)
        _require_running(st)
        t = await participants_store.by_id(tx.session, participant_id)
        assert t is not None  # participants are never deleted while their meeting exists
        if t.state != "admitted":
            raise ConflictError(f"participant {t.id} is {t.state}, not admitted")
        if t.role == Role.HOST and a.role is not Role.HOST:
            raise ForbiddenError("a co-host may not move the host")
        if room_id is not None:
            await _room_of(tx.session, a.meeting.id, room_id)
        await _move(tx, t, room_id, a.participant)
        await _rooms_changed(tx, a.meeting, a.participant)
    return t


async def join_room(svc: Services, principal: Principal | None, meeting_id: str, room_id: str | None) -> Participant:
    """Go to a room yourself (``room_id`` None: back to the main room). Choosing a room needs the "participants
    may choose" setting unless you are a host or co-host; going back to the main room is always allowed."""
    async with svc.db.write() as tx:
        a, st = await _begin(tx, meeting_id, principal, manage=False)
        p = a.participant
        if p is None or p.state != "admitted":
            raise ForbiddenError("join the meeting first")
        _require_running(st)
        if room_id is not None:
            if a.role not in HOSTS and not st.allow_choose:
                raise ForbiddenError("the host assigns breakout rooms in this meeting; you may not choose one")
            await _room_of(tx.session, a.meeting.id, room_id)
        await _move(tx, p, room_id, p)
        await _rooms_changed(tx, a.meeting, p)
    return p


async def broadcast(
    svc: Services, principal: Principal | None, meeting_id: str, message: str, room_id: str | None
) -> MeetingEvent:
    """A message from the hosts to every room (and the main room), or to one room only."""
    message = validation.text("message", message, max_len=MAX_MESSAGE)
    async with svc.db.write() as tx:
        a, st = await _begin(tx, meeting_id, principal, manage=True)
        _require_running(st)
        if room_id is not None:
            await _room_of(tx.session, a.meeting.id, room_id)
        sender = a.participant.display_name if a.participant else None
        return await tx.emit(
            a.meeting.id,
            EventType.BREAKOUT_BROADCAST,
            actor_id=a.participant.id if a.participant else None,
            data={"message": message, "senderName": sender},
            room_id=room_id,
        )


async def ask_for_help(svc: Services, principal: Principal | None, meeting_id: str) -> MeetingEvent:
    """Someone in a room calls the hosts over: the hosts (and, as confirmation, the asker) hear of it."""
    async with svc.db.write() as tx:
        a, _ = await _begin(tx, meeting_id, principal, manage=False)
        p = a.participant
        if p is None or p.state != "admitted":
            raise ForbiddenError("join the meeting first")
        if p.breakout_room_id is None:
            raise ConflictError("you are in the main room; ask for help from inside a breakout room")
        r = await _room_of(tx.session, a.meeting.id, p.breakout_room_id)
        await svc.limit("breakout_help", p.id, limit=HELP_LIMIT, window_s=HELP_WINDOW_S)
        return await tx.emit(
            a.meeting.id,
            EventType.BREAKOUT_HELP_REQUESTED,
            audience=Audience.HOSTS,
            subject_id=p.id,
            actor_id=p.id,
            participant=participant_snapshot(p),
            data={"roomName": r.name},
            room_id=r.id,
        )


async def close_in_tx(tx: Tx, m: Meeting, actor: Participant | None) -> None:
    """A meeting-end hook (``participants.service.meeting_end_hooks``): return everyone from open rooms in the
    ending transaction, so the events say so before MEETING_ENDED."""
    st = await store.state(tx.session, m.id)
    if st is not None and st.status != Phase.CLOSED:
        await _finish_close(tx, m, st, actor)


meeting_end_hooks.append(close_in_tx)
