"""One subscriber's view of a meeting's events.

Order and completeness: subscribe to the bus first, then read the current sequence (or replay from the
subscriber's cursor); any later event whose sequence jumps ahead of the last one delivered has its gap filled
from the event log, and duplicates are skipped. Sequence numbers are assigned under the meeting row's lock, so
a committed event implies every smaller sequence is committed too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import BadInputError, ForbiddenError, NotFoundError, ResyncRequiredError, UnauthenticatedError
from api.events import store
from api.participants import store as participants_store
from api.participants.permissions import HOSTS, Role
from api.security import Principal, UserPrincipal
from api.services import Services
from dbschema.models import Meeting
from protocol.events import Audience, EventType, MeetingEvent

# Events after which a stream has nothing more to say to its subscriber.
_FINAL_FOR_SUBJECT = {EventType.PARTICIPANT_LEFT, EventType.PARTICIPANT_REMOVED, EventType.PARTICIPANT_DENIED}


@dataclass(slots=True)
class Viewer:
    participant_id: str | None
    role: Role | None
    personal: bool
    """Personal streams carry only events about the viewer (admission, denial, requests) and the meeting's end."""
    room_id: str | None = None
    """The breakout room the viewer is in (None: the main room)."""

    def sees(self, ev: MeetingEvent) -> bool:
        if ev.recipients is not None and self.participant_id not in ev.recipients:
            return False
        if ev.room_id is not None and ev.room_id != self.room_id and self.role not in HOSTS:
            return False
        mine = ev.subject_id is not None and ev.subject_id == self.participant_id
        if self.personal:
            return mine or ev.type is EventType.MEETING_ENDED
        if ev.audience is Audience.ALL:
            return True
        if ev.audience is Audience.HOSTS:
            return mine or self.role in HOSTS
        return mine

    def observe(self, ev: MeetingEvent) -> bool:
        """Track role changes; return True when the stream should end after this event."""
        if ev.type is EventType.MEETING_ENDED:
            return True
        if ev.subject_id is not None and ev.subject_id == self.participant_id:
            if ev.participant is not None:
                self.role = Role(ev.participant["role"])
                self.room_id = ev.participant.get("breakoutRoomId")
            return ev.type in _FINAL_FOR_SUBJECT
        return False


async def _authorize(svc: Services, principal: Principal | None, meeting_id: str, personal: bool) -> Viewer:
    if principal is None:
        raise UnauthenticatedError("log in or join as a guest first")
    async with svc.db.read() as session:
        m = await session.get(Meeting, meeting_id)
        if m is None:
            raise NotFoundError(f"meeting {meeting_id} does not exist")
        p = await participants_store.by_principal(session, m.id, principal)
    owner = isinstance(principal, UserPrincipal) and principal.user_id == m.host_user_id
    if personal:
        if p is None:
            raise ForbiddenError("join the meeting first")
        return Viewer(p.id, Role(p.role), personal=True, room_id=p.breakout_room_id)
    if p is not None and p.state == "admitted":
        return Viewer(p.id, Role(p.role), personal=False, room_id=p.breakout_room_id)
    if owner:
        return Viewer(p.id if p else None, Role.HOST, personal=False)
    raise ForbiddenError("only admitted participants receive this meeting's events")


async def _check_retained(session: AsyncSession, meeting_id: str, after: int) -> None:
    oldest = await store.oldest_seq(session, meeting_id)
    if oldest is None or oldest > after + 1:
        raise ResyncRequiredError(
            f"events after {after} are no longer kept; query the meeting again and subscribe from its eventSeq"
        )


async def events(
    svc: Services, principal: Principal | None, meeting_id: str, *, after_seq: int | None, personal: bool
) -> AsyncIterator[MeetingEvent]:
    viewer = await _authorize(svc, principal, meeting_id, personal)
    if after_seq is not None and after_seq < 0:
        raise BadInputError("afterSeq", f"afterSeq must be >= 0 (got {after_seq})")
    with await svc.bus.subscribe(meeting_id) as sub:
        async with svc.db.read() as session:
            head = await store.current_seq(session, meeting_id)
            assert head is not None
            if after_seq is not None and after_seq > head:
                raise BadInputError("afterSeq", f"afterSeq {after_seq} is ahead of the meeting's last event {head}")
            backlog: list[MeetingEvent] = []
            if after_seq is not None and after_seq < head:
                await _check_retained(session, meeting_id, after_seq)
                backlog = await store.between(session, meeting_id, after_seq, None)
        last = after_seq if after_seq is not None else head
        for ev in backlog:
            last = ev.seq
            if viewer.sees(ev):
                yield ev
            if viewer.observe(ev):
                return
        while True:
            ev = await sub.get()
            if ev.seq <= last:
                continue
            batch = [ev]
            if ev.seq > last + 1:
                async with svc.db.read() as session:
                    await _check_retained(session, meeting_id, last)
                    batch = [*await store.between(session, meeting_id, last, ev.seq), ev]
            for e in batch:
                last = e.seq
                if viewer.sees(e):
                    yield e
                if viewer.observe(e):
                    return
