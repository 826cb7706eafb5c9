"""The event bus: meeting events fan out to subscribers after the writing transaction commits.

`MemoryBus` serves one process (the embedded default). `RedisBus` (``REDIS_URL``) shares events between API
processes over Redis pub/sub: each process subscribes once per meeting that has local subscribers and fans
out locally, so Redis carries one copy of an event per interested process. Subscribers get bounded queues:
a slow one loses its oldest events (and finds the gap by sequence number and refills it from the event log)
instead of stalling the others. Pub/sub itself may lose messages (a reconnect, a slow process); the same gap
filling covers that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

from protocol.events import MeetingEvent, meeting_channel

log = logging.getLogger("meetmesh.bus")


class Subscription:
    def __init__(self, hub: LocalHub, channel: str, maxsize: int) -> None:
        self._hub = hub
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

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        self._hub.remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __aiter__(self) -> AsyncIterator[MeetingEvent]:
        return self

    async def __anext__(self) -> MeetingEvent:
        return await self._queue.get()


class LocalHub:
    """This process's subscribers, by channel."""

    def __init__(self) -> None:
        self.subs: dict[str, set[Subscription]] = {}
        self.on_empty: Any = None
        """Called with a channel name when its last local subscriber leaves."""

    def add(self, channel: str, maxsize: int) -> Subscription:
        sub = Subscription(self, channel, maxsize)
        self.subs.setdefault(channel, set()).add(sub)
        return sub

    def remove(self, sub: Subscription) -> None:
        subs = self.subs.get(sub.channel)
        if subs is None:
            return
        subs.discard(sub)
        if not subs:
            del self.subs[sub.channel]
            if self.on_empty is not None:
                self.on_empty(sub.channel)

    def deliver(self, channel: str, event: MeetingEvent) -> None:
        for sub in tuple(self.subs.get(channel, ())):
            sub.offer(event)


class Bus(Protocol):
    async def publish(self, event: MeetingEvent) -> None: ...

    async def subscribe(self, meeting_id: str, maxsize: int = 1000) -> Subscription:
        """Start receiving a meeting's events; returns once delivery is guaranteed for what is published next."""
        ...

    def subscriber_count(self, meeting_id: str) -> int: ...

    async def close(self) -> None: ...


class MemoryBus:
    def __init__(self) -> None:
        self.hub = LocalHub()

    async def publish(self, event: MeetingEvent) -> None:
        self.hub.deliver(meeting_channel(event.meeting_id), event)

    async def subscribe(self, meeting_id: str, maxsize: int = 1000) -> Subscription:
        return self.hub.add(meeting_channel(meeting_id), maxsize)

    def subscriber_count(self, meeting_id: str) -> int:
        return len(self.hub.subs.get(meeting_channel(meeting_id), ()))

    async def close(self) -> None:
        self.hub.subs.clear()


class RedisBus:
    """Redis pub/sub between processes, `LocalHub` within one."""

    def __init__(self, url: str, prefix: str = "meetmesh") -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=False)
        self._prefix = prefix + ":"
        self.hub = LocalHub()
        self.hub.on_empty = self._on_empty
        self._confirm: dict[str, list[asyncio.Future[None]]] = {}
        self._active: set[str] = set()
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def _key(self, channel: str) -> str:
        return self._prefix + channel

    async def publish(self, event: MeetingEvent) -> None:
        await self._redis.publish(self._key(meeting_channel(event.meeting_id)), event.to_json())

    async def subscribe(self, meeting_id: str, maxsize: int = 1000) -> Subscription:
        channel = meeting_channel(meeting_id)
        sub = self.hub.add(channel, maxsize)
        if channel in self._active:
            return sub
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._confirm.setdefault(channel, []).append(waiter)
        try:
            async with self._lock:
                if channel not in self._active:
                    await self._pubsub.subscribe(self._key(channel))
                    self._ensure_reader()
                else:
                    waiter.set_result(None)
            await asyncio.wait_for(waiter, 10)
        except BaseException:
            sub.close()
            raise
        return sub

    def _ensure_reader(self) -> None:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(), name="redis-bus-reader")

    def _on_empty(self, channel: str) -> None:
        if channel in self._active:
            self._active.discard(channel)
            asyncio.get_running_loop().create_task(self._unsubscribe(channel))

    async def _unsubscribe(self, channel: str) -> None:
        async with self._lock:
            if channel not in self.hub.subs and channel not in self._active:
                await self._pubsub.unsubscribe(self._key(channel))

    async def _read(self) -> None:
        # One reader per process; it never blocks on a subscriber (offers are non-blocking).
        while True:
            try:
                msg = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("redis bus reader failed; retrying")
                await asyncio.sleep(0.5)
                continue
            if msg is None:
                if not self._pubsub.subscribed:
                    await asyncio.sleep(0.05)
                continue
            channel = msg["channel"].decode()[len(self._prefix) :]
            if msg["type"] == "subscribe":
                self._active.add(channel)
                for waiter in self._confirm.pop(channel, []):
                    if not waiter.done():
                        waiter.set_result(None)
            elif msg["type"] == "message":
                try:
                    event = MeetingEvent.from_json(msg["data"])
                except (ValueError, KeyError):
                    log.warning("dropping malformed bus message on %s", channel)
                    continue
                self.hub.deliver(channel, event)

    def subscriber_count(self, meeting_id: str) -> int:
        return len(self.hub.subs.get(meeting_channel(meeting_id), ()))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        await self._redis.aclose()
        self.hub.subs.clear()
