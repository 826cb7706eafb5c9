"""The SDK's invitations (``invite``, ``invitees``, ``uninvite``), async and blocking, against a live server that
mails its iTIP invitations to a real SMTP server (aiosmtpd): what arrives is parsed with ``icalendar``. SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from meetmesh import AsyncClient, BadInputError, Client, ForbiddenError, Invitees, NotFoundError

from tests.conftest import RunningServer, make_settings
from tests.support.gql import eventually
from tests.support.smtp import Inbox, attendees, imip, smtp_server
from tests.support.webhooks import database

pytestmark = pytest.mark.timeout(120)

MAIL_FROM = "calendar@meetmesh.test"


def email() -> str:
    return f"sdk{secrets.token_hex(6)}@example.test"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as found:
        yield found


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def mail_server(
    request: pytest.FixtureRequest, tmp_path: Path, smtp: tuple[Inbox, int]
) -> AsyncIterator[RunningServer]:
    async with database(request.param) as url:
        settings = make_settings(tmp_path / "api", url, smtp_host="127.0.0.1", smtp_port=smtp[1], mail_from=MAIL_FROM)
        srv = RunningServer(settings)
        await srv.start()
        try:
            yield srv
        finally:
            await srv.stop()


def next_week() -> str:
    return (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0).isoformat()


def recipients(inbox: Inbox) -> list[str]:
    return sorted(address for rcpt, _ in inbox.messages for address in rcpt)


async def test_invite_list_and_uninvite_mail_the_servers_itip_invitations(
    mail_server: RunningServer, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    async with AsyncClient(mail_server.url) as host, AsyncClient(mail_server.url) as other:
        await host.sign_up(email(), "correct horse", "Host")
        await other.sign_up(email(), "correct horse", "Other")
        m = await host.create_meeting("Roadmap", starts_at=next_week(), timezone="Europe/Berlin", passcode="")

        invited = await host.invite(m.id, ["Ana@Example.test", "bo@example.test", "ana@example.test"])
        assert invited == Invitees(m.id, ["ana@example.test", "bo@example.test"])
        await eventually(lambda: len(inbox.messages) == 2, timeout=30)
        for address in invited.emails:
            [msg] = inbox.to(address)
            assert msg["From"] == MAIL_FROM and msg["Subject"] == "Invitation: Roadmap"
            method, ev = imip(msg)
            assert method == "REQUEST" and str(ev["uid"]) == f"{m.id}@127.0.0.1"
            assert attendees(ev) == invited.emails and str(ev["summary"]) == "Roadmap"
        assert await host.invitees(m.id) == invited
        # Inviting someone again sends nothing new; the answer is still everyone.
        assert await host.invite(m.id, ["bo@example.test"]) == invited

        left = await host.uninvite(m.id, ["BO@example.test"])
        assert left == Invitees(m.id, ["ana@example.test"])
        await eventually(lambda: len(inbox.messages) == 3, timeout=30)
        method, ev = imip(inbox.to("bo@example.test")[-1])
        assert (method, str(ev["uid"]), attendees(ev)) == ("CANCEL", f"{m.id}@127.0.0.1", ["bo@example.test"])

        # Errors are the SDK's typed exceptions, and a refused call invites nobody.
        with pytest.raises(BadInputError) as bad:
            await host.invite(m.id, ["not-an-address"])
        assert (bad.value.code, bad.value.field) == ("BAD_INPUT", "emails")
        with pytest.raises(ForbiddenError):
            await other.invite(m.id, ["mallory@example.test"])
        with pytest.raises(ForbiddenError):
            await other.invitees(m.id)
        with pytest.raises(ForbiddenError):
            await other.uninvite(m.id, ["ana@example.test"])
        with pytest.raises(NotFoundError):
            await host.invite("00000000-0000-0000-0000-000000000000", ["cy@example.test"])
        instant = await host.create_meeting("Right now", passcode="")
        with pytest.raises(BadInputError):  # an instant meeting is no calendar entry
            await host.invite(instant.id, ["cy@example.test"])
        assert (await host.invitees(m.id)).emails == ["ana@example.test"]

        # One more invitation is the only mail after the refused calls.
        await host.invite(m.id, ["cy@example.test"])
        await eventually(lambda: len(inbox.messages) == 4, timeout=30)
        assert recipients(inbox) == ["ana@example.test", "bo@example.test", "bo@example.test", "cy@example.test"]
        assert imip(inbox.to("cy@example.test")[0])[0] == "REQUEST"


async def test_invitations_carry_the_passcode_only_when_the_host_chooses(
    mail_server: RunningServer, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    async with AsyncClient(mail_server.url) as host, AsyncClient(mail_server.url) as other:
        await host.sign_up(email(), "correct horse", "Host")
        await other.sign_up(email(), "correct horse", "Other")
        m = await host.create_meeting("Board", starts_at=next_week(), passcode="7391zq")
        await host.invite(m.id, ["fay@example.test"])
        await eventually(lambda: len(inbox.messages) == 1, timeout=30)
        method, ev = imip(inbox.to("fay@example.test")[0])
        assert (method, int(ev["sequence"])) == ("REQUEST", 0)
        # By default the entry links the bare meeting page: the invite link's key would stand in for the passcode.
        assert "7391zq" not in str(ev["description"]) and str(ev["url"]) != m.invite_link

        links = await host.set_calendar_options(m.id, include_passcode=True)
        assert links.includes_passcode and links.sequence == 1 and links.ics.endswith(f"/calendar/meetings/{m.id}.ics")
        # The change of text reaches the invitee as an updated REQUEST for the same entry.
        await eventually(lambda: len(inbox.messages) == 2, timeout=30)
        method, updated = imip(inbox.to("fay@example.test")[-1])
        assert (method, str(updated["uid"]), int(updated["sequence"])) == ("REQUEST", str(ev["uid"]), 1)
        assert "Passcode: 7391zq" in str(updated["description"]) and str(updated["url"]) == m.invite_link
        with pytest.raises(ForbiddenError):
            await other.set_calendar_options(m.id, include_passcode=False)
        assert (await host.set_calendar_options(m.id, include_passcode=True)).sequence == 1  # no change, no mail


async def test_the_blocking_client_invites_too(mail_server: RunningServer, smtp: tuple[Inbox, int]) -> None:
    # Plain blocking code in a worker thread: the server runs on this test's loop.
    meeting_id = await asyncio.to_thread(blocking_scenario, mail_server.url)
    inbox, _ = smtp
    await eventually(lambda: len(inbox.messages) == 3, timeout=30)
    uid = f"{meeting_id}@127.0.0.1"
    assert [(m, str(ev["uid"])) for m, ev in map(imip, inbox.to("dee@example.test"))] == [("REQUEST", uid)]
    # Two sends, each its own background task: their order of arrival is not promised.
    assert sorted((m, str(ev["uid"])) for m, ev in map(imip, inbox.to("eli@example.test"))) == [
        ("CANCEL", uid),
        ("REQUEST", uid),
    ]


def blocking_scenario(url: str) -> str:
    with Client(url) as host, Client(url) as other:
        host.sign_up(email(), "correct horse", "Blocking host")
        other.sign_up(email(), "correct horse", "Blocking other")
        m = host.create_meeting("Blocking", starts_at=next_week(), passcode="")
        invited = host.invite(m.id, ["dee@example.test", "eli@example.test"])
        assert invited == Invitees(m.id, ["dee@example.test", "eli@example.test"])
        assert host.invitees(m.id) == invited
        assert host.uninvite(m.id, ["eli@example.test"]).emails == ["dee@example.test"]
        with pytest.raises(ForbiddenError):
            other.invite(m.id, ["eve@example.test"])
        with pytest.raises(BadInputError) as bad:
            host.invite(m.id, ["dee@"])
        assert bad.value.field == "emails"
        assert host.invitees(m.id).emails == ["dee@example.test"]
        assert not host.set_calendar_options(m.id, include_passcode=False).includes_passcode  # as it was: no mail
        return m.id
