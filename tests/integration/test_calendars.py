"""Calendars (issue 18): a meeting's iCalendar file (RFC 5545) at a stable URL for whoever may see the meeting,
"add to" links, SEQUENCE on changes, EXDATE for skipped occurrences, and each user's secret feed (stored hashed,
rotatable, revocable). Output parsed with the ``icalendar`` package; SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
from sqlalchemy import select

from dbschema.calendars import CalendarFeed
from tests.conftest import RunningServer
from tests.support.world import Person, World

pytestmark = pytest.mark.timeout(120)

CREATE = """mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { id number } }"""
UPDATE = """mutation($id: ID!, $i: UpdateMeetingInput!) { updateMeeting(id: $id, input: $i) { id } }"""
CANCEL = """mutation($id: ID!) { cancelMeeting(id: $id) { id } }"""
LINKS = """query($id: ID!) { meeting(id: $id) { icalendar calendarLinks {
  ics google outlook office365 sequence includesPasscode skippedOccurrences } } }"""
OPTIONS = """mutation($id: ID!, $p: Boolean!) { setMeetingCalendarOptions(meetingId: $id, includePasscode: $p) {
  includesPasscode sequence } }"""
SKIP = """mutation($id: ID!, $at: DateTime!) { skipMeetingOccurrence(meetingId: $id, startsAt: $at) {
  sequence skippedOccurrences } }"""
ROTATE = """mutation { rotateCalendarFeed { url webcalUrl googleSubscribeUrl createdAt } }"""
REVOKE = """mutation { revokeCalendarFeed }"""
FEED = """{ calendarFeed { createdAt } }"""

BERLIN = ZoneInfo("Europe/Berlin")


def _next_monday_9(zone: ZoneInfo) -> datetime:
    day = (datetime.now(zone) + timedelta(days=7)).replace(hour=9, minute=0, second=0, microsecond=0)
    return day + timedelta(days=(7 - day.weekday()) % 7)


async def _series(host: Person, **extra: Any) -> dict[str, Any]:
    i = {
        "title": "Weekly sync",
        "description": "Agenda in the doc",
        "startsAt": _next_monday_9(BERLIN).isoformat(),
        "durationMinutes": 30,
        "timezone": "Europe/Berlin",
        "recurrence": "FREQ=WEEKLY;BYDAY=MO;COUNT=10",
        "passcode": "s3cretpass",
        **extra,
    }
    m: dict[str, Any] = (await host.client(CREATE, i=i))["createMeeting"]
    return m


async def _ics(http: httpx.AsyncClient, url: str, token: str | None) -> icalendar.Calendar:
    res = await http.get(url, headers={"authorization": f"Bearer {token}"} if token else {})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("text/calendar")
    assert "no-store" in res.headers["cache-control"]
    return icalendar.Calendar.from_ical(res.content)


def _event(cal: icalendar.Calendar) -> icalendar.Event:
    [ev] = cal.walk("VEVENT")
    return ev


async def test_a_series_has_a_stable_uid_timezone_rrule_and_growing_sequence(
    server: RunningServer, world: World, http: httpx.AsyncClient
) -> None:
    host = await world.user("Ada")
    m = await _series(host)
    url = f"{server.url}/calendar/meetings/{m['id']}.ics"
    cal = await _ics(http, url, host.client.token)
    assert str(cal["method"]) == "PUBLISH" and str(cal["version"]) == "2.0"
    [tz] = cal.walk("VTIMEZONE")
    assert str(tz["tzid"]) == "Europe/Berlin" and tz.walk("DAYLIGHT") and tz.walk("STANDARD")
    ev = _event(cal)
    uid = str(ev["uid"])
    assert uid == f"{m['id']}@127.0.0.1"
    assert int(ev["sequence"]) == 0
    start = ev.decoded("dtstart")
    assert start == _next_monday_9(BERLIN) and start.tzinfo is not None and str(start.tzinfo) == "Europe/Berlin"
    assert ev["dtstart"].params["TZID"] == "Europe/Berlin"  # local time + VTIMEZONE, not UTC: DST-proof
    assert ev.decoded("dtend") - start == timedelta(minutes=30)
    assert ev["rrule"].to_ical() == b"FREQ=WEEKLY;COUNT=10;BYDAY=MO"
    assert str(ev["summary"]) == "Weekly sync" and str(ev["status"]) == "CONFIRMED"
    number = m["number"]
    display = f"{number[:3]} {number[3:-4]} {number[-4:]}"
    description = str(ev["description"])
    assert "Agenda in the doc" in description and display in description
    assert f"{server.url}/m/{number}" in description and str(ev["location"]) == f"{server.url}/m/{number}"
    # The passcode (and the invite key that stands in for it) only when the host chooses so.
    assert "s3cretpass" not in description and "?k=" not in description
    assert ev["organizer"].startswith("mailto:u") and ev["organizer"].params["CN"] == "Ada"

    # A settings-only change is not a calendar change; a new title, time or rule is.
    await host.client(UPDATE, id=m["id"], i={"settings": {"muteOnEntry": True}})
    assert int(_event(await _ics(http, url, host.client.token))["sequence"]) == 0
    await host.client(UPDATE, id=m["id"], i={"title": "Weekly sync (new room)"})
    ev = _event(await _ics(http, url, host.client.token))
    assert (str(ev["uid"]), int(ev["sequence"]), str(ev["summary"])) == (uid, 1, "Weekly sync (new room)")
    later = _next_monday_9(BERLIN) + timedelta(hours=1)
    await host.client(UPDATE, id=m["id"], i={"startsAt": later.isoformat()})
    ev = _event(await _ics(http, url, host.client.token))
    assert (int(ev["sequence"]), ev.decoded("dtstart")) == (2, later)

    # Skipping the second occurrence: EXDATE in the meeting's zone, SEQUENCE again.
    second = later + timedelta(days=7)
    skipped = (await host.client(SKIP, id=m["id"], at=second.isoformat()))["skipMeetingOccurrence"]
    assert skipped["sequence"] == 3
    assert [datetime.fromisoformat(x) for x in skipped["skippedOccurrences"]] == [second]
    ev = _event(await _ics(http, url, host.client.token))
    assert int(ev["sequence"]) == 3
    exdates = [d.dt for d in ev["exdate"].dts] if not isinstance(ev["exdate"], list) else []
    assert exdates == [second] and str(exdates[0].tzinfo) == "Europe/Berlin"
    nexts = """query($id: ID!) { meeting(id: $id) { nextOccurrences(count: 3) } }"""
    upcoming = [datetime.fromisoformat(x) for x in (await host.client(nexts, id=m["id"]))["meeting"]["nextOccurrences"]]
    assert upcoming == [later, later + timedelta(days=14), later + timedelta(days=21)]  # the skipped one left out
    bad = await host.client.error(SKIP, id=m["id"], at=(second + timedelta(hours=1)).isoformat())
    assert (bad.code, bad.field) == ("BAD_INPUT", "startsAt")

    # The host lets calendar entries carry the passcode: the invite link (with its key) and the passcode appear.
    opts = (await host.client(OPTIONS, id=m["id"], p=True))["setMeetingCalendarOptions"]
    assert opts == {"includesPasscode": True, "sequence": 4}
    ev = _event(await _ics(http, url, host.client.token))
    assert "Passcode: s3cretpass" in str(ev["description"]) and "?k=" in str(ev["location"])

    # Cancelled: same UID, STATUS:CANCELLED, higher SEQUENCE.
    await host.client(CANCEL, id=m["id"])
    ev = _event(await _ics(http, url, host.client.token))
    assert (str(ev["uid"]), str(ev["status"]), int(ev["sequence"])) == (uid, "CANCELLED", 5)


async def test_graphql_gives_the_file_and_add_to_calendar_links(world: World) -> None:
    host = await world.user("Grace")
    m = await _series(host)
    got = (await host.client(LINKS, id=m["id"]))["meeting"]
    ev = _event(icalendar.Calendar.from_ical(got["icalendar"]))
    assert str(ev["uid"]).startswith(m["id"] + "@")
    links = got["calendarLinks"]
    assert links["ics"].endswith(f"/calendar/meetings/{m['id']}.ics")
    assert (links["sequence"], links["includesPasscode"], links["skippedOccurrences"]) == (0, False, [])
    g = urlsplit(links["google"])
    q = {k: v[0] for k, v in parse_qs(g.query).items()}
    start = _next_monday_9(BERLIN).astimezone(UTC)
    assert (g.netloc, q["action"], q["text"], q["ctz"]) == (
        "calendar.google.com",
        "TEMPLATE",
        "Weekly sync",
        "Europe/Berlin",
    )
    fmt = "%Y%m%dT%H%M%SZ"
    assert q["dates"] == f"{start.strftime(fmt)}/{(start + timedelta(minutes=30)).strftime(fmt)}"
    assert q["recur"] == "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10" and m["number"][-4:] in q["details"]
    for key, host_name in (("outlook", "outlook.live.com"), ("office365", "outlook.office.com")):
        o = urlsplit(links[key])
        oq = {k: v[0] for k, v in parse_qs(o.query).items()}
        assert o.netloc == host_name and oq["subject"] == "Weekly sync" and oq["rru"] == "addevent"
        assert datetime.fromisoformat(oq["startdt"]) == start


async def test_only_people_who_may_see_the_meeting_get_its_file(
    server: RunningServer, world: World, http: httpx.AsyncClient
) -> None:
    host, other = await world.user(), await world.user()
    m = await _series(host)
    url = f"{server.url}/calendar/meetings/{m['id']}.ics"
    res = await http.get(url)
    assert (res.status_code, res.json()["code"]) == (401, "UNAUTHENTICATED")
    res = await http.get(url, headers={"authorization": f"Bearer {other.client.token}"})
    assert (res.status_code, res.json()["code"]) == (403, "FORBIDDEN")
    res = await http.get(
        f"{server.url}/calendar/meetings/nope.ics", headers={"authorization": f"Bearer {host.client.token}"}
    )
    assert (res.status_code, res.json()["code"]) == (404, "NOT_FOUND")
    res = await http.get(
        f"{server.url}/calendar/meetings/{m['id']}", headers={"authorization": f"Bearer {host.client.token}"}
    )
    assert (res.status_code, res.json()["code"]) == (404, "NOT_FOUND")
    # Someone let into the meeting may see it, and its file.
    joined = await world.meeting(host, "Open one", joinBeforeHost=True)
    await world.join(other, joined)
    await _ics(http, f"{server.url}/calendar/meetings/{joined['id']}.ics", other.client.token)
    denied = await other.client.error(OPTIONS, id=m["id"], p=True)
    assert denied.code == "FORBIDDEN"


async def test_the_secret_feed_is_hashed_rotatable_and_revocable(
    server: RunningServer, world: World, http: httpx.AsyncClient
) -> None:
    ada, bob = await world.user("Ada"), await world.user("Bob")
    assert (await ada.client(FEED))["calendarFeed"] is None
    mine = await _series(ada, title="Ada's series")
    await _series(ada, title="Ada's one-off", recurrence="")
    theirs = await _series(bob, title="Bob's meeting")
    # Ada waits in the waiting room of a meeting of Bob's: she was never let in, so it is not in her feed.
    starts = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    waited = await world.meeting(bob, "Bob's closed door", waitingRoom=True, startsAt=starts)
    _, joined = await world.join(ada, waited)
    assert joined["status"] == "WAITING"
    made = (await ada.client(ROTATE))["rotateCalendarFeed"]
    url = made["url"]
    assert url.startswith(f"{server.url}/calendar/feed/") and url.endswith(".ics")
    assert made["webcalUrl"] == "webcal://" + url.split("://", 1)[1]
    assert parse_qs(urlsplit(made["googleSubscribeUrl"]).query)["cid"] == [made["webcalUrl"]]
    cal = await _ics(http, url, None)  # no credentials: the URL is the permission
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {"Ada's series", "Ada's one-off"} and "Bob's meeting" not in events
    assert str(events["Ada's series"]["uid"]) == f"{mine['id']}@127.0.0.1" and "rrule" in events["Ada's series"]
    assert "rrule" not in events["Ada's one-off"] and theirs["id"] not in cal.to_ical().decode()
    assert [str(t["tzid"]) for t in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]

    secret = urlsplit(url).path.rsplit("/", 1)[1].removesuffix(".ics")
    async with server.app.state.services.db.read() as session:
        row = (await session.execute(select(CalendarFeed).where(CalendarFeed.user_id == ada.user_id))).scalar_one()
    assert row.secret_digest == hashlib.sha256(secret.encode()).hexdigest() and secret not in row.secret_digest
    assert (await ada.client(FEED))["calendarFeed"] is not None

    # Rotating retires the old URL; revoking retires every URL.
    new_url = (await ada.client(ROTATE))["rotateCalendarFeed"]["url"]
    assert new_url != url
    assert (await http.get(url)).status_code == 404
    await _ics(http, new_url, None)
    assert (await ada.client(REVOKE))["revokeCalendarFeed"] is True
    res = await http.get(new_url)
    assert (res.status_code, res.json()["code"]) == (404, "NOT_FOUND")
    assert (await ada.client(REVOKE))["revokeCalendarFeed"] is False
    assert (await ada.client(FEED))["calendarFeed"] is None
    for junk in ("x.ics", "A" * 43 + ".ics", "../../etc/passwd.ics", "%00.ics", secret):
        assert (await http.get(f"{server.url}/calendar/feed/{junk}")).status_code == 404
    assert (await world.anon.error(ROTATE)).code == "UNAUTHENTICATED"
