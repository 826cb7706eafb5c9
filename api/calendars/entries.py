"""A meeting row as a calendar entry (``ics.EventInfo``): what the file, the feed, the links and invitations share."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from api.calendars.ics import EventInfo
from api.meetings import numbers
from api.meetings.invite import invite_link, page_url
from api.services import Services
from dbschema.calendars import MeetingCalendar
from dbschema.models import Meeting, User


def uid(svc: Services, meeting_id: str) -> str:
    """RFC 5545 section 3.8.4.7: globally unique and the same for the meeting's whole life (updates, cancel)."""
    return f"{meeting_id}@{urlsplit(svc.settings.base_url).hostname or 'meetmesh'}"


def entry(
    svc: Services,
    m: Meeting,
    state: MeetingCalendar | None,
    organizer: User | None,
    attendees: tuple[str, ...] = (),
) -> EventInfo:
    include_passcode = state is not None and state.include_passcode
    # The owner chooses whether calendar entries carry the passcode. If not, the link is the bare meeting page
    # (the invite link's key stands in for the passcode, so it would give it away).
    passcode = svc.creds.open_passcode(m.id, m.passcode_sealed) if include_passcode else None
    return EventInfo(
        uid=uid(svc, m.id),
        sequence=state.sequence if state is not None else 0,
        title=m.title,
        description=m.description,
        starts_at=m.starts_at,
        duration=timedelta(minutes=m.duration_minutes),
        timezone=m.timezone,
        recurrence=m.recurrence,
        exdates=tuple(datetime.fromisoformat(x) for x in (state.exdates if state is not None else [])),
        cancelled=m.status == "cancelled",
        join_url=invite_link(svc, m) if include_passcode else page_url(svc, m),
        number=numbers.display(m.number),
        passcode=passcode,
        organizer_email=organizer.email if organizer is not None else svc.settings.mail_from,
        organizer_name=organizer.display_name if organizer is not None else "meetmesh",
        attendees=attendees,
        updated_at=None,
    )
