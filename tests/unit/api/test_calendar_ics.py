"""api/calendars/ics.py and links.py: pure iCalendar building, parsed back with ``icalendar``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import icalendar

from api.calendars import links
from api.calendars.ics import EventInfo, Method, calendar

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


def _info(**over: object) -> EventInfo:
    base: dict[str, object] = {
        "uid": "m1@example.org",
        "sequence": 2,
        "title": "Ünïcode, commas; and semicolons",
        "description": "Line one\nLine two",
        "starts_at": datetime(2027, 3, 8, 9, 0, tzinfo=NEW_YORK).astimezone(UTC),
        "duration": timedelta(minutes=45),
        "timezone": "America/New_York",
        "recurrence": "FREQ=WEEKLY;COUNT=4",
        "exdates": (datetime(2027, 3, 22, 9, 0, tzinfo=NEW_YORK).astimezone(UTC),),
        "cancelled": False,
        "join_url": "https://meet.example.org/m/12345678901",
        "number": "123 4567 8901",
        "passcode": None,
        "organizer_email": "host@example.org",
        "organizer_name": "Host, The",
        "attendees": ("a@example.org", "b@example.org"),
    }
    base.update(over)
    return EventInfo(**base)  # type: ignore[arg-type]


def _one(data: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(data)
    [ev] = cal.walk("VEVENT")
    return cal, ev


def test_a_series_across_dst_keeps_its_local_time_and_escapes_text() -> None:
    cal, ev = _one(calendar([_info()], method=Method.REQUEST, now=NOW))
    assert str(cal["method"]) == "REQUEST" and str(cal["prodid"]).startswith("-//meetmesh")
    # 8 March 2027 is before the US DST change (14 March), 22 March after: both are 09:00 local in the file.
    assert ev.decoded("dtstart") == datetime(2027, 3, 8, 9, 0, tzinfo=NEW_YORK)
    [skipped] = ev["exdate"].dts
    assert skipped.dt == datetime(2027, 3, 22, 9, 0, tzinfo=NEW_YORK) and skipped.dt.utcoffset() == timedelta(hours=-4)
    [tz] = cal.walk("VTIMEZONE")
    offsets = {c["tzoffsetto"].to_ical() for c in tz.subcomponents}
    assert {"-0500", "-0400"} <= offsets
    assert str(ev["summary"]) == "Ünïcode, commas; and semicolons"
    assert int(ev["sequence"]) == 2 and str(ev["status"]) == "CONFIRMED"
    assert ev["organizer"].params["CN"] == "Host, The"
    assert sorted(str(a) for a in ev["attendee"]) == ["mailto:a@example.org", "mailto:b@example.org"]
    assert all(a.params["RSVP"] == "FALSE" for a in ev["attendee"])
    assert "Passcode" not in str(ev["description"]) and "Line two" in str(ev["description"])


def test_cancel_marks_the_event_cancelled_and_a_passcode_is_only_there_when_given() -> None:
    _, ev = _one(calendar([_info(passcode="9876xyz", recurrence=None)], method=Method.CANCEL, now=NOW))
    assert str(ev["status"]) == "CANCELLED" and "rrule" not in ev and "exdate" not in ev
    assert "Passcode: 9876xyz" in str(ev["description"])


def test_an_utc_meeting_and_an_empty_feed() -> None:
    starts = datetime(2027, 5, 1, 15, 30, tzinfo=UTC)
    _, ev = _one(calendar([_info(timezone="UTC", starts_at=starts, recurrence=None)], method=Method.PUBLISH, now=NOW))
    assert ev.decoded("dtstart") == starts and ev.decoded("dtend") == starts + timedelta(minutes=45)
    empty = icalendar.Calendar.from_ical(calendar([], method=Method.PUBLISH, name="meetmesh", now=NOW))
    assert empty.walk("VEVENT") == [] and str(empty["x-wr-calname"]) == "meetmesh"


def test_google_link_carries_the_rule_and_outlook_one_occurrence() -> None:
    e = _info()
    q = parse_qs(urlsplit(links.google(e)).query)
    assert q["dates"] == ["20270308T140000Z/20270308T144500Z"] and q["recur"] == ["RRULE:FREQ=WEEKLY;COUNT=4"]
    assert q["ctz"] == ["America/New_York"] and q["location"] == [e.join_url]
    o = parse_qs(urlsplit(links.links(e).outlook).query)
    assert o["startdt"] == ["2027-03-08T14:00:00Z"] and o["enddt"] == ["2027-03-08T14:45:00Z"]
    assert "recur" not in o and "123 4567 8901" in o["body"][0]
