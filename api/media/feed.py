"""The control feed's WebSocket (``protocol.media_control``): edges watch meetings here and report speakers.

One socket per edge. Each watched meeting is one task that subscribes to the bus *before* reading the
meeting's state from the database, so no event can fall between the two; a gap in sequence numbers (a full
queue, a lost pub/sub message) is repaired by re-reading the state and sending a fresh ``mediaState``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import logging
import time
from collections.abc import Iterable
from typing import Any

from litestar import WebSocket, websocket
from litestar.datastructures import State
from litestar.exceptions import WebSocketDisconnect

from api.errors import AppError
from api.media.registry import EdgeInfo
from api.media.service import load_media_state, report_caption, report_dominant_speaker
from api.services import Services
from protocol.errors import ErrorCode
from protocol.media_control import (
    FEED_PATH,
    UNAUTHENTICATED_CLOSE,
    ApiToEdge,
    Caption,
    ControlMessageError,
    EdgeToApi,
    FeedError,
    MeetingEdges,
    Register,
    RelayCredentials,
    Unwatch,
    Watch,
    encode,
    parse_edge_to_api,
)

log = logging.getLogger("meetmesh.media.feed")

MAX_WATCHES = 10_000
"""Meetings one edge may watch at once: a bound on the tasks a misbehaving edge can make this process run."""


MEETING_EDGES_EVERY_S = 2.0
"""How often a feed compares the edges of the meetings it watches with what it last told its edge. Polled (one
registry read per watched meeting) rather than pushed, so it needs nothing from the bus and works across API
processes whichever one each edge's feed is connected to."""


_FEEDS: set[_Feed] = set()
"""This process's open feeds: a change to a meeting's edges wakes the feeds watching it at once (the poll stays,
for feeds in other API processes)."""


def _edges_changed(meeting_ids: Iterable[str]) -> None:
    changed = set(meeting_ids)
    for feed in _FEEDS:
        if not changed.isdisjoint(feed._told):
            feed._wake.set()


class _Feed:
    def __init__(self, socket: WebSocket[Any, Any, Any], svc: Services) -> None:
        self.socket = socket
        self.svc = svc
        self.watches: dict[str, asyncio.Task[None]] = {}
        self._send_lock = asyncio.Lock()
        self.edge_id: str | None = None
        """Set by the edge's ``register``; edges that never register are served as before (one-edge setups)."""
        self._relay_expires = 0
        self._told: dict[str, tuple[str, ...]] = {}
        """Per watched meeting, the edge ids last sent in ``meetingEdges``."""
        self._poller: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._registered_at = 0.0
        """When this feed last put its edge in the registry."""

    async def send(self, msg: ApiToEdge) -> None:
        async with self._send_lock:
            await self.socket.send_text(encode(msg))

    async def run(self) -> None:
        _FEEDS.add(self)
        try:
            while True:
                event: Any = await self.socket.receive()
                if event["type"] == "websocket.disconnect":
                    return
                text = event.get("text")
                if not isinstance(text, str):
                    await self.send(FeedError(ErrorCode.BAD_INPUT.value, "binary frames are not accepted"))
                    continue
                try:
                    msg = parse_edge_to_api(text)
                except ControlMessageError as exc:
                    await self.send(FeedError(ErrorCode.BAD_INPUT.value, str(exc)))
                    continue
                await self.handle(msg)
        finally:
            tasks = [*self.watches.values(), *([self._poller] if self._poller else [])]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.edge_id is not None:
                for meeting_id in list(self._told):
                    await self.svc.edges.unwatch(meeting_id, self.edge_id)
                # A feed that closes is an edge that stopped or died (its process's sockets close with it): no
                # join goes there any more; an edge that only lost its connection registers again on reconnect.
                await self.svc.edges.drop(self.edge_id, self._registered_at)
            _FEEDS.discard(self)
            _edges_changed(self._told)

    async def handle(self, msg: EdgeToApi) -> None:
        if isinstance(msg, Register):
            await self._register(msg)
            return
        if isinstance(msg, Watch | Unwatch) and self.edge_id is not None:
            if isinstance(msg, Watch):
                await self.svc.edges.watch(msg.meeting_id, self.edge_id, time.time())
                self._told.setdefault(msg.meeting_id, ())
            else:
                await self.svc.edges.unwatch(msg.meeting_id, self.edge_id)
                self._told.pop(msg.meeting_id, None)
            _edges_changed([msg.meeting_id])
        if isinstance(msg, Watch):
            if msg.meeting_id in self.watches:
                return  # already watching: the edge has (or is about to get) the state
            if len(self.watches) >= MAX_WATCHES:
                await self.send(FeedError(ErrorCode.RATE_LIMITED.value, f"at most {MAX_WATCHES} watched meetings"))
                return
            task = asyncio.create_task(self._watch(msg.meeting_id), name=f"edge-watch-{msg.meeting_id}")
            self.watches[msg.meeting_id] = task
            task.add_done_callback(functools.partial(self._watch_done, msg.meeting_id))
        elif isinstance(msg, Unwatch):
            watching = self.watches.pop(msg.meeting_id, None)
            if watching is not None:
                watching.cancel()
        else:
            try:
                if isinstance(msg, Caption):
                    await report_caption(self.svc, msg.meeting_id, msg.participant_id, msg.text, msg.language)
                else:
                    await report_dominant_speaker(self.svc, msg.meeting_id, msg.participant_id)
            except AppError as exc:
                await self.send(FeedError(exc.code.value, exc.message))

    async def _register(self, msg: Register) -> None:
        if self.edge_id is not None and msg.edge_id != self.edge_id:
            await self.send(FeedError(ErrorCode.CONFLICT.value, f"this feed is edge {self.edge_id!r}'s"))
            return
        now = time.time()
        self.edge_id = msg.edge_id
        self._registered_at = now
        await self.svc.edges.put(EdgeInfo.from_register(msg, now))
        # Renewed at half-life: an edge never holds a credential about to expire while it dials a peer.
        if self._relay_expires - now < self.svc.settings.relay_token_ttl_s / 2:
            token, self._relay_expires = self.svc.creds.relay_token(msg.edge_id, msg.region, now)
            await self.send(RelayCredentials(token, self._relay_expires))
        if self._poller is None:
            self._poller = asyncio.create_task(self._tell_meeting_edges(), name=f"edge-{msg.edge_id}-meeting-edges")

    async def _tell_meeting_edges(self) -> None:
        with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError):
            while True:
                now = time.time()
                for meeting_id in list(self._told):
                    edges = await self.svc.edges.meeting_edges(meeting_id, now)
                    ids = tuple(e.edge_id for e in edges)
                    if meeting_id in self._told and ids != self._told[meeting_id]:
                        self._told[meeting_id] = ids
                        await self.send(MeetingEdges(meeting_id, tuple(e.ref() for e in edges)))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), MEETING_EDGES_EVERY_S)
                self._wake.clear()

    def _watch_done(self, meeting_id: str, task: asyncio.Task[None]) -> None:
        if self.watches.get(meeting_id) is task:
            del self.watches[meeting_id]
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("watching meeting %s for an edge failed", meeting_id, exc_info=exc)

    async def _watch(self, meeting_id: str) -> None:
        with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError):  # the edge went away meanwhile
            await self._follow(meeting_id)

    async def _follow(self, meeting_id: str) -> None:
        with await self.svc.bus.subscribe(meeting_id) as sub:
            try:
                state = await load_media_state(self.svc, meeting_id)
            except AppError as exc:
                await self.send(FeedError(exc.code.value, exc.message))
                return
            await self.send(state.snapshot())
            while True:
                ev = await sub.get()
                if ev.seq <= state.seq:
                    continue  # already in the state we read
                if ev.seq > state.seq + 1:
                    state = await load_media_state(self.svc, meeting_id)
                    await self.send(state.snapshot())
                    continue
                for msg in state.apply(ev):
                    await self.send(msg)


@websocket(FEED_PATH, include_in_schema=False)
async def edge_feed(socket: WebSocket[Any, Any, Any], state: State) -> None:
    svc: Services = state.services
    await socket.accept()
    secret = svc.settings.edge_secret
    given = socket.headers.get("authorization", "")
    if not secret or not hmac.compare_digest(given.encode(), f"Bearer {secret}".encode()):
        why = "edge feed is disabled (API_EDGE_SECRET unset)" if not secret else "bad edge secret"
        await socket.close(code=UNAUTHENTICATED_CLOSE, reason=why)
        return
    feed = _Feed(socket, svc)
    with contextlib.suppress(WebSocketDisconnect):
        await feed.run()
