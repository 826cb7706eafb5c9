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

from api import integers
from api.errors import BadInputError

MAX_OCCURRENCES = 1000
HORIZON = timedelta(days=3653)  # ten years
_ALLOWED_FREQ = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
_ALLOWED_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST"}
_UTC_UNTIL = re.compile(r"UNTIL=([0-9]{8}T[0-9]{6})Z", re.IGNORECASE)
_UNTIL = re.compile(r"[0-9]{8}(T[0-9]{6}Z?)?")
"""RFC 5545 section 3.3.4/3.3.5: a DATE or DATE-TIME, ASCII digits only (``\\d`` would also take ``٣``)."""
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_BYDAY = re.compile(r"([+-]?[0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
"""RFC 5545 section 3.3.10 weekdaynum: an optional signed ordinal (1..53) then a weekday."""
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


def _int(key: str, text: str, lo: int, hi: int, *, signed: bool) -> int:
    """One number of an RRULE part: ASCII digits (a sign only where RFC 5545 allows one), ``lo <= |n| <= hi``."""
    value = integers.int_or_none(text, lo=-hi if signed else lo, hi=hi, signed=signed)
    if value is None or abs(value) < lo:
        within = f"±{lo}..{hi}" if signed else f"{lo}..{hi}"
        raise _bad(f"recurrence {key} must be whole numbers within {within} in ASCII digits (got {text[:24]!r})")
    return value


def _ints(parts: dict[str, str], key: str, lo: int, hi: int, *, signed: bool) -> list[int]:
    if key not in parts:
        return []
    return [_int(key, v, lo, hi, signed=signed) for v in parts[key].split(",")]


def _check_byday(parts: dict[str, str]) -> None:
    for item in parts.get("BYDAY", "").split(",") if "BYDAY" in parts else []:
        m = _BYDAY.fullmatch(item)
        if m is None:
            raise _bad(f"recurrence BYDAY items must be like MO, 1MO or -1FR (got {item[:24]!r})")
        if m.group(1) is not None:
            _int("BYDAY", m.group(1), 1, 53, signed=True)


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
    # RFC 5545's grammar is ASCII; refusing the rest up front also keeps str.upper() from changing lengths.
    if not value.isascii() or not value.isprintable():
        raise _bad("recurrence must be printable ASCII")
    parts = _parts(value)
    if parts.get("FREQ") not in _ALLOWED_FREQ:
        raise _bad(f"recurrence FREQ must be one of {sorted(_ALLOWED_FREQ)}")
    _ints(parts, "INTERVAL", 1, 99, signed=False)
    if "COUNT" in parts:
        _int("COUNT", parts["COUNT"], 1, MAX_OCCURRENCES, signed=False)
    if "COUNT" in parts and "UNTIL" in parts:
        raise _bad("recurrence may have COUNT or UNTIL, not both")
    if "UNTIL" in parts and not _UNTIL.fullmatch(parts["UNTIL"]):
        raise _bad(f"recurrence UNTIL must be a date like 20301231 or 20301231T170000Z (got {parts['UNTIL'][:24]!r})")
    if "WKST" in parts and parts["WKST"] not in _WEEKDAYS:
        raise _bad(f"recurrence WKST must be one of {', '.join(_WEEKDAYS)}")
    _check_byday(parts)
    months = _ints(parts, "BYMONTH", 1, 12, signed=False)
    monthdays = [d for d in _ints(parts, "BYMONTHDAY", 1, 31, signed=True) if d > 0]
    _ints(parts, "BYSETPOS", 1, 366, signed=True)
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
