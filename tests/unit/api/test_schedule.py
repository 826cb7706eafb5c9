"""Recurrence rules evaluated in the meeting's own time zone (09:00 stays 09:00 across DST changes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.errors import BadInputError
from api.meetings import schedule

PARIS = "Europe/Paris"
NEW_YORK = "America/New_York"
HOUR = timedelta(hours=1)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)

# Europe/Paris: CET (+01:00) until 2027-03-28, CEST (+02:00) until 2027-10-31.
MON_BEFORE_SPRING = datetime(2027, 3, 22, 9, 0, tzinfo=ZoneInfo(PARIS))
MON_BEFORE_AUTUMN = datetime(2027, 10, 25, 9, 0, tzinfo=ZoneInfo(PARIS))


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# -- validate ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("FREQ=WEEKLY;BYDAY=MO;COUNT=3", "FREQ=WEEKLY;BYDAY=MO;COUNT=3"),
        ("RRULE:FREQ=DAILY;COUNT=5", "FREQ=DAILY;COUNT=5"),
        ("  FREQ=MONTHLY;BYMONTHDAY=1  ", "FREQ=MONTHLY;BYMONTHDAY=1"),
        ("FREQ=YEARLY", "FREQ=YEARLY"),
        ("FREQ=DAILY;COUNT=1000", "FREQ=DAILY;COUNT=1000"),
        ("FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20271231T235959", "FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20271231T235959"),
    ],
)
def test_validate_accepts_and_normalises(given: str, stored: str) -> None:
    assert schedule.validate(given, MON_BEFORE_SPRING, PARIS) == stored


@pytest.mark.parametrize(
    "rule",
    [
        "",
        "not a rule",
        "FREQ=HOURLY",
        "FREQ=MINUTELY;COUNT=3",
        "FREQ=SECONDLY",
        "FREQ=SOMETIMES",
        "BYDAY=MO;COUNT=3",  # no FREQ
        "FREQ=WEEKLY;COUNT=0",
        "FREQ=WEEKLY;COUNT=1001",
        "FREQ=WEEKLY;COUNT=-1",
        "FREQ=WEEKLY;COUNT=three",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=WEEKLY;INTERVAL=abc",
        "FREQ=WEEKLY;UNTIL=someday",
        "DTSTART:20270101T090000\nRRULE:FREQ=DAILY",
        "FREQ=DAILY;DTSTART=20270101T090000",
        "FREQ=DAILY\nFREQ=WEEKLY",
        "FREQ=DAILY;BYMONTHDAY=1;" + "X" * 500,
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",  # 30 February: never happens
    ],
)
def test_validate_rejects(rule: str) -> None:
    with pytest.raises(BadInputError) as info:
        schedule.validate(rule, MON_BEFORE_SPRING, PARIS)
    assert info.value.field == "recurrence"


_HOSTILE_NUMBERS = ["²", "٣", "۱۲", "１２", "𝟙", "1e3", " 1", "0x1", "1_0", "1.0", "\x00", "", "9" * 20, "-0"]
"""Text that str.isdigit() or int() would read as a number (or choke on), but RFC 5545 does not allow."""


_NUMBER_TEMPLATES = [
    "FREQ=DAILY;COUNT={}",
    "FREQ=DAILY;INTERVAL={}",
    "FREQ=YEARLY;BYMONTH={}",
    "FREQ=YEARLY;BYMONTH=1,{}",
    "FREQ=MONTHLY;BYMONTHDAY={}",
    "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS={}",
    "FREQ=MONTHLY;BYDAY={}MO",
    "FREQ=DAILY;UNTIL={}",
    "FREQ=DAILY;UNTIL=2030010{}",
]


@pytest.mark.parametrize(
    ("template", "text"),
    # An empty ordinal is the plain weekday ("MO"), which is valid.
    [(t, x) for t in _NUMBER_TEMPLATES for x in _HOSTILE_NUMBERS if (t, x) != ("FREQ=MONTHLY;BYDAY={}MO", "")],
)
def test_validate_refuses_numbers_that_are_not_ascii_digits(template: str, text: str) -> None:
    with pytest.raises(BadInputError) as info:
        schedule.validate(template.format(text), MON_BEFORE_SPRING, PARIS)
    assert info.value.field == "recurrence"


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;COUNT=+3",  # COUNT, INTERVAL and BYMONTH take no sign in RFC 5545
        "FREQ=DAILY;INTERVAL=+2",
        "FREQ=YEARLY;BYMONTH=-3",
        "FREQ=MONTHLY;BYDAY=54MO",  # ordinals are 1..53
        "FREQ=MONTHLY;BYDAY=0MO",
        "FREQ=MONTHLY;BYDAY=MONDAY",
        "FREQ=WEEKLY;WKST=XX",
        "FREQ=DAILY;UNTIL=20301231T170000ZZ",
        "FREQ=DAILY;COUNT=3\x00",
        "FREQ=DAILY;COUNT=3\u2028;INTERVAL=2",
    ],
)
def test_validate_refuses_what_rfc_5545_does_not_allow(rule: str) -> None:
    with pytest.raises(BadInputError) as info:
        schedule.validate(rule, MON_BEFORE_SPRING, PARIS)
    assert info.value.field == "recurrence"


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "FREQ=MONTHLY;BYMONTHDAY=+15",
        "FREQ=MONTHLY;BYDAY=+1MO",
        "FREQ=MONTHLY;BYDAY=-1FR",
        "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=-1",
        "FREQ=DAILY;COUNT=007",
        "FREQ=WEEKLY;WKST=SU;BYDAY=MO",
        "FREQ=DAILY;UNTIL=20271231",
    ],
)
def test_validate_keeps_the_signed_and_padded_forms_rfc_5545_allows(rule: str) -> None:
    assert schedule.validate(rule, MON_BEFORE_SPRING, PARIS) == rule


# -- last_end ------------------------------------------------------------------------------------------------


def test_last_end_of_a_one_off_is_start_plus_duration() -> None:
    start = _utc(2027, 5, 1, 10, 0)
    assert schedule.last_end(None, start, PARIS, timedelta(minutes=45)) == _utc(2027, 5, 1, 10, 45)


@pytest.mark.parametrize("rule", ["FREQ=WEEKLY;BYDAY=MO", "FREQ=DAILY;INTERVAL=2"])
def test_last_end_of_an_unbounded_series_is_none(rule: str) -> None:
    assert schedule.last_end(rule, MON_BEFORE_SPRING, PARIS, HOUR) is None


def test_last_end_with_count_crosses_dst_in_local_time() -> None:
    # 22 Mar, 29 Mar, 5 Apr 2027, 09:00 in Paris; the last one is in summer time (UTC+2).
    end = schedule.last_end("FREQ=WEEKLY;BYDAY=MO;COUNT=3", MON_BEFORE_SPRING, PARIS, HOUR)
    assert end == _utc(2027, 4, 5, 8, 0)
    assert end is not None and end.utcoffset() == timedelta(0)


def test_last_end_with_until() -> None:
    end = schedule.last_end("FREQ=DAILY;UNTIL=20270325T235959", MON_BEFORE_SPRING, PARIS, timedelta(minutes=30))
    assert end == _utc(2027, 3, 25, 8, 30)  # 25 March 09:00 CET + 30 min


def test_until_in_utc_form_is_read_as_utc() -> None:
    # RFC 5545: an UNTIL ending in Z is a UTC instant. 08:30Z on 25 March is 09:30 in Paris, after that day's
    # 09:00 meeting, so the series has four occurrences (22..25 March), the last ending 09:00Z.
    rule = "FREQ=DAILY;UNTIL=20270325T083000Z"
    occ = schedule.occurrences(rule, MON_BEFORE_SPRING, PARIS, HOUR, after=LONG_AGO, count=10)
    assert [o.day for o in occ] == [22, 23, 24, 25]
    assert schedule.last_end(rule, MON_BEFORE_SPRING, PARIS, HOUR) == _utc(2027, 3, 25, 9, 0)


def test_last_end_refuses_a_bounded_series_that_is_too_long() -> None:
    with pytest.raises(BadInputError) as info:
        schedule.last_end("FREQ=DAILY;UNTIL=20400101T000000", MON_BEFORE_SPRING, PARIS, HOUR)
    assert info.value.field == "recurrence"


def test_last_end_accepts_exactly_the_maximum() -> None:
    start = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    end = schedule.last_end(f"FREQ=DAILY;COUNT={schedule.MAX_OCCURRENCES}", start, "UTC", HOUR)
    assert end == start + timedelta(days=schedule.MAX_OCCURRENCES - 1) + HOUR


# -- occurrences ---------------------------------------------------------------------------------------------


def test_weekly_in_paris_keeps_nine_local_across_spring_forward() -> None:
    occ = schedule.occurrences("FREQ=WEEKLY;BYDAY=MO;COUNT=3", MON_BEFORE_SPRING, PARIS, HOUR, after=LONG_AGO, count=10)
    assert occ == [_utc(2027, 3, 22, 8, 0), _utc(2027, 3, 29, 7, 0), _utc(2027, 4, 5, 7, 0)]
    for o in occ:
        assert o.tzinfo is not None and o.utcoffset() == timedelta(0)
        local = o.astimezone(ZoneInfo(PARIS))
        assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)


def test_weekly_in_paris_keeps_nine_local_across_fall_back() -> None:
    occ = schedule.occurrences("FREQ=WEEKLY;BYDAY=MO;COUNT=3", MON_BEFORE_AUTUMN, PARIS, HOUR, after=LONG_AGO, count=10)
    assert occ == [_utc(2027, 10, 25, 7, 0), _utc(2027, 11, 1, 8, 0), _utc(2027, 11, 8, 8, 0)]


def test_daily_in_new_york_uses_the_us_dst_date() -> None:
    start = datetime(2027, 3, 13, 9, 0, tzinfo=ZoneInfo(NEW_YORK))  # DST starts there on 14 March 2027
    occ = schedule.occurrences("FREQ=DAILY;COUNT=3", start, NEW_YORK, HOUR, after=LONG_AGO, count=5)
    assert [o.hour for o in occ] == [14, 13, 13]
    assert [o.day for o in occ] == [13, 14, 15]


def test_start_given_in_another_offset_is_read_in_the_meeting_zone() -> None:
    # 08:00Z is 09:00 in Paris (winter): the series is "Mondays at 09:00 Paris", not "at 08:00".
    start = _utc(2027, 3, 22, 8, 0)
    occ = schedule.occurrences("FREQ=WEEKLY;COUNT=2", start, PARIS, HOUR, after=LONG_AGO, count=5)
    assert occ == [_utc(2027, 3, 22, 8, 0), _utc(2027, 3, 29, 7, 0)]


def test_occurrences_skip_the_ones_that_have_ended() -> None:
    rule = "FREQ=WEEKLY;BYDAY=MO;COUNT=3"
    first = _utc(2027, 3, 22, 8, 0)
    # Still running 30 minutes in: it counts.
    during = schedule.occurrences(rule, MON_BEFORE_SPRING, PARIS, HOUR, after=first + timedelta(minutes=30), count=5)
    assert during[0] == first and len(during) == 3
    # Over: the next one comes first.
    later = schedule.occurrences(rule, MON_BEFORE_SPRING, PARIS, HOUR, after=first + timedelta(minutes=61), count=5)
    assert later == [_utc(2027, 3, 29, 7, 0), _utc(2027, 4, 5, 7, 0)]
    done = schedule.occurrences(rule, MON_BEFORE_SPRING, PARIS, HOUR, after=_utc(2027, 4, 6, 0, 0), count=5)
    assert done == []


def test_occurrences_respect_count_for_an_unbounded_series() -> None:
    occ = schedule.occurrences("FREQ=DAILY", MON_BEFORE_SPRING, PARIS, HOUR, after=LONG_AGO, count=4)
    assert len(occ) == 4
    assert occ == sorted(occ) and len(set(occ)) == 4
    assert all(o.astimezone(ZoneInfo(PARIS)).hour == 9 for o in occ)


def test_occurrences_of_a_one_off_meeting() -> None:
    start = _utc(2027, 5, 1, 10, 0)
    assert schedule.occurrences(None, start, PARIS, HOUR, after=_utc(2027, 5, 1, 10, 59), count=5) == [start]
    assert schedule.occurrences(None, start, PARIS, HOUR, after=_utc(2027, 5, 1, 11, 0), count=5) == []
