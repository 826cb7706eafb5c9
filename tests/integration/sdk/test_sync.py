"""The blocking ``meetmesh.Client`` against a live server: the same calls without asyncio, events included.
The scenario is plain blocking code run in a worker thread: the test server shares the test's event loop, which a
blocking call on that loop would stall."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from meetmesh import Client, ForbiddenError

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
