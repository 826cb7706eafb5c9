"""Recurrence (RFC 5545 RRULE) evaluated in the meeting's own time zone, so 09:00 stays 09:00 across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from api.errors import BadInputError

MAX_OCCURRENCES = 1000
_ALLOWED_FREQ = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}


def _rule(recurrence: str, starts_at: datetime, tz: str) -> rrule:
    local_start = starts_at.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    try:
        rule = rrulestr(recurrence.removeprefix("RRULE:"), dtstart=local_start, ignoretz=True)
    except (ValueError, TypeError) as exc:
        raise BadInputError("recurrence", f"recurrence is not a valid RRULE ({exc})") from exc
    if not isinstance(rule, rrule):
        raise BadInputError("recurrence", "recurrence must be a single RRULE")
    return rule


def validate(recurrence: str, starts_at: datetime, tz: str) -> str:
    """Normalise and check an RRULE; returns it without the ``RRULE:`` prefix."""
    value = recurrence.strip().removeprefix("RRULE:")
    if len(value) > 500 or "\n" in value or "DTSTART" in value.upper():
        raise BadInputError("recurrence", "recurrence must be one RRULE line without DTSTART, at most 500 characters")
    parts = dict(p.split("=", 1) for p in value.upper().split(";") if "=" in p)
    if parts.get("FREQ") not in _ALLOWED_FREQ:
        raise BadInputError("recurrence", f"recurrence FREQ must be one of {sorted(_ALLOWED_FREQ)}")
    if "COUNT" in parts and not parts["COUNT"].isdigit():
        raise BadInputError("recurrence", "recurrence COUNT must be a whole number")
    if "COUNT" in parts and not 1 <= int(parts["COUNT"]) <= MAX_OCCURRENCES:
        raise BadInputError("recurrence", f"recurrence COUNT must be 1..{MAX_OCCURRENCES}")
    rule = _rule(value, starts_at, tz)
    if rule.after(datetime(1, 1, 1), inc=True) is None:
        raise BadInputError("recurrence", "recurrence yields no occurrence")
    return value


def last_end(recurrence: str | None, starts_at: datetime, tz: str, duration: timedelta) -> datetime | None:
    """End of the final occurrence, or None for an unbounded series."""
    if recurrence is None:
        return starts_at + duration
    parts = recurrence.upper()
    if "COUNT=" not in parts and "UNTIL=" not in parts:
        return None
    last = None
    for i, occ in enumerate(_rule(recurrence, starts_at, tz)):
        if i >= MAX_OCCURRENCES:
            raise BadInputError("recurrence", f"recurrence must have at most {MAX_OCCURRENCES} occurrences")
        last = occ
    if last is None:
        raise BadInputError("recurrence", "recurrence yields no occurrence")
    end: datetime = last.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC) + duration
    return end


def occurrences(
    recurrence: str | None, starts_at: datetime, tz: str, duration: timedelta, *, after: datetime, count: int
) -> list[datetime]:
    """Start times (UTC) of the next ``count`` occurrences that have not ended by ``after``."""
    if recurrence is None:
        return [starts_at] if starts_at + duration > after else []
    zone = ZoneInfo(tz)
    local_after = (after - duration).astimezone(zone).replace(tzinfo=None)
    out: list[datetime] = []
    for occ in _rule(recurrence, starts_at, tz).xafter(local_after, count=count, inc=False):
        out.append(occ.replace(tzinfo=zone).astimezone(UTC))
    return out
