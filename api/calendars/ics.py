"""iCalendar (RFC 5545) text for meetings, built with the ``icalendar`` package. Pure: rows in, bytes out.

One VEVENT per meeting (a series is one VEVENT with RRULE and EXDATE, not its expansion), with its UID stable for
the meeting's life so calendar apps update the entry instead of adding another, and DTSTART/EXDATE in the
meeting's own time zone with a VTIMEZONE (RFC 5545 section 3.6.5), so a weekly 09:00 stays 09:00 across DST.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

import icalendar

PRODID = "-//meetmesh//meetmesh calendars//EN"
_TZ_YEARS_BEFORE = 1
_TZ_YEARS_AFTER = 11  # a series ends within ten years (api/meetings/schedule.HORIZON)


class Method(Enum):
    """iTIP methods (RFC 5546 section 1.4) we send; PUBLISH for plain files and feeds."""

    PUBLISH = "PUBLISH"
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


@dataclass(frozen=True, slots=True)
class EventInfo:
    uid: str
    sequence: int
    title: str
    description: str
    starts_at: datetime
    """UTC."""
    duration: timedelta
    timezone: str
    recurrence: str | None
    exdates: tuple[datetime, ...]
    """UTC starts of skipped occurrences."""
    cancelled: bool
    join_url: str
    number: str
    """As shown to people: ``123 4567 8901``."""
    passcode: str | None
    organizer_email: str
    organizer_name: str
    attendees: tuple[str, ...] = field(default=())
    updated_at: datetime | None = None


def _body(e: EventInfo) -> str:
    lines = [e.description.strip(), ""] if e.description.strip() else []
    lines += [f"Join: {e.join_url}", f"Meeting number: {e.number}"]
    if e.passcode:
        lines.append(f"Passcode: {e.passcode}")
    return "\n".join(lines)


def details(e: EventInfo) -> str:
    """The text calendar entries show (also used by the "add to" links)."""
    return _body(e)


def _event(e: EventInfo, method: Method | None, now: datetime) -> icalendar.Event:
    zone = ZoneInfo(e.timezone)
    ev = icalendar.Event()
    ev.add("uid", e.uid)
    ev.add("dtstamp", now.astimezone(UTC))
    # RFC 5545 section 3.8.7.4: SEQUENCE grows with every change of start, end, summary or recurrence; an
    # invitee's calendar ignores a REQUEST whose SEQUENCE is not higher than what it has (RFC 5546 section 2.1.5).
    ev.add("sequence", e.sequence)
    ev.add("summary", e.title)
    ev.add("description", _body(e))
    ev.add("dtstart", e.starts_at.astimezone(zone))
    ev.add("dtend", (e.starts_at + e.duration).astimezone(zone))
    ev.add("location", e.join_url)
    ev.add("url", e.join_url)
    if e.updated_at is not None:
        ev.add("last-modified", e.updated_at.astimezone(UTC))
    if e.recurrence:
        ev.add("rrule", icalendar.vRecur.from_ical(e.recurrence))
        if e.exdates:
            ev.add("exdate", [x.astimezone(zone) for x in e.exdates])
    cancelled = e.cancelled or method is Method.CANCEL
    ev.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    ev.add("transp", "OPAQUE")
    organizer = icalendar.vCalAddress(f"mailto:{e.organizer_email}")
    organizer.params["cn"] = icalendar.vText(e.organizer_name)
    ev.add("organizer", organizer)
    for address in e.attendees:
        attendee = icalendar.vCalAddress(f"mailto:{address}")
        attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = icalendar.vText("NEEDS-ACTION")
        # We do not process iTIP REPLYs (no inbound mail), so we do not ask for them (RFC 5545 section 3.2.17).
        attendee.params["rsvp"] = icalendar.vText("FALSE")
        ev.add("attendee", attendee)
    return ev


def calendar(events: list[EventInfo], *, method: Method | None, name: str | None = None, now: datetime) -> bytes:
    """``method`` None: an object stored on a CalDAV server, which must not carry METHOD (RFC 4791 section 4.1)."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method is not None:
        cal.add("method", method.value)
    if name is not None:
        cal.add("x-wr-calname", name)  # the feed's name in Google Calendar, Outlook and Apple Calendar
    for e in events:
        cal.add_component(_event(e, method, now))
    if events:
        first = min(e.starts_at for e in events).date()
        cal.add_missing_timezones(
            first_date=date(first.year - _TZ_YEARS_BEFORE, 1, 1),
            last_date=date(max(e.starts_at for e in events).year + _TZ_YEARS_AFTER, 1, 1),
        )
    out: bytes = cal.to_ical()
    return out
