"""The blocking ``meetmesh.Client`` against a live server: the same calls without asyncio, events included.
The scenario is plain blocking code run in a worker thread: the test server shares the test's event loop, which a
blocking call on that loop would stall."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from meetmesh import BadInputError, Client, ForbiddenError

from tests.conftest import RunningServer


async def test_sync_client_covers_a_meeting_end_to_end(server: RunningServer) -> None:
    await asyncio.to_thread(scenario, server.url)


def scenario(url: str) -> None:
    with Client(url) as host, Client(url) as guest:
        host.sign_up(f"sync{secrets.token_hex(6)}@example.test", "correct horse", "Sync Host")
        m = host.create_meeting("Sync", passcode="", settings={"guestWaitingRoom": False})
        joined = host.join(m.number)
        assert joined.status == "ADMITTED" and host.session is not None
        with host.events(m.id, after_seq=joined.event_seq) as events:
            g = guest.join(m.number, display_name="Blocking guest")
            assert guest.token == g.guest_token
            guest.send_chat(m.id, "from a plain thread")
            first, second = events.next_event(10), events.next_event(10)
        assert first.participant is not None and first.participant.id == g.participant.id
        assert second.message is not None and second.message.text == "from a plain thread"
        assert second.seq == first.seq + 1
        with pytest.raises(ForbiddenError):
            guest.lock(m.id)
        assert host.end_meeting(m.id).status == "ENDED"


async def test_sync_client_pages_through_meetings(server: RunningServer) -> None:
    await asyncio.to_thread(listing_scenario, server.url)


def listing_scenario(url: str) -> None:
    with Client(url) as host:
        host.sign_up(f"sync{secrets.token_hex(6)}@example.test", "correct horse", "Sync Lister")
        base = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
        made = [host.create_meeting(f"Day {n}", starts_at=(base + timedelta(days=n)).isoformat()) for n in range(3)]
        seen: list[str] = []
        after: str | None = None
        while True:
            page = host.meetings("upcoming", first=2, after=after)
            seen += [m.id for m in page.items]
            if page.next_cursor is None:
                break
            after = page.next_cursor
        assert seen == [m.id for m in made]
        host.cancel_meeting(made[0].id)
        assert [m.id for m in host.meetings("past").items] == [made[0].id]
        with pytest.raises(BadInputError):
            host.meetings(first=101)
