""" "Add to Google Calendar" / "Add to Outlook" links: pre-filled event forms of those services (nothing is sent to
them until the user saves). Neither form is a standard: the parameters are the ones their web apps accept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from urllib.parse import urlencode

from api.calendars.ics import EventInfo, details

GOOGLE = "https://calendar.google.com/calendar/render"
OUTLOOK = "https://outlook.live.com/calendar/0/deeplink/compose"
OFFICE365 = "https://outlook.office.com/calendar/0/deeplink/compose"


@dataclass(frozen=True, slots=True)
class Links:
    google: str
    outlook: str
    office365: str


def _utc(e: EventInfo) -> tuple[str, str]:
    fmt = "%Y%m%dT%H%M%SZ"
    return e.starts_at.astimezone(UTC).strftime(fmt), (e.starts_at + e.duration).astimezone(UTC).strftime(fmt)


def google(e: EventInfo) -> str:
    start, end = _utc(e)
    q = {
        "action": "TEMPLATE",
        "text": e.title,
        "dates": f"{start}/{end}",
        "details": details(e),
        "location": e.join_url,
        "ctz": e.timezone,  # a recurring rule is evaluated in this zone, as ours is
    }
    if e.recurrence:
        q["recur"] = f"RRULE:{e.recurrence}"
    return f"{GOOGLE}?{urlencode(q)}"


def _outlook(base: str, e: EventInfo) -> str:
    # Outlook's compose form takes one occurrence (no recurrence parameter): the ICS file carries a series.
    q = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": e.title,
        "startdt": e.starts_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "enddt": (e.starts_at + e.duration).astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "body": details(e),
        "location": e.join_url,
    }
    return f"{base}?{urlencode(q)}"


def links(e: EventInfo) -> Links:
    return Links(google=google(e), outlook=_outlook(OUTLOOK, e), office365=_outlook(OFFICE365, e))
