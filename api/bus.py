"""The event bus: meeting events fan out to subscribers after the writing transaction commits.

`MemoryBus` serves one process (the embedded default). A Redis-backed bus with the same interface lets several
API processes share events (set ``REDIS_URL``). Subscribers get bounded queues: a slow one loses its oldest
events (and finds the gap by sequence number and refills it from the event log) instead of stalling others.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol

from protocol.events import MeetingEvent, meeting_channel


class Subscription:
    def __init__(self, bus: MemoryBus, channel: str, maxsize: int) -> None:
        self._bus = bus
        self.channel = channel
        self._queue: asyncio.Queue[MeetingEvent] = asyncio.Queue(maxsize)
        self.dropped = 0

    def offer(self, event: MeetingEvent) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> MeetingEvent:
        return await self._queue.get()

    def close(self) -> None:
        self._bus._remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __aiter__(self) -> AsyncIterator[MeetingEvent]:
        return self

    async def __anext__(self) -> MeetingEvent:
        return await self._queue.get()


class Bus(Protocol):
    async def publish(self, event: MeetingEvent) -> None: ...

    def subscribe(self, meeting_id: str, maxsize: int = 1000) -> Subscription: ...

    async def close(self) -> None: ...


class MemoryBus:
    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = {}

    async def publish(self, event: MeetingEvent) -> None:
        self.deliver(event)

    def deliver(self, event: MeetingEvent) -> None:
        for sub in tuple(self._subs.get(meeting_channel(event.meeting_id), ())):
            sub.offer(event)

    def subscribe(self, meeting_id: str, maxsize: int = 1000) -> Subscription:
        channel = meeting_channel(meeting_id)
        sub = Subscription(self, channel, maxsize)
        self._subs.setdefault(channel, set()).add(sub)
        return sub

    def subscriber_count(self, meeting_id: str) -> int:
        return len(self._subs.get(meeting_channel(meeting_id), ()))

    def _remove(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.channel)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.channel]

    async def close(self) -> None:
        self._subs.clear()
