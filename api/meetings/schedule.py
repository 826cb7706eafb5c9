"""Recurrence (RFC 5545 RRULE) evaluated in the meeting's own time zone, so 09:00 stays 09:00 across DST.

We accept the subset calendar apps write (FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS,
WKST) and reject rules that can never match. That is what keeps expansion cheap: dateutil only stops looking
for the next occurrence when it finds one (or reaches year 9999, ~3 s of CPU), and every rule in this subset
that can match at all matches at least once every 28 years. A series with an end must end within
``HORIZON``, so expanding it is bounded too.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from api.errors import BadInputError

MAX_OCCURRENCES = 1000
HORIZON = timedelta(days=3653)  # ten years
_ALLOWED_FREQ = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
_ALLOWED_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST"}
_UTC_UNTIL = re.compile(r"UNTIL=(\d{8}T\d{6})Z", re.IGNORECASE)
_MONTH_DAYS = {m: 29 if m == 2 else calendar.monthrange(2001, m)[1] for m in range(1, 13)}


def _bad(message: str) -> BadInputError:
    return BadInputError("recurrence", message)


def _local_until(recurrence: str, zone: ZoneInfo) -> str:
    # RFC 5545 section 3.3.10: an UNTIL ending in Z is UTC. We expand in local wall-clock time, so convert it.
    def to_local(match: re.Match[str]) -> str:
        utc = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        return "UNTIL=" + utc.astimezone(zone).strftime("%Y%m%dT%H%M%S")

    return _UTC_UNTIL.sub(to_local, recurrence)


def _rule(recurrence: str, starts_at: datetime, tz: str) -> rrule:
    zone = ZoneInfo(tz)
    local_start = starts_at.astimezone(zone).replace(tzinfo=None)
    try:
        rule = rrulestr(_local_until(recurrence, zone), dtstart=local_start, ignoretz=True)
    except (ValueError, TypeError, OverflowError) as exc:
        raise _bad(f"recurrence is not a valid RRULE ({exc})") from exc
    if not isinstance(rule, rrule):
        raise _bad("recurrence must be a single RRULE")
    return rule


def _ints(parts: dict[str, str], key: str, lo: int, hi: int) -> list[int]:
    if key not in parts:
        return []
    try:
        values = [int(v) for v in parts[key].split(",")]
    except ValueError as exc:
        raise _bad(f"recurrence {key} must be a list of whole numbers") from exc
    if not all(lo <= abs(v) <= hi for v in values):
        raise _bad(f"recurrence {key} values must be within ±{lo}..{hi}")
    return values


def _parts(value: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for chunk in value.upper().split(";"):
        key, sep, val = chunk.partition("=")
        if not sep or not val:
            raise _bad(f"recurrence part {chunk!r} is not NAME=VALUE")
        if key not in _ALLOWED_PARTS:
            raise _bad(f"recurrence part {key} is not supported (use {', '.join(sorted(_ALLOWED_PARTS))})")
        parts[key] = val
    return parts


def validate(recurrence: str, starts_at: datetime, tz: str) -> str:
    """Normalise and check an RRULE; returns it without the ``RRULE:`` prefix."""
    value = recurrence.strip().removeprefix("RRULE:")
    if len(value) > 500 or "\n" in value:
        raise _bad("recurrence must be one RRULE line of at most 500 characters")
    parts = _parts(value)
    if parts.get("FREQ") not in _ALLOWED_FREQ:
        raise _bad(f"recurrence FREQ must be one of {sorted(_ALLOWED_FREQ)}")
    _ints(parts, "INTERVAL", 1, 99)
    if "COUNT" in parts and not (parts["COUNT"].isdigit() and 1 <= int(parts["COUNT"]) <= MAX_OCCURRENCES):
        raise _bad(f"recurrence COUNT must be 1..{MAX_OCCURRENCES}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise _bad("recurrence may have COUNT or UNTIL, not both")
    months = _ints(parts, "BYMONTH", 1, 12)
    if any(m < 0 for m in months):
        raise _bad("recurrence BYMONTH values must be 1..12")
    monthdays = [d for d in _ints(parts, "BYMONTHDAY", 1, 31) if d > 0]
    _ints(parts, "BYSETPOS", 1, 366)
    if months and monthdays and not any(d <= _MONTH_DAYS[m] for m in months for d in monthdays):
        raise _bad("recurrence can never happen: no listed month has the listed day")
    rule = _rule(value, starts_at, tz)
    if not rule.between(rule._dtstart, rule._dtstart + HORIZON, inc=True):
        raise _bad("recurrence yields no occurrence in the next ten years")
    last_end(value, starts_at, tz, timedelta(0))  # a bounded series must end within the horizon
    return value


def last_end(recurrence: str | None, starts_at: datetime, tz: str, duration: timedelta) -> datetime | None:
    """End of the final occurrence, or None for an unbounded series."""
    if recurrence is None:
        return starts_at + duration
    rule = _rule(recurrence, starts_at, tz)
    if rule._count is None and rule._until is None:
        return None
    if rule._until is not None and rule._until > rule._dtstart + HORIZON:
        raise _bad("recurrence must end within ten years (or have no end)")
    within = rule.between(rule._dtstart, rule._dtstart + HORIZON, inc=True)
    if rule._count is not None and len(within) < rule._count:
        raise _bad("recurrence must end within ten years (or have no end)")
    if not within:
        raise _bad("recurrence yields no occurrence")
    last = within[-1] if rule._count is None else within[rule._count - 1]
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
    return [
        occ.replace(tzinfo=zone).astimezone(UTC)
        for occ in _rule(recurrence, starts_at, tz).xafter(local_after, count=count, inc=False)
    ]
