"""Calendars: a meeting's iCalendar file and "add to" links, the owner's calendar options, skipped occurrences,
e-mail invitees, and each user's secret feed. The one place these rules live (GraphQL and HTTP call here)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from api import validation
from api.calendars import entries, invitations, sequence, store, sync
from api.calendars.ics import Method, calendar
from api.calendars.links import Links, links
from api.errors import BadInputError, ForbiddenError, MeetingEndedError, NotFoundError, UnauthenticatedError
from api.meetings import schedule
from api.meetings import service as meetings
from api.participants.permissions import HOSTS
from api.security import Principal, UserPrincipal
from api.services import Services
from dbschema.calendars import CalendarFeed
from dbschema.models import Meeting, utcnow

MAX_INVITEES = 200
FEED_PAST = timedelta(days=30)
"""The feed keeps meetings that ended this long ago (so cancellations and changes still reach subscribers)."""
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- one meeting ----------------------------------------------------------------------------------------------


async def meeting_file(svc: Services, principal: Principal | None, meeting_id: str) -> bytes:
    """The meeting's .ics (METHOD:PUBLISH), for whoever may see the meeting (``meetings.access``)."""
    a = await meetings.access(svc, principal, meeting_id)
    return await file_of(svc, a.meeting)


async def file_of(svc: Services, m: Meeting) -> bytes:
    """For a caller already allowed to see ``m`` (the GraphQL ``Meeting`` type is only handed to them)."""
    async with svc.db.read() as session:
        state = await store.state(session, m.id)
        organizer = await store.user(session, m.host_user_id)
    return calendar([entries.entry(svc, m, state, organizer)], method=Method.PUBLISH, now=utcnow())


def file_url(svc: Services, meeting_id: str) -> str:
    return f"{svc.settings.base_url}/calendar/meetings/{meeting_id}.ics"


@dataclass(frozen=True, slots=True)
class MeetingCalendarView:
    ics_url: str
    links: Links
    sequence: int
    include_passcode: bool
    exdates: list[datetime]


async def view(svc: Services, m: Meeting) -> MeetingCalendarView:
    """For a caller already allowed to see ``m`` (the GraphQL ``Meeting`` type is only handed to them)."""
    async with svc.db.read() as session:
        state = await store.state(session, m.id)
        organizer = await store.user(session, m.host_user_id)
    e = entries.entry(svc, m, state, organizer)
    return MeetingCalendarView(
        ics_url=file_url(svc, m.id),
        links=links(e),
        sequence=e.sequence,
        include_passcode=state is not None and state.include_passcode,
        exdates=list(e.exdates),
    )


async def skipped(svc: Services, m: Meeting) -> set[datetime]:
    """Starts (UTC) of the occurrences of ``m`` left out with ``skip_occurrence``."""
    async with svc.db.read() as session:
        state = await store.state(session, m.id)
    return {datetime.fromisoformat(x) for x in state.exdates} if state is not None else set()


async def set_options(svc: Services, principal: Principal | None, meeting_id: str, *, include_passcode: bool) -> None:
    """Whether calendar files, feeds and invitations carry the passcode (host and co-hosts decide)."""
    async with svc.db.write() as tx:
        m = await meetings.owned_for_update(tx.session, principal, meeting_id)
        row = await store.state_for_write(tx.session, m.id)
        if row.include_passcode != include_passcode:
            row.include_passcode = include_passcode
            row.sequence = (row.sequence or 0) + 1  # the description changed: invitees' copies should update
            invitations.after_commit(tx, svc, m.id, Method.REQUEST)
            await sync.queue(tx, m)


async def skip_occurrence(svc: Services, principal: Principal | None, meeting_id: str, starts_at: datetime) -> None:
    """Leave one occurrence of a series out (EXDATE); invitees get the updated series."""
    if starts_at.tzinfo is None:
        raise BadInputError("startsAt", "startsAt must include a UTC offset")
    async with svc.db.write() as tx:
        m = await meetings.owned_for_update(tx.session, principal, meeting_id)
        if m.status in ("ended", "cancelled"):
            raise MeetingEndedError(f"meeting has {m.status}; it can no longer be changed")
        if m.recurrence is None:
            raise BadInputError("meetingId", "only a recurring meeting has occurrences to skip")
        duration = timedelta(minutes=m.duration_minutes)
        wanted = starts_at.astimezone(UTC)
        found = schedule.occurrences(
            m.recurrence, m.starts_at, m.timezone, duration, after=wanted + duration - timedelta(seconds=1), count=1
        )
        if found != [wanted]:
            raise BadInputError("startsAt", f"the series has no occurrence starting at {wanted.isoformat()}")
        row = await store.state_for_write(tx.session, m.id)
        if wanted.isoformat() not in row.exdates:
            row.exdates = sorted([*row.exdates, wanted.isoformat()])
            row.sequence = (row.sequence or 0) + 1  # RFC 5545 section 3.8.7.4: EXDATE changes bump SEQUENCE
            invitations.after_commit(tx, svc, m.id, Method.REQUEST)
            await sync.queue(tx, m)


# --- invitees ---------------------------------------------------------------------------------------------------


async def invitees(svc: Services, principal: Principal | None, meeting_id: str) -> list[str]:
    """Host and co-hosts only: addresses are personal data of people who may not have joined."""
    a = await meetings.access(svc, principal, meeting_id)
    if a.role not in HOSTS:
        raise ForbiddenError("only the host and co-hosts see who was invited")
    async with svc.db.read() as session:
        return await store.invitees(session, meeting_id)


def _addresses(emails: list[str]) -> list[str]:
    if len(emails) > MAX_INVITEES:
        raise BadInputError("emails", f"at most {MAX_INVITEES} addresses at once (got {len(emails)})")
    out: list[str] = []
    for e in emails:
        address = validation.email("emails", e.strip()).lower()
        if address not in out:
            out.append(address)
    return out


async def invite(svc: Services, principal: Principal | None, meeting_id: str, emails: list[str]) -> list[str]:
    """Add invitees; each new one gets a METHOD:REQUEST (RFC 5546 section 3.2.2) with the current SEQUENCE."""
    wanted = _addresses(emails)
    async with svc.db.write() as tx:
        m = await meetings.owned_for_update(tx.session, principal, meeting_id)
        if m.status in ("ended", "cancelled"):
            raise MeetingEndedError(f"meeting has {m.status}; nobody can be invited any more")
        if m.kind != "scheduled":
            raise BadInputError("meetingId", "only scheduled meetings have calendar invitations")
        have = await store.invitees(tx.session, m.id)
        if len(set(have) | set(wanted)) > MAX_INVITEES:
            raise BadInputError("emails", f"a meeting can have at most {MAX_INVITEES} invitees")
        new = await store.add_invitees(tx.session, m.id, wanted, utcnow())
        if new:
            invitations.after_commit(tx, svc, m.id, Method.REQUEST, tuple(new))
        return sorted(set(have) | set(new))


async def uninvite(svc: Services, principal: Principal | None, meeting_id: str, emails: list[str]) -> list[str]:
    """Remove invitees; each gets a METHOD:CANCEL naming them (RFC 5546 section 3.2.5)."""
    unwanted = _addresses(emails)
    async with svc.db.write() as tx:
        m = await meetings.owned_for_update(tx.session, principal, meeting_id)
        gone = await store.remove_invitees(tx.session, m.id, unwanted)
        if gone:
            await sequence.bump(tx.session, m.id)
            invitations.after_commit(tx, svc, m.id, Method.CANCEL, tuple(gone))
        return await store.invitees(tx.session, m.id)


# --- the secret feed ------------------------------------------------------------------------------------------


def _user(principal: Principal | None) -> str:
    if not isinstance(principal, UserPrincipal):
        raise UnauthenticatedError("log in (with your own session) to manage your calendar feed")
    if principal.key_id is not None:
        # A key acting for a program has no business minting a URL that shows its owner's calendar. (GraphQL
        # refuses keys these fields before any resolver; REST reaches here: FORBIDDEN, as for connectCalendar.)
        raise ForbiddenError("API keys cannot manage the calendar feed; use the account's own session")
    return principal.user_id


def feed_url(svc: Services, secret: str) -> str:
    return f"{svc.settings.base_url}/calendar/feed/{secret}.ics"


@dataclass(frozen=True, slots=True)
class FeedUrls:
    url: str
    """https (or the deployment's scheme): anyone holding it sees the owner's meetings."""
    webcal: str
    """The same as webcal:// (Apple Calendar and Outlook subscribe to it)."""
    google_subscribe: str
    """Opens Google Calendar's "add by URL" page for it."""


def feed_urls(url: str) -> FeedUrls:
    webcal = "webcal://" + url.split("://", 1)[1]
    return FeedUrls(url, webcal, "https://calendar.google.com/calendar/r?" + urlencode({"cid": webcal}))


async def feed(svc: Services, principal: Principal | None) -> CalendarFeed | None:
    user_id = _user(principal)
    async with svc.db.read() as session:
        return await store.feed(session, user_id)


async def rotate_feed(svc: Services, principal: Principal | None) -> tuple[CalendarFeed, str]:
    """Create the feed or replace its secret (the old URL stops working). Returns the row and the URL, which is
    shown this once: only the secret's SHA-256 is kept."""
    user_id = _user(principal)
    secret = secrets.token_urlsafe(32)  # 256 bits: 43 URL-safe characters
    async with svc.db.write() as tx:
        row = await store.feed(tx.session, user_id)
        if row is None:
            row = CalendarFeed(user_id=user_id, secret_digest=_digest(secret), created_at=utcnow())
            tx.session.add(row)
        else:
            row.secret_digest, row.created_at = _digest(secret), utcnow()
    return row, feed_url(svc, secret)


async def revoke_feed(svc: Services, principal: Principal | None) -> bool:
    """Delete the feed: its URL answers 404 from now on. False when there was none."""
    user_id = _user(principal)
    async with svc.db.write() as tx:
        row = await store.feed(tx.session, user_id)
        if row is None:
            return False
        await tx.session.delete(row)
    return True


async def feed_file(svc: Services, secret: str) -> bytes:
    """The feed behind a secret URL: the user's scheduled meetings as one calendar (METHOD:PUBLISH)."""
    if not _SECRET.fullmatch(secret):
        raise NotFoundError("no such calendar feed")
    async with svc.db.read() as session:
        row = await store.feed_by_digest(session, _digest(secret))
        if row is None:
            raise NotFoundError("no such calendar feed")
        rows = await store.feed_meetings(session, row.user_id, since=utcnow() - FEED_PAST)
        states = await store.states(session, [m.id for m in rows])
        hosts = await store.users(session, {m.host_user_id for m in rows})
    events = [entries.entry(svc, m, states.get(m.id), hosts.get(m.host_user_id)) for m in rows]
    return calendar(events, method=Method.PUBLISH, name="meetmesh", now=utcnow())
