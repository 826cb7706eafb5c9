"""The SDK's event stream against a live server: resume after a dropped connection with afterSeq (nothing lost,
nothing repeated), and RESYNC_REQUIRED handled by refetching the meeting and continuing."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from meetmesh import AsyncClient, Meeting, MeetingEvent
from meetmesh.events import EventStream

from api.events.retention import prune
from tests.conftest import RunningServer


@pytest.fixture
async def host(server: RunningServer) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(server.url) as client:
        await client.sign_up(f"ev{secrets.token_hex(6)}@example.test", "correct horse", "Events Host")
        yield client


async def live(host: AsyncClient) -> Meeting:
    m = await host.create_meeting("Events", passcode="", settings={"guestWaitingRoom": False})
    await host.join(m.number)
    return await host.meeting(m.id)


async def next_event(stream: EventStream) -> MeetingEvent:
    return await asyncio.wait_for(stream.__anext__(), 10)


async def test_events_arrive_typed(server: RunningServer, host: AsyncClient) -> None:
    m = await live(host)
    async with host.events(m.id, after_seq=m.event_seq) as stream, AsyncClient(server.url) as guest:
        g = await guest.join(m.number, display_name="Typed")
        joined = await next_event(stream)
        assert joined.seq == m.event_seq + 1 and joined.typename == "ParticipantEvent"
        assert joined.participant is not None and joined.participant.id == g.participant.id
        await guest.send_chat(m.id, "typed hello")
        chat = await next_event(stream)
        assert chat.type == "CHAT_MESSAGE_SENT" and chat.message is not None and chat.message.text == "typed hello"
        assert chat.seq == joined.seq + 1


async def test_a_dropped_connection_resumes_with_after_seq(server: RunningServer, host: AsyncClient) -> None:
    m = await live(host)
    async with host.events(m.id, after_seq=m.event_seq) as stream, AsyncClient(server.url) as guest:
        await guest.join(m.number, display_name="Before")
        first = await next_event(stream)
        await stream.drop_connection()
        # While nobody listens: two chat messages and a hand going up.
        sent = [(await guest.send_chat(m.id, f"missed {i}")).id for i in range(2)]
        await guest.raise_hand(m.id)
        got = [await next_event(stream) for _ in range(3)]
        assert stream.connections == 2, "the stream did not reconnect"
        assert [e.seq for e in got] == [first.seq + 1, first.seq + 2, first.seq + 3]
        assert [e.message.id for e in got[:2] if e.message] == sent
        assert got[2].participant is not None and got[2].participant.hand_raised_at is not None
        # And it goes on live afterwards, without repeating anything.
        await guest.send_chat(m.id, "live again")
        live_event = await next_event(stream)
        assert live_event.seq == first.seq + 4 and live_event.message is not None
        assert live_event.message.text == "live again"


async def test_resync_required_refetches_and_continues(server: RunningServer, host: AsyncClient) -> None:
    m = await live(host)
    start = m.event_seq
    async with AsyncClient(server.url) as guest:
        await guest.join(m.number, display_name="Pruned")
        assert await prune(server.app.state.services, older_than_s=-1) > 0  # the log before now is "too old"
        seen: list[Meeting] = []

        async def on_resync(fresh: Meeting) -> None:
            seen.append(fresh)

        async with host.events(m.id, after_seq=start, on_resync=on_resync) as stream:
            # The server answers RESYNC_REQUIRED on the first read; the stream refetches and resumes from the fresh
            # eventSeq, so the next thing it yields is what happens from now on.
            reader = asyncio.create_task(next_event(stream))
            for _ in range(200):
                if stream.resyncs:
                    break
                await asyncio.sleep(0.05)
            assert stream.resyncs == 1 and len(seen) == 1 and seen[0].event_seq > start
            await guest.send_chat(m.id, "after the resync")
            e = await reader
            assert e.seq == seen[0].event_seq + 1 and e.message is not None and e.message.text == "after the resync"
            assert stream.connections == 2


async def test_my_events_stream(server: RunningServer, host: AsyncClient) -> None:
    m = await host.create_meeting("Waiting", passcode="")
    await host.join(m.number)
    async with AsyncClient(server.url) as guest:
        g = await guest.join(m.number, display_name="Waiter")
        assert g.status == "WAITING"
        async with guest.events(m.id, after_seq=g.event_seq, mine=True) as mine:
            await host.admit(g.participant.id)
            e = await next_event(mine)
            assert e.participant is not None and e.participant.id == g.participant.id
            assert e.participant.state == "ADMITTED"


async def test_a_stream_without_a_cursor_pins_one_and_still_resumes(server: RunningServer, host: AsyncClient) -> None:
    m = await live(host)
    async with host.events(m.id) as stream, AsyncClient(server.url) as guest:
        assert stream.last_seq == m.event_seq
        await stream.drop_connection()  # before any event arrived
        g = await guest.join(m.number, display_name="Early")
        e = await next_event(stream)
        assert e.seq == m.event_seq + 1 and e.participant is not None and e.participant.id == g.participant.id
