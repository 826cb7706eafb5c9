"""Connected calendars (CalDAV, issue 18) against a real Radicale server started by the test: connecting checks
the URL and credentials (PROPFIND), a host's scheduled meetings are written there with the ICS file's UID and
kept in step (a higher SEQUENCE on update, STATUS:CANCELLED on cancel), a calendar server that is down is
retried until it is back, and the password is stored sealed. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import icalendar
import pytest

from tests.conftest import EDGE_SECRET, RunningServer, make_settings
from tests.support.gql import Client, eventually
from tests.support.radicale import (
    CONNECT,
    CONNECTION_FIELDS,
    PASSWORD,
    USER,
    Radicale,
    connect_input,
    radicale_server,
    when_stored,
)
from tests.support.rest import api_key
from tests.support.webhooks import database
from tests.support.world import Person, World

pytestmark = pytest.mark.timeout(180)

CREATE = """mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { id } }"""
UPDATE = """mutation($id: ID!, $i: UpdateMeetingInput!) { updateMeeting(id: $id, input: $i) { id } }"""
CANCEL = """mutation($id: ID!) { cancelMeeting(id: $id) { id } }"""
SKIP = """mutation($id: ID!, $at: DateTime!) { skipMeetingOccurrence(meetingId: $id, startsAt: $at) { sequence } }"""
OPTIONS = """mutation($id: ID!, $p: Boolean!) { setMeetingCalendarOptions(meetingId: $id, includePasscode: $p) {
  sequence } }"""
DISCONNECT = """mutation { disconnectCalendar }"""
CONNECTION = f"""query {{ calendarConnection {{ {CONNECTION_FIELDS} }} }}"""
BERLIN = ZoneInfo("Europe/Berlin")
FAST_RETRIES = (0.3, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[Radicale]:
    with radicale_server(tmp_path / "radicale") as server:
        yield server


async def _server(backend: str, tmp_path: Path, **overrides: object) -> AsyncIterator[RunningServer]:
    async with database(backend) as url:
        fast: dict[str, object] = {
            "calendar_retry_schedule_s": FAST_RETRIES,
            "calendar_poll_s": 0.2,
            "calendar_timeout_s": 3.0,
        }
        settings = make_settings(tmp_path / "api", url, edge_secret=EDGE_SECRET, **{**fast, **overrides})
        srv = RunningServer(settings)
        await srv.start()
        try:
            yield srv
        finally:
            await srv.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def server(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RunningServer]:
    # Radicale listens on loopback: the operator's allow-list (shared with webhooks) lets calendars reach it.
    async for srv in _server(request.param, tmp_path, webhook_allowed_networks=("127.0.0.0/8",)):
        yield srv


async def _stored(radicale: Radicale, uid: str) -> icalendar.Event | None:
    return await asyncio.to_thread(radicale.stored, uid)


async def _connection(host: Person) -> dict[str, Any]:
    c: dict[str, Any] = (await host.client(CONNECTION))["calendarConnection"]
    return c


def _start(days: int, hour: int = 10) -> datetime:
    return (datetime.now(BERLIN) + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


async def test_meetings_are_written_updated_and_cancelled(
    server: RunningServer, radicale: Radicale, http: httpx.AsyncClient
) -> None:
    world = World(Client(server.url, http))
    host = await world.user("Greta")
    before = (
        await host.client(CREATE, i={"title": "Planned earlier", "startsAt": _start(2).isoformat(), "passcode": ""})
    )["createMeeting"]
    assert await host.client(CONNECTION) == {"calendarConnection": None}

    conn = (await host.client(CONNECT, i=connect_input(radicale)))["connectCalendar"]
    assert (conn["provider"], conn["url"], conn["username"]) == ("caldav", radicale.calendar_url, USER)
    assert PASSWORD not in str(conn)
    # A meeting scheduled before connecting is written too.
    first = await when_stored(radicale, f"{before['id']}@127.0.0.1", lambda ev: True)
    assert str(first["summary"]) == "Planned earlier" and int(first.decoded("sequence")) == 0

    start = _start(3)
    i = {"title": "Quarterly review", "startsAt": start.isoformat(), "timezone": "Europe/Berlin", "passcode": ""}
    m = (await host.client(CREATE, i=i))["createMeeting"]
    uid = f"{m['id']}@127.0.0.1"  # the ICS file's UID (api/calendars/entries.uid)
    ev = await when_stored(radicale, uid, lambda ev: True)
    assert (str(ev["uid"]), int(ev.decoded("sequence")), str(ev["status"])) == (uid, 0, "CONFIRMED")
    assert ev.decoded("dtstart") == start and str(ev.decoded("dtstart").tzinfo) == "Europe/Berlin"
    assert "attendee" not in ev  # no ATTENDEE: a scheduling server would mail its own invitations (RFC 6638)
    # The stored entry is the same UID as the .ics file a calendar app downloads.
    res = await http.get(
        f"{server.url}/calendar/meetings/{m['id']}.ics", headers={"authorization": f"Bearer {host.client.token}"}
    )
    assert str(icalendar.Calendar.from_ical(res.content).walk("VEVENT")[0]["uid"]) == uid

    # Update: the same resource, a higher SEQUENCE, the new time and title.
    later = start + timedelta(hours=3)
    await host.client(UPDATE, id=m["id"], i={"startsAt": later.isoformat(), "title": "Quarterly review (moved)"})
    ev = await when_stored(radicale, uid, lambda ev: int(ev.decoded("sequence")) == 1)
    assert str(ev["summary"]) == "Quarterly review (moved)" and ev.decoded("dtstart") == later

    # Cancel: rewritten as CANCELLED with a higher SEQUENCE (kept, so the user sees it was cancelled).
    await host.client(CANCEL, id=m["id"])
    ev = await when_stored(radicale, uid, lambda ev: int(ev.decoded("sequence")) == 2)
    assert str(ev["status"]) == "CANCELLED"
    assert sorted(await asyncio.to_thread(radicale.resources)) == sorted(
        [f"{before['id']}@127.0.0.1.ics", f"{m['id']}@127.0.0.1.ics"]
    )

    async def settled() -> dict[str, Any] | None:
        c = await _connection(host)
        return c if c["pending"] == 0 else None

    c = await eventually(settled, timeout=30)
    assert c["lastSyncedAt"] is not None and c["lastError"] is None and c["failed"] == 0

    # Instant meetings are no calendar entries.
    instant = (await host.client(CREATE, i={"title": "Now", "passcode": ""}))["createMeeting"]
    await asyncio.sleep(1.0)
    assert await _stored(radicale, f"{instant['id']}@127.0.0.1") is None

    # Disconnected: later changes are not written (what is there stays).
    assert (await host.client(DISCONNECT))["disconnectCalendar"] is True
    assert await host.client(CONNECTION) == {"calendarConnection": None}
    await host.client(UPDATE, id=before["id"], i={"title": "Changed after disconnect"})
    await asyncio.sleep(1.0)
    kept = await _stored(radicale, f"{before['id']}@127.0.0.1")
    assert kept is not None and str(kept["summary"]) == "Planned earlier"
    assert (await host.client.error(DISCONNECT)).code == "NOT_FOUND"


async def test_a_series_with_skipped_occurrences_and_the_passcode_choice_are_kept_in_step(
    server: RunningServer, radicale: Radicale, http: httpx.AsyncClient
) -> None:
    host = await World(Client(server.url, http)).user()
    await host.client(CONNECT, i=connect_input(radicale))
    first = _start(7, hour=9)
    i = {
        "title": "Weekly sync",
        "startsAt": first.isoformat(),
        "timezone": "Europe/Berlin",
        "recurrence": "FREQ=WEEKLY;COUNT=10",
        "passcode": "s3cretpass",
    }
    m = (await host.client(CREATE, i=i))["createMeeting"]
    uid = f"{m['id']}@127.0.0.1"
    ev = await when_stored(radicale, uid, lambda ev: True)
    assert str(ev["rrule"].to_ical().decode()) == "FREQ=WEEKLY;COUNT=10" and "exdate" not in ev
    second = first + timedelta(days=7)
    await host.client(SKIP, id=m["id"], at=second.isoformat())
    ev = await when_stored(radicale, uid, lambda ev: int(ev.decoded("sequence")) == 1)
    assert [d.dt for d in ev["exdate"].dts] == [second]
    assert "s3cretpass" not in str(ev["description"])
    await host.client(OPTIONS, id=m["id"], p=True)  # the host chooses to share the passcode in calendar entries
    ev = await when_stored(radicale, uid, lambda ev: int(ev.decoded("sequence")) == 2)
    assert "Passcode: s3cretpass" in str(ev["description"])


async def test_connecting_checks_the_calendar_and_the_credentials(
    server: RunningServer, radicale: Radicale, http: httpx.AsyncClient
) -> None:
    world = World(Client(server.url, http))
    host = await world.user()
    err = await host.client.error(CONNECT, i=connect_input(radicale, password="wrong password"))
    assert err.code == "FORBIDDEN" and "refused the username or password (HTTP 401)" in str(err)
    err = await host.client.error(CONNECT, i=connect_input(radicale, url=f"{radicale.base}/{USER}/"))
    assert (err.code, err.field) == ("BAD_INPUT", "url") and "not a CalDAV calendar collection" in str(err)
    err = await host.client.error(CONNECT, i=connect_input(radicale, url="ftp://example.test/cal/"))
    assert (err.code, err.field) == ("BAD_INPUT", "url")
    err = await host.client.error(CONNECT, i=connect_input(radicale, url=f"http://{USER}:x@127.0.0.1:{radicale.port}/"))
    assert (err.code, err.field) == ("BAD_INPUT", "url")
    err = await host.client.error(CONNECT, i=connect_input(radicale, username=""))
    assert (err.code, err.field) == ("BAD_INPUT", "username")
    assert await host.client(CONNECTION) == {"calendarConnection": None}
    assert (await Client(server.url, http).error(CONNECTION)).code == "UNAUTHENTICATED"
    assert (await Client(server.url, http).error(CONNECT, i=connect_input(radicale))).code == "UNAUTHENTICATED"


async def test_private_addresses_are_refused_without_the_allow_list(
    tmp_path: Path, radicale: Radicale, http: httpx.AsyncClient
) -> None:
    async for srv in _server("sqlite", tmp_path):
        host = await World(Client(srv.url, http)).user()
        err = await host.client.error(CONNECT, i=connect_input(radicale))
        assert (err.code, err.field) == ("BAD_INPUT", "url")
        assert "127.0.0.1 is a loopback address" in str(err) and "API_WEBHOOK_ALLOWED_NETWORKS" in str(err)
        err = await host.client.error(CONNECT, i=connect_input(radicale, url="http://169.254.169.254/latest/"))
        assert (err.code, err.field) == ("BAD_INPUT", "url") and "link-local" in str(err)


async def test_a_calendar_server_that_is_down_is_retried_until_it_is_back(
    server: RunningServer, radicale: Radicale, http: httpx.AsyncClient
) -> None:
    host = await World(Client(server.url, http)).user()
    await host.client(CONNECT, i=connect_input(radicale))
    radicale.stop()
    m = (await host.client(CREATE, i={"title": "While down", "startsAt": _start(4).isoformat(), "passcode": ""}))[
        "createMeeting"
    ]

    async def failing() -> dict[str, Any] | None:
        c = await _connection(host)
        return c if c["lastError"] and c["pending"] == 1 else None

    c = await eventually(failing, timeout=30)
    assert "PUT failed" in c["lastError"] and c["lastErrorAt"] is not None and c["lastSyncedAt"] is None

    radicale.start()  # the same port and storage: the server is back
    ev = await when_stored(radicale, f"{m['id']}@127.0.0.1", lambda ev: True)
    assert str(ev["summary"]) == "While down"

    async def recovered() -> dict[str, Any] | None:
        c = await _connection(host)
        return c if c["pending"] == 0 and c["lastError"] is None else None

    c = await eventually(recovered, timeout=30)
    assert c["lastSyncedAt"] is not None and c["failed"] == 0


async def test_a_change_made_while_its_entry_is_being_written_is_written_next(
    server: RunningServer, radicale: Radicale, http: httpx.AsyncClient
) -> None:
    host = await World(Client(server.url, http)).user()
    await host.client(CONNECT, i=connect_input(radicale))
    radicale.pause()  # the next PUT hangs (within calendar_timeout_s) until the server resumes
    try:
        m = (await host.client(CREATE, i={"title": "First", "startsAt": _start(5).isoformat(), "passcode": ""}))[
            "createMeeting"
        ]
        await asyncio.sleep(0.6)  # the loop was woken by the commit and its PUT of "First" is waiting
        await host.client(UPDATE, id=m["id"], i={"title": "Second"})
        await asyncio.sleep(0.3)
    finally:
        radicale.resume()
    # The PUT of "First" completes after "Second" was queued: it must not mark the entry done.
    ev = await when_stored(radicale, f"{m['id']}@127.0.0.1", lambda ev: str(ev["summary"]) == "Second")
    assert int(ev.decoded("sequence")) == 1

    async def settled() -> dict[str, Any] | None:
        c = await _connection(host)
        return c if c["pending"] == 0 else None

    c = await eventually(settled, timeout=30)
    assert c["lastError"] is None


async def test_a_password_changed_on_the_server_is_reported_given_up_and_fixed_by_reconnecting(
    tmp_path: Path, radicale: Radicale, http: httpx.AsyncClient
) -> None:
    allowed = ("127.0.0.0/8",)
    async for srv in _server(
        "sqlite", tmp_path, webhook_allowed_networks=allowed, calendar_retry_schedule_s=(0.2, 0.2)
    ):
        host = await World(Client(srv.url, http)).user()
        await host.client(CONNECT, i=connect_input(radicale))
        i = {"title": "Cancelled while locked out", "startsAt": _start(6).isoformat(), "passcode": ""}
        gone = (await host.client(CREATE, i=i))["createMeeting"]
        await when_stored(radicale, f"{gone['id']}@127.0.0.1", lambda ev: True)
        radicale.set_password("a new password")
        m = (await host.client(CREATE, i={"title": "Locked out", "startsAt": _start(6).isoformat(), "passcode": ""}))[
            "createMeeting"
        ]
        await host.client(CANCEL, id=gone["id"])

        async def given_up(who: Person = host) -> dict[str, Any] | None:
            c = await _connection(who)
            return c if c["failed"] == 2 else None

        c = await eventually(given_up, timeout=30)  # three attempts: the first and two retries
        assert c["pending"] == 0 and "refused the username or password (HTTP 401)" in c["lastError"]
        assert await _stored(radicale, f"{m['id']}@127.0.0.1") is None

        # Connecting again with the new password writes what had failed.
        await host.client(CONNECT, i=connect_input(radicale, password="a new password"))
        ev = await when_stored(radicale, f"{m['id']}@127.0.0.1", lambda ev: True)
        assert str(ev["summary"]) == "Locked out"
        ev = await when_stored(radicale, f"{gone['id']}@127.0.0.1", lambda ev: str(ev["status"]) == "CANCELLED")
        assert int(ev.decoded("sequence")) == 1


async def test_one_hanging_calendar_server_does_not_hold_other_users_entries(
    tmp_path: Path, radicale: Radicale, http: httpx.AsyncClient
) -> None:
    allowed = ("127.0.0.0/8",)
    with radicale_server(tmp_path / "other-radicale") as other:
        async for srv in _server("sqlite", tmp_path, webhook_allowed_networks=allowed, calendar_timeout_s=10.0):
            world = World(Client(srv.url, http))
            stuck, fine = await world.user(), await world.user()
            await stuck.client(CONNECT, i=connect_input(radicale))
            await fine.client(CONNECT, i=connect_input(other))
            radicale.pause()  # stuck's server hangs: its PUT waits for the 10 s timeout
            try:
                i = {"title": "Stuck", "startsAt": _start(2).isoformat(), "passcode": ""}
                await stuck.client(CREATE, i=i)
                await asyncio.sleep(0.5)  # its write is in flight now
                began = time.monotonic()
                i = {"title": "Fine", "startsAt": _start(2).isoformat(), "passcode": ""}
                m = (await fine.client(CREATE, i=i))["createMeeting"]
                await when_stored(other, f"{m['id']}@127.0.0.1", lambda ev: True)
                assert time.monotonic() - began < 5.0  # not after the stuck write's timeout
            finally:
                radicale.resume()


async def test_the_password_is_stored_sealed(
    server: RunningServer, radicale: Radicale, http: httpx.AsyncClient
) -> None:
    host = await World(Client(server.url, http)).user()
    conn = (await host.client(CONNECT, i=connect_input(radicale)))["connectCalendar"]
    url = server.settings.sqlalchemy_url
    if url.startswith("sqlite"):
        db = sqlite3.connect(url.split(":///", 1)[1])
        try:
            rows = db.execute("SELECT * FROM calendar_connections").fetchall()
        finally:
            db.close()
    else:
        pg = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            rows = [tuple(r) for r in await pg.fetch("SELECT * FROM calendar_connections")]
        finally:
            await pg.close()
    assert len(rows) == 1 and conn["id"] in rows[0]
    text = repr(rows)
    assert PASSWORD not in text and PASSWORD.encode().hex() not in text
    assert USER in rows[0]  # the username is not secret (it is shown back to the user)


async def test_rest_connects_reads_and_disconnects(
    server: RunningServer, radicale: Radicale, http: httpx.AsyncClient
) -> None:
    host = await World(Client(server.url, http)).user()
    auth = {"authorization": f"Bearer {host.client.token}"}
    base = f"{server.url}/api/v1/me/calendar"
    assert (await http.get(base, headers=auth)).json()["code"] == "NOT_FOUND"
    bad = await http.put(base, headers=auth, json=connect_input(radicale, password="nope"))
    assert (bad.status_code, bad.json()["code"]) == (403, "FORBIDDEN")
    res = await http.put(base, headers=auth, json=connect_input(radicale))
    assert res.status_code == 200 and PASSWORD not in res.text
    assert res.json()["url"] == radicale.calendar_url
    got = await http.get(base, headers=auth)
    assert got.status_code == 200 and got.json()["id"] == res.json()["id"] and PASSWORD not in got.text
    # An API key may read the state, not connect or disconnect (the calendar password is the account's own).
    key, _ = await api_key(host)
    as_key = {"authorization": f"Bearer {key}"}
    assert (await http.get(base, headers=as_key)).json()["id"] == res.json()["id"]
    for answer in (
        await http.put(base, headers=as_key, json=connect_input(radicale)),
        await http.delete(base, headers=as_key),
    ):
        assert (answer.status_code, answer.json()["code"]) == (403, "FORBIDDEN")
    assert (await http.delete(base, headers=auth)).status_code == 204
    assert (await http.get(base, headers=auth)).status_code == 404
