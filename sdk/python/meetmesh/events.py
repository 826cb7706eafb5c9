"""A meeting's event stream that survives dropped connections and pruned logs.

The API gives every meeting event a gap-free ``seq`` and keeps a log of recent ones (docs/api.md, "Events"):
subscribing with ``afterSeq`` replays what came after it. So the stream remembers the last ``seq`` it handed
out and, when the connection drops, reconnects with ``afterSeq`` = that: nothing is lost, nothing repeated.
A resume point older than the retained log answers ``RESYNC_REQUIRED``: the stream then refetches the meeting
(the caller's ``on_resync`` hook sees it, to refresh whatever state it keeps), continues from its fresh
``eventSeq`` and counts the resync."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from meetmesh import operations as ops
from meetmesh.errors import ResyncRequiredError, UnauthenticatedError
from meetmesh.transport import ConnectionLost, SubscriptionSocket
from meetmesh.types import Meeting, MeetingEvent

if TYPE_CHECKING:
    from meetmesh.client import AsyncClient

ResyncHook = Callable[[Meeting], Awaitable[None]]


class EventStream:
    """Async iterator over ``meetingEvents`` (or ``myEvents``) of one meeting, with automatic resume.
    Use as ``async with client.events(meeting_id) as stream: async for event in stream: ...``."""

    def __init__(
        self,
        client: AsyncClient,
        meeting_id: str,
        *,
        after_seq: int | None = None,
        mine: bool = False,
        on_resync: ResyncHook | None = None,
        max_reconnects: int = 10,
        backoff_s: float = 0.2,
    ) -> None:
        self.client = client
        self.meeting_id = meeting_id
        self.last_seq = after_seq
        """The last seq handed out (or the starting point): the resume cursor."""
        self.mine = mine
        self.document = ops.MY_EVENTS if mine else ops.MEETING_EVENTS
        self.on_resync = on_resync
        self.max_reconnects = max_reconnects
        self.backoff_s = backoff_s
        self.connections = 0
        """How many connections this stream opened (1 + reconnects)."""
        self.resyncs = 0
        """How many times the server said RESYNC_REQUIRED and the stream refetched."""
        self._socket: SubscriptionSocket | None = None
        self._failures = 0
        self._refreshed = False
        self._closed = False

    async def __aenter__(self) -> EventStream:
        await self._connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[MeetingEvent]:
        return self

    async def aclose(self) -> None:
        self._closed = True
        if self._socket is not None:
            await self._socket.close()

    async def drop_connection(self) -> None:
        """Close the current connection as a network failure would; the next read reconnects and resumes."""
        if self._socket is not None:
            await self._socket.close()

    async def _connect(self) -> None:
        if self.last_seq is None and not self.mine:
            # Pin the cursor before subscribing: a connection that drops before the first event then still
            # resumes from a known point instead of "now".
            self.last_seq = (await self.client.meeting(self.meeting_id)).event_seq
        self._socket = SubscriptionSocket(
            self.client.transport, self.document, {"m": self.meeting_id, "after": self.last_seq}
        )
        self.connections += 1
        await self._socket.open()

    async def _resync(self) -> None:
        meeting = await self.client.meeting(self.meeting_id)
        self.resyncs += 1
        if self.on_resync is not None:
            await self.on_resync(meeting)
        self.last_seq = meeting.event_seq

    async def __anext__(self) -> MeetingEvent:
        while not self._closed:
            try:
                if self._socket is None:
                    await self._connect()
                assert self._socket is not None
                data = await self._socket.next()
            except ConnectionLost:
                await self._reset()
                self._failures += 1
                if self._failures > self.max_reconnects:
                    raise
                await asyncio.sleep(min(self.backoff_s * 2 ** (self._failures - 1), 5.0))
                continue
            except ResyncRequiredError:
                await self._reset()
                await self._resync()
                continue
            except UnauthenticatedError:
                # An access token that expired while connected shows on the next (re)connection.
                await self._reset()
                if self._refreshed or not await self.client.refresh_if_signed_in():
                    raise
                self._refreshed = True
                continue
            if data is None:  # the server completed the subscription (e.g. the meeting ended)
                break
            self._failures = 0
            self._refreshed = False
            event = MeetingEvent.from_json(data)
            if self.last_seq is not None and event.seq <= self.last_seq:
                continue  # already handed out before a reconnect
            self.last_seq = event.seq
            return event
        raise StopAsyncIteration

    async def _reset(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        self._socket = None
