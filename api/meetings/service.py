"""Meetings: create, update, cancel, read, list. Ending is a host control (`participants.service`)."""

from __future__ import annotations

import asyncio
import base64
import secrets
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import validation
from api.calendars import invitations as calendar_invitations
from api.calendars import sequence as calendar_sequence
from api.calendars import sync as calendar_sync
from api.calendars.ics import Method as CalendarMethod
from api.errors import (
    BadInputError,
    ConflictError,
    ForbiddenError,
    MeetingEndedError,
    NotFoundError,
    UnauthenticatedError,
)
from api.meetings import numbers, schedule, store
from api.participants import store as participants_store
from api.participants.permissions import HOSTS, Action, Role, check
from api.participants.service import control, stop_unpermitted_local_recordings
from api.participants.views import meeting_snapshot
from api.security import Principal, UserPrincipal
from api.services import Services
from api.webhooks import outbox as webhooks_outbox
from dbschema.models import Meeting, Participant, utcnow
from protocol.events import EventType
from protocol.ids import new_id

MAX_PARTICIPANTS = 1000


@dataclass(slots=True)
class MeetingSettings:
    """Optional settings; None leaves the current (or default) value."""

    waiting_room: bool | None = None
    join_before_host: bool | None = None
    mute_on_entry: bool | None = None
    allow_guests: bool | None = None
    allow_self_unmute: bool | None = None
    host_only_screen_share: bool | None = None
    max_participants: int | None = None
    auto_record: bool | None = None
    chat_policy: str | None = None
    private_chat: bool | None = None
    guest_waiting_room: bool | None = None
    allow_local_recording: bool | None = None


@dataclass(slots=True)
class MeetingDraft:
    title: str | None = None
    description: str | None = None
    starts_at: datetime | None = None
    duration_minutes: int | None = None
    timezone: str | None = None
    recurrence: str | None = None
    passcode: str | None = None
    """Empty string removes the passcode (on creation: an instant meeting without one)."""


GENERATED_PASSCODE_LEN = 8
_PASSCODE_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I to misread


def generate_passcode() -> str:
    """8 characters from 54: ~46 bits, beyond guessing at 5 tries per 5 minutes and address."""
    return "".join(secrets.choice(_PASSCODE_ALPHABET) for _ in range(GENERATED_PASSCODE_LEN))


def _require_user(principal: Principal | None) -> str:
    if not isinstance(principal, UserPrincipal):
        raise UnauthenticatedError("log in to manage meetings")
    return principal.user_id


def _apply_settings(m: Meeting, s: MeetingSettings) -> None:
    if s.max_participants is not None:
        validation.int_range("settings.maxParticipants", s.max_participants, 2, MAX_PARTICIPANTS)
    for f in fields(s):
        value = getattr(s, f.name)
        if value is not None:
            setattr(m, f.name, value)


async def _apply_schedule(m: Meeting, d: MeetingDraft, svc: Services) -> None:
    if d.title is not None:
        m.title = validation.text("title", d.title, max_len=200)
    if d.description is not None:
        m.description = validation.text("description", d.description, min_len=0, max_len=5000)
    if d.timezone is not None:
        m.timezone = validation.timezone("timezone", d.timezone)
    if d.duration_minutes is not None:
        m.duration_minutes = validation.int_range("durationMinutes", d.duration_minutes, 1, 24 * 60)
    if d.starts_at is not None:
        if d.starts_at.tzinfo is None:
            raise BadInputError("startsAt", "startsAt must include a UTC offset, e.g. 2026-12-01T09:00:00+01:00")
        if d.starts_at > utcnow() + schedule.HORIZON:
            raise BadInputError("startsAt", f"startsAt must be within ten years (got {d.starts_at.isoformat()})")
        m.starts_at = d.starts_at
    if d.recurrence is not None:
        if d.recurrence.strip() == "":
            m.recurrence = None
        else:
            if m.kind == "instant":
                raise BadInputError("recurrence", "instant meetings cannot recur; schedule the meeting instead")
            m.recurrence = schedule.validate(d.recurrence, m.starts_at, m.timezone)
    if d.passcode is not None:
        if d.passcode == "":
            m.passcode_hash = m.passcode_sealed = None
        else:
            code = validation.passcode("passcode", d.passcode)
            # The same passcode saved again (an edit form sends what it shows) keeps its hash, so the invite links
            # already sent keep working; a new one retires them.
            if svc.creds.open_passcode(m.id, m.passcode_sealed) != code:
                m.passcode_hash = await asyncio.to_thread(svc.creds.hash_secret, code)
                m.passcode_sealed = svc.creds.seal_passcode(m.id, code)
    duration = timedelta(minutes=m.duration_minutes)
    m.last_ends_at = None if m.kind == "instant" else schedule.last_end(m.recurrence, m.starts_at, m.timezone, duration)
    rescheduled = d.starts_at is not None or d.recurrence is not None or d.duration_minutes is not None
    if rescheduled and m.last_ends_at is not None and m.last_ends_at < utcnow():
        raise BadInputError("startsAt", "the meeting would be over already: startsAt is in the past")


async def create(
    svc: Services,
    principal: Principal | None,
    draft: MeetingDraft,
    settings: MeetingSettings,
    *,
    scheduled: bool,
) -> Meeting:
    user_id = _require_user(principal)
    if draft.title is None:
        raise BadInputError("title", "title is required")
    if scheduled and draft.starts_at is None:
        raise BadInputError("startsAt", "startsAt is required for a scheduled meeting")
    now = utcnow()
    m = Meeting(
        id=new_id(),
        host_user_id=user_id,
        kind="scheduled" if scheduled else "instant",
        title="",
        description="",
        starts_at=now,
        duration_minutes=60,
        timezone="UTC",
        recurrence=None,
        status="scheduled",
        event_seq=0,
        locked=False,
        waiting_room=False,
        join_before_host=False,
        mute_on_entry=False,
        allow_guests=True,
        allow_self_unmute=True,
        host_only_screen_share=False,
        max_participants=100,
        auto_record=False,
        # Safer defaults (switchable): guests wait for admission; an instant meeting gets a passcode, which its
        # invite link carries (so people with the link are not asked for it).
        guest_waiting_room=True,
        allow_local_recording=False,
    )
    if draft.passcode is None and not scheduled:
        draft.passcode = generate_passcode()
    await _apply_schedule(m, draft, svc)
    _apply_settings(m, settings)
    for _ in range(8):  # 9·10^10 numbers: a collision is rare; retrying a few times makes it vanishingly so
        m.number = numbers.generate()
        try:
            async with svc.db.write() as tx:
                tx.session.add(m)
                await webhooks_outbox.meeting_created(tx, m)
                await calendar_sync.queue(tx, m)  # the host's connected calendar gets the entry
            return m
        except IntegrityError:
            async with svc.db.read() as session:
                if not await store.number_taken(session, m.number):
                    raise
    raise ConflictError("could not allocate a meeting number; try again")


async def owned_for_update(tx_session: AsyncSession, principal: Principal | None, meeting_id: str) -> Meeting:
    if principal is None:
        raise UnauthenticatedError("log in to manage meetings")
    m = await participants_store.meeting_for_update(tx_session, meeting_id)
    if m is None:
        raise NotFoundError(f"meeting {meeting_id} does not exist")
    if isinstance(principal, UserPrincipal) and m.host_user_id == principal.user_id:
        return m
    p = await participants_store.by_principal(tx_session, m.id, principal)
    if p is None or p.state != "admitted":
        raise ForbiddenError("only the meeting's host may change it")
    check(Action.UPDATE_MEETING, Role(p.role))
    return m


async def update(
    svc: Services,
    principal: Principal | None,
    meeting_id: str,
    draft: MeetingDraft,
    settings: MeetingSettings,
) -> Meeting:
    async with svc.db.write() as tx:
        m = await owned_for_update(tx.session, principal, meeting_id)
        if m.status in ("ended", "cancelled"):
            raise MeetingEndedError(f"meeting has {m.status}; it can no longer be changed")
        before = meeting_snapshot(m)
        entry_before = calendar_sequence.key(m)
        await _apply_schedule(m, draft, svc)
        _apply_settings(m, settings)
        if meeting_snapshot(m) != before:
            # Before any other statement: the event's observers (the audit log) read what changed from the
            # session's unflushed rows, and a statement would flush them first.
            await tx.emit(m.id, EventType.MEETING_UPDATED, meeting=meeting_snapshot(m))
            if before["allowLocalRecording"] and not m.allow_local_recording:
                await stop_unpermitted_local_recordings(tx, m, None)
        # api/calendars: a change calendar entries show bumps SEQUENCE; invitees get the update after commit.
        if await calendar_sequence.bump_if_changed(tx.session, m, entry_before) is not None:
            calendar_invitations.after_commit(tx, svc, m.id, CalendarMethod.REQUEST)
            await calendar_sync.queue(tx, m)
    return m


async def cancel(svc: Services, principal: Principal | None, meeting_id: str) -> Meeting:
    async with svc.db.write() as tx:
        m = await owned_for_update(tx.session, principal, meeting_id)
        if m.status == "live":
            raise ConflictError("the meeting is in progress; end it instead")
        if m.status in ("ended", "cancelled"):
            raise MeetingEndedError(f"meeting has {m.status} already")
        m.status = "cancelled"
        await tx.emit(m.id, EventType.MEETING_ENDED, meeting=meeting_snapshot(m))
        await calendar_sequence.bump(tx.session, m.id)  # RFC 5546 section 3.2.5: a CANCEL carries a higher SEQUENCE
        calendar_invitations.after_commit(tx, svc, m.id, CalendarMethod.CANCEL)
        await calendar_sync.queue(tx, m)  # rewritten as STATUS:CANCELLED (api/calendars/sync.py says why)
    return m


async def end(svc: Services, principal: Principal | None, meeting_id: str) -> Meeting:
    result = await control(svc, principal, Action.END_MEETING, meeting_id=meeting_id)
    assert isinstance(result, Meeting)
    return result


@dataclass(frozen=True, slots=True)
class Access:
    meeting: Meeting
    role: Role | None
    """The viewer's role if they were admitted at some point (None for a waiting participant)."""
    participant_id: str | None
    state: str | None


async def access(svc: Services, principal: Principal | None, meeting_id: str) -> Access:
    """Who may read a meeting: its owner and anyone who has been let in (admitted now or earlier)."""
    if principal is None:
        raise UnauthenticatedError("log in or join as a guest first")
    found = await participants_store.meeting_with_participant(svc.db.points, meeting_id, principal)
    if found is None:
        raise NotFoundError(f"meeting {meeting_id} does not exist")
    m, p = found
    owner = isinstance(principal, UserPrincipal) and principal.user_id == m.host_user_id
    if p is not None and (p.state == "admitted" or (p.joined_at is not None and p.state == "left")):
        role = Role(p.role) if p.state == "admitted" or not owner else Role.HOST
        return Access(m, role, p.id, p.state)
    if owner:
        return Access(m, Role.HOST, p.id if p else None, p.state if p else None)
    if p is not None and p.state == "waiting":
        raise ForbiddenError("you are in the waiting room; the host has not let you in yet")
    raise ForbiddenError("you are not a participant of this meeting")


async def lobby(svc: Services, number: str, client_key: str) -> tuple[Meeting, str | None]:
    """What anyone holding the number may see before joining. Look-ups are limited per address, so meeting
    numbers cannot be enumerated."""
    number = numbers.parse("number", number)
    await svc.reserve("lobby-address", client_key, message="too many meeting look-ups from here")
    async with svc.db.read() as session:
        found = await store.by_number_with_host_name(session, number)
    if found is None:
        raise NotFoundError(f"no meeting has the number {numbers.display(number)}")
    return found


def _encode_cursor(m: Meeting) -> str:
    return base64.urlsafe_b64encode(f"{m.starts_at.isoformat()}|{m.id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        when, mid = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        at = datetime.fromisoformat(when)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInputError("after", "after is not a cursor returned by this API") from exc
    if at.tzinfo is None:
        raise BadInputError("after", "after is not a cursor returned by this API")
    return at, mid


async def list_mine(
    svc: Services, principal: Principal | None, *, upcoming: bool, first: int, after: str | None
) -> tuple[list[Meeting], str | None]:
    user_id = _require_user(principal)
    validation.int_range("first", first, 1, 100)
    cursor = _decode_cursor(after) if after else None
    async with svc.db.read() as session:
        rows = await store.list_for_user(
            session, user_id, upcoming=upcoming, now=utcnow(), after=cursor, limit=first + 1
        )
    page, more = rows[:first], len(rows) > first
    return page, (_encode_cursor(page[-1]) if more and page else None)


HOST_ONLY_STATES = frozenset({"waiting", "denied", "removed"})


def check_visible_states(role: Role | None, states: list[str]) -> None:
    """Admitted and departed participants are visible to every member; the waiting room and who was turned away
    only to the host and co-hosts."""
    if set(states) & HOST_ONLY_STATES and role not in HOSTS:
        raise ForbiddenError("only the host and co-hosts see the waiting room")


async def participants(
    svc: Services, principal: Principal | None, meeting_id: str, states: list[str]
) -> list[Participant]:
    """A meeting's participants in ``states``, in the order they arrived (members only; see above)."""
    a = await access(svc, principal, meeting_id)
    check_visible_states(a.role, states)
    async with svc.db.read() as session:
        return await participants_store.in_states(session, meeting_id, states)
