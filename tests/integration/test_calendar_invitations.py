"""iTIP/iMIP invitations (RFC 5546/6047, issue 18): invitees get METHOD:REQUEST when invited and again, with a
higher SEQUENCE, when the meeting changes; METHOD:CANCEL when uninvited or when the meeting is cancelled. Sent
after commit by a background task to a real SMTP server (aiosmtpd) whose received mail is parsed with
``icalendar``. SQLite and PostgreSQL."""

from __future__ import annotations

import email.message
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest

from tests.conftest import EDGE_SECRET, RunningServer, make_settings
from tests.support.gql import Client, eventually
from tests.support.smtp import Inbox, smtp_server
from tests.support.webhooks import database
from tests.support.world import World

pytestmark = pytest.mark.timeout(120)

CREATE = """mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { id number } }"""
UPDATE = """mutation($id: ID!, $i: UpdateMeetingInput!) { updateMeeting(id: $id, input: $i) { id } }"""
CANCEL = """mutation($id: ID!) { cancelMeeting(id: $id) { id } }"""
INVITE = """mutation($id: ID!, $e: [String!]!) { inviteToMeeting(meetingId: $id, emails: $e) }"""
UNINVITE = """mutation($id: ID!, $e: [String!]!) { uninviteFromMeeting(meetingId: $id, emails: $e) }"""
INVITEES = """query($id: ID!) { meetingInvitees(meetingId: $id) }"""
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as found:
        yield found


async def _server(backend: str, tmp_path: Path, smtp_port: int) -> AsyncIterator[RunningServer]:
    async with database(backend) as url:
        settings = make_settings(
            tmp_path / "api",
            url,
            edge_secret=EDGE_SECRET,
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            mail_from="calendar@meetmesh.test",
        )
        srv = RunningServer(settings)
        await srv.start()
        try:
            yield srv
        finally:
            await srv.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def mail_server(
    request: pytest.FixtureRequest, tmp_path: Path, smtp: tuple[Inbox, int]
) -> AsyncIterator[RunningServer]:
    async for srv in _server(request.param, tmp_path, smtp[1]):
        yield srv


def _invitation(msg: email.message.Message) -> tuple[str, icalendar.Event, icalendar.Calendar]:
    """The text/calendar part: its ``method`` parameter, its VEVENT and the calendar (RFC 6047 section 2.4)."""
    parts = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, msg.as_string()[:2000]
    assert msg.get_content_type() == "multipart/alternative"
    assert any(p.get_content_type() == "text/plain" for p in msg.walk())
    payload = parts[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    cal = icalendar.Calendar.from_ical(payload)
    [ev] = cal.walk("VEVENT")
    method = parts[0].get_param("method")
    assert isinstance(method, str) and method == str(cal["method"])
    return method, ev, cal


def _attendees(ev: icalendar.Event) -> list[str]:
    raw = ev.get("attendee", [])
    return sorted(str(a).removeprefix("mailto:") for a in (raw if isinstance(raw, list) else [raw]))


async def test_invitees_get_requests_updates_and_cancellations(
    mail_server: RunningServer, smtp: tuple[Inbox, int], http: httpx.AsyncClient
) -> None:
    inbox, _ = smtp
    world = World(Client(mail_server.url, http))
    host = await world.user("Hiro")
    start = (datetime.now(TOKYO) + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    i = {"title": "Design review", "startsAt": start.isoformat(), "timezone": "Asia/Tokyo", "passcode": "4321abcd"}
    m = (await host.client(CREATE, i=i))["createMeeting"]

    emails = ["Alice@Example.test", "bob@example.test", "alice@example.test"]
    invited = (await host.client(INVITE, id=m["id"], e=emails))["inviteToMeeting"]
    assert invited == ["alice@example.test", "bob@example.test"]
    await eventually(lambda: len(inbox.messages) == 2, timeout=30)
    uid = None
    for address in invited:
        [msg] = inbox.to(address)
        assert msg["From"] == "calendar@meetmesh.test" and msg["Subject"] == "Invitation: Design review"
        method, ev, cal = _invitation(msg)
        assert method == "REQUEST" and int(ev["sequence"]) == 0
        assert uid in (None, str(ev["uid"]))
        uid = str(ev["uid"])
        assert uid == f"{m['id']}@127.0.0.1"
        assert _attendees(ev) == invited and str(ev["organizer"]).startswith("mailto:u")
        assert ev.decoded("dtstart") == start and str(ev.decoded("dtstart").tzinfo) == "Asia/Tokyo"
        assert [str(t["tzid"]) for t in cal.walk("VTIMEZONE")] == ["Asia/Tokyo"]
        assert "4321abcd" not in str(ev["description"])  # the host did not choose to share the passcode
    # Inviting again the same people sends nothing new.
    assert (await host.client(INVITE, id=m["id"], e=["bob@example.test"]))["inviteToMeeting"] == invited

    # A new time: everyone gets an updated REQUEST with a higher SEQUENCE (and the same UID).
    later = start + timedelta(hours=2)
    await host.client(UPDATE, id=m["id"], i={"startsAt": later.isoformat()})
    await eventually(lambda: len(inbox.messages) == 4, timeout=30)
    for address in invited:
        method, ev, _ = _invitation(inbox.to(address)[-1])
        assert (method, str(ev["uid"]), int(ev["sequence"]), ev.decoded("dtstart")) == ("REQUEST", uid, 1, later)
        assert inbox.to(address)[-1]["Subject"] == "Updated invitation: Design review"
    # A settings-only change is no calendar change: nobody is mailed.
    await host.client(UPDATE, id=m["id"], i={"settings": {"muteOnEntry": True}})

    # Bob is uninvited: a CANCEL naming only him.
    left = (await host.client(UNINVITE, id=m["id"], e=["BOB@example.test"]))["uninviteFromMeeting"]
    assert left == ["alice@example.test"]
    await eventually(lambda: len(inbox.messages) == 5, timeout=30)
    method, ev, _ = _invitation(inbox.to("bob@example.test")[-1])
    assert (method, str(ev["uid"]), int(ev["sequence"]), _attendees(ev)) == ("CANCEL", uid, 2, ["bob@example.test"])
    assert str(ev["status"]) == "CANCELLED"

    # The meeting is cancelled: Alice gets a CANCEL; Bob hears nothing more.
    await host.client(CANCEL, id=m["id"])
    await eventually(lambda: len(inbox.messages) == 6, timeout=30)
    method, ev, _ = _invitation(inbox.to("alice@example.test")[-1])
    assert (method, str(ev["uid"]), int(ev["sequence"]), str(ev["status"])) == ("CANCEL", uid, 3, "CANCELLED")
    assert len(inbox.to("bob@example.test")) == 3
    assert inbox.messages[0][1]["Subject"] != inbox.to("alice@example.test")[-1]["Subject"]


async def test_invitations_are_checked_and_for_hosts_only(
    mail_server: RunningServer, smtp: tuple[Inbox, int], http: httpx.AsyncClient
) -> None:
    inbox, _ = smtp
    world = World(Client(mail_server.url, http))
    host, other = await world.user(), await world.user()
    start = datetime.now(TOKYO) + timedelta(days=2)
    m = (await host.client(CREATE, i={"title": "Private", "startsAt": start.isoformat(), "passcode": ""}))[
        "createMeeting"
    ]
    for bad in (["not-an-address"], ["a@b.c" * 60], [f"x{n}@example.test" for n in range(201)]):
        err = await host.client.error(INVITE, id=m["id"], e=bad)
        assert (err.code, err.field) == ("BAD_INPUT", "emails")
    assert (await other.client.error(INVITE, id=m["id"], e=["x@example.test"])).code == "FORBIDDEN"
    assert (await host.client.error(INVITE, id="nope", e=["x@example.test"])).code == "NOT_FOUND"
    await host.client(INVITE, id=m["id"], e=["x@example.test"])
    assert (await host.client(INVITEES, id=m["id"]))["meetingInvitees"] == ["x@example.test"]
    assert (await other.client.error(INVITEES, id=m["id"])).code == "FORBIDDEN"
    instant = (await host.client(CREATE, i={"title": "Now", "passcode": ""}))["createMeeting"]
    err = await host.client.error(INVITE, id=instant["id"], e=["x@example.test"])
    assert err.code == "BAD_INPUT"
    await eventually(lambda: len(inbox.messages) == 1, timeout=30)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


async def test_an_unreachable_mail_server_does_not_hold_requests(tmp_path: Path, http: httpx.AsyncClient) -> None:
    records = _Records()
    logging.getLogger("api.calendars.invitations").addHandler(records)
    with smtp_server() as (_, port):
        pass  # a port where nothing listens any more
    async for srv in _server("sqlite", tmp_path, port):
        world = World(Client(srv.url, http))
        host = await world.user()
        start = datetime.now(TOKYO) + timedelta(days=2)
        m = (await host.client(CREATE, i={"title": "T", "startsAt": start.isoformat(), "passcode": ""}))[
            "createMeeting"
        ]
        began = time.monotonic()
        invited = (await host.client(INVITE, id=m["id"], e=["x@example.test"]))["inviteToMeeting"]
        assert invited == ["x@example.test"] and time.monotonic() - began < 5
        try:
            await eventually(lambda: any("x@example.test not sent" in r for r in records.messages), timeout=30)
        finally:
            logging.getLogger("api.calendars.invitations").removeHandler(records)
