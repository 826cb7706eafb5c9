"""Sharing documents between API processes: Redis pub/sub, one channel per open document.

A process subscribes to a document's channel while it holds the document in memory. It publishes the updates
and awareness changes of its own peers (and stores those updates itself); the others apply and forward them
to their peers without storing them again. A process that opens a document says ``hello`` with its state
vector after subscribing; every process holding the document answers with what that one misses, which covers
edits another process received but had not stored yet. Without REDIS_URL there is one process and no fan-out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("meetmesh.collab")

UPDATE, AWARENESS, HELLO, LOCK = b"U", b"A", b"H", b"L"

Key = tuple[str, str]
Handler = Callable[[bytes, bytes], None]
"""Called with (kind, payload) for each message another process published on the document."""


class Fanout(Protocol):
    async def join(self, key: Key, handler: Handler) -> None: ...

    async def leave(self, key: Key) -> None: ...

    async def publish(self, key: Key, kind: bytes, payload: bytes) -> None: ...

    async def close(self) -> None: ...


class LocalFanout:
    """One process: nobody to tell."""

    async def join(self, key: Key, handler: Handler) -> None:
        return None

    async def leave(self, key: Key) -> None:
        return None

    async def publish(self, key: Key, kind: bytes, payload: bytes) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisFanout:
    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url)
        self._pubsub = self._redis.pubsub()
        self._prefix = f"{prefix}:collab:"
        self._me = os.urandom(8)
        """This process's mark on what it publishes, so it skips its own messages."""
        self._handlers: dict[bytes, Handler] = {}
        self._reader: asyncio.Task[None] | None = None

    def _channel(self, key: Key) -> bytes:
        return f"{self._prefix}{key[0]}:{key[1]}".encode()

    async def join(self, key: Key, handler: Handler) -> None:
        channel = self._channel(key)
        self._handlers[channel] = handler
        await self._pubsub.subscribe(channel)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(), name="collab-fanout-reader")

    async def leave(self, key: Key) -> None:
        channel = self._channel(key)
        if self._handlers.pop(channel, None) is not None:
            await self._pubsub.unsubscribe(channel)

    async def publish(self, key: Key, kind: bytes, payload: bytes) -> None:
        await self._redis.publish(self._channel(key), kind + self._me + payload)

    async def _read(self) -> None:
        while True:
            try:
                msg = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("collab fan-out reader failed; retrying")
                await asyncio.sleep(0.5)
                continue
            if msg is None:
                if not self._pubsub.subscribed:
                    await asyncio.sleep(0.05)
                continue
            data: bytes = msg["data"]
            handler = self._handlers.get(msg["channel"])
            if handler is None or len(data) < 9 or data[1:9] == self._me:
                continue
            try:
                handler(data[:1], data[9:])
            except Exception:  # one bad message must not stop the reader for every document
                log.exception("collab fan-out message on %r failed", msg["channel"])

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        await self._redis.aclose()
