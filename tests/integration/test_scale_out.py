"""Scaled-out mode: two real API processes on one PostgreSQL database share events over a real Redis."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.bus import RedisBus
from protocol.events import Audience, EventType, MeetingEvent
from testkit.server import ApiProcess
from tests.support.gql import Client
from tests.support.scaled import api_pair as running_pair
from tests.support.world import World

REDIS_URL = "redis://127.0.0.1:6379/0"
EVENTS = """subscription($m: ID!, $after: Int) { meetingEvents(meetingId: $m, afterSeq: $after) {
  seq type ... on ParticipantEvent { participant { id displayName } } } }"""


@pytest.fixture(scope="module")
def api_pair(pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiProcess, ApiProcess]]:
    with running_pair(pg_database, tmp_path_factory.mktemp("pair")) as pair:
        yield pair


def event(meeting: str, seq: int) -> MeetingEvent:
    return MeetingEvent(meeting_id=meeting, seq=seq, type=EventType.PARTICIPANT_UPDATED, audience=Audience.ALL, at=0.0)


async def test_redis_bus_carries_events_between_instances_in_order() -> None:
    prefix = f"meetmesh-test-{secrets.token_hex(4)}"
    a, b = RedisBus(REDIS_URL, prefix), RedisBus(REDIS_URL, prefix)
    try:
        sub = await b.subscribe("m1")
        other = await b.subscribe("m2")
        for seq in range(1, 101):
            await a.publish(event("m1", seq))
        got = [(await asyncio.wait_for(sub.get(), 5)).seq for _ in range(100)]
        assert got == list(range(1, 101))
        assert other.pending() == 0
        sub.close()
        other.close()
        assert b.subscriber_count("m1") == 0
        # Subscribing again after the last subscriber left works (the channel was unsubscribed and re-subscribed).
        again = await b.subscribe("m1")
        await a.publish(event("m1", 101))
        assert (await asyncio.wait_for(again.get(), 5)).seq == 101
    finally:
        await a.close()
        await b.close()


async def test_subscriber_on_one_process_hears_writes_through_the_other(
    api_pair: tuple[ApiProcess, ApiProcess],
) -> None:
    a, b = api_pair
    async with httpx.AsyncClient(timeout=30) as http:
        world_a, world_b = World(Client(a.url, http)), World(Client(b.url, http))
        host = await world_a.user("Host")
        m = await world_a.meeting(host, maxParticipants=100)
        _, joined = await world_a.join(host, m)
        async with host.client.subscribe(EVENTS, m=m["id"], after=joined["eventSeq"]) as sub:
            names = [f"Guest {i}" for i in range(20)]
            people: list[Any] = []
            for name in names:  # through process B, one after another: order must hold on A
                people.append((await world_b.join(None, m, name=name))[0])
            got = [(await sub.next(10) or {})["meetingEvents"] for _ in names]
        assert [e["participant"]["displayName"] for e in got] == names
        assert [e["seq"] for e in got] == list(range(joined["eventSeq"] + 1, joined["eventSeq"] + 21))
        # And the other direction, concurrently from both processes: nothing lost, no duplicates, in seq order.
        sub_url_b = Client(b.url, http, host.client.token)
        async with sub_url_b.subscribe(EVENTS, m=m["id"], after=got[-1]["seq"]) as sub2:
            joins = [world_a.join(None, m) for _ in range(10)] + [world_b.join(None, m) for _ in range(10)]
            await asyncio.gather(*joins)
            seen = [(await sub2.next(10) or {})["meetingEvents"]["seq"] for _ in range(20)]
        assert seen == list(range(got[-1]["seq"] + 1, got[-1]["seq"] + 21))


CHAT_EVENTS = """subscription($m: ID!, $after: Int) { meetingEvents(meetingId: $m, afterSeq: $after) {
  seq type ... on ChatMessageEvent { message { text senderName } } } }"""
SEND = "mutation($i: SendChatMessageInput!) { sendChatMessage(input: $i) { id } }"


async def test_chat_sent_through_one_process_arrives_in_order_on_the_other(
    api_pair: tuple[ApiProcess, ApiProcess],
) -> None:
    a, b = api_pair
    async with httpx.AsyncClient(timeout=30) as http:
        world_a, world_b = World(Client(a.url, http)), World(Client(b.url, http))
        host = await world_a.user("Host")
        m = await world_a.meeting(host, maxParticipants=100)
        await world_a.join(host, m)
        senders = []
        for name in ("Alice", "Bob", "Carol", "Dan", "Erin"):
            person, joined = await world_b.join(None, m, name=name)
            senders.append(person)
        async with host.client.subscribe(CHAT_EVENTS, m=m["id"], after=joined["eventSeq"]) as sub:
            texts = [f"message {i}" for i in range(30)]  # 6 each: under the 10 a second per participant
            for i, text in enumerate(texts):  # taking turns, all through process B
                await senders[i % 5].client(SEND, i={"meetingId": m["id"], "text": text})
            got = [(await sub.next(10) or {})["meetingEvents"] for _ in texts]
    assert [e["message"]["text"] for e in got] == texts
    assert [e["message"]["senderName"] for e in got][:5] == ["Alice", "Bob", "Carol", "Dan", "Erin"]
    assert [e["seq"] for e in got] == sorted(e["seq"] for e in got)


async def test_a_rate_limit_holds_across_processes(api_pair: tuple[ApiProcess, ApiProcess]) -> None:
    a, b = api_pair
    async with httpx.AsyncClient(timeout=30) as http:
        world_a = World(Client(a.url, http))
        host = await world_a.user("Host")
        m = await world_a.meeting(host, maxParticipants=100)
        await world_a.join(host, m)
        guest, _ = await world_a.join(None, m, name="Chatty")
        on_b = Client(b.url, http, guest.client.token)

        async def send(i: int) -> str:
            client = guest.client if i % 2 == 0 else on_b
            body = await client.raw(SEND, i={"meetingId": m["id"], "text": f"hello {i}"})
            return str(body["errors"][0]["extensions"]["code"]) if body.get("errors") else "OK"

        # 14 at once, 7 through each process: all land within the limit's one-second window.
        results = await asyncio.gather(*(send(i) for i in range(14)))
    assert results.count("OK") == 10 and results.count("RATE_LIMITED") == 4, results
