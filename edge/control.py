"""The edge's end of the control feed (``protocol.media_control``): one WebSocket to the API, kept open.

The edge watches each meeting it has participants in and hands every fact the API sends to a
:class:`ControlHandler` (the rooms). The socket is re-opened with capped exponential back-off when it drops,
and every watch is re-sent, so the API answers each with a fresh ``mediaState`` that replaces whatever the edge
believed while it was cut off. Speaker reports made while disconnected are dropped: the next change supersedes
them anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from protocol.media_control import (
    REGISTER_EVERY_S,
    UNAUTHENTICATED_CLOSE,
    ApiToEdge,
    ControlMessageError,
    EdgeToApi,
    FeedError,
    MediaState,
    Register,
    RelayCredentials,
    Unwatch,
    Watch,
    encode,
    parse_api_to_edge,
)

log = logging.getLogger("meetmesh.edge.control")

BACKOFF_FIRST_S = 0.25
BACKOFF_MAX_S = 10.0
REFUSED_RETRY_S = 30.0
"""After the API refused our secret: a configuration problem, so retry slowly rather than hammer it."""


class ControlHandler(Protocol):
    async def on_control(self, msg: ApiToEdge) -> None: ...


class ControlFeed:
    def __init__(self, url: str, secret: str, registration: Callable[[], Register] | None = None) -> None:
        self.url = url
        self.secret = secret
        self.registration = registration
        """What this edge tells the API about itself (first on every connection, then every
        ``REGISTER_EVERY_S``); None: it does not register (joins are not placed on it by the registry)."""
        self.relay_credentials: RelayCredentials | None = None
        """The latest relay token the API issued this edge (after it registered)."""
        self.handler: ControlHandler | None = None
        self.connected = asyncio.Event()
        self.refused = False
        """The API closed the feed with 4401 (wrong or missing secret)."""
        self._watched: dict[str, asyncio.Event] = {}
        """Meetings being watched, each with "its mediaState arrived on the current socket"."""
        self._ws: ClientConnection | None = None
        self._send_lock = asyncio.Lock()

    async def watch(self, meeting_id: str, timeout: float) -> bool:
        """Watch ``meeting_id``; True once its state arrived (within ``timeout``), False if it did not yet -
        the edge then serves the meeting unpoliced until it does, rather than keep people out of a call."""
        arrived = self._watched.get(meeting_id)
        if arrived is None:
            arrived = self._watched[meeting_id] = asyncio.Event()
            await self._send(Watch(meeting_id))
        try:
            await asyncio.wait_for(arrived.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def unwatch(self, meeting_id: str) -> None:
        if self._watched.pop(meeting_id, None) is not None:
            await self._send(Unwatch(meeting_id))

    async def report(self, msg: EdgeToApi) -> None:
        await self._send(msg)

    async def _send(self, msg: EdgeToApi) -> None:
        ws = self._ws
        if ws is None:
            return  # re-sent (watches) or superseded (reports) once the socket is back
        async with self._send_lock:
            with contextlib.suppress(ConnectionClosed):
                await ws.send(encode(msg))

    async def run(self) -> None:
        """Keep the feed open until cancelled."""
        delay = BACKOFF_FIRST_S
        while True:
            try:
                async with connect(
                    self.url, additional_headers={"Authorization": f"Bearer {self.secret}"}, open_timeout=5
                ) as ws:
                    await self._serve(ws)
                    delay = BACKOFF_FIRST_S
            except (OSError, InvalidHandshake, InvalidURI, TimeoutError, ConnectionClosed) as exc:
                log.warning("control feed %s unavailable (%s); retrying in %.1f s", self.url, exc, delay)
            finally:
                self._ws = None
                self.connected.clear()
            if self.refused:
                log.error("the API refused this edge's control secret (EDGE_CONTROL_SECRET vs API_EDGE_SECRET)")
                await asyncio.sleep(REFUSED_RETRY_S)
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX_S)

    async def _serve(self, ws: ClientConnection) -> None:
        self._ws = ws
        self.refused = False
        self.connected.set()
        heartbeat: asyncio.Task[None] | None = None
        if self.registration is not None:
            # First, so the API knows which edge its watches come from.
            await self._send(self.registration())
            heartbeat = asyncio.create_task(self._heartbeat(), name="edge-register-heartbeat")
        for meeting_id, arrived in list(self._watched.items()):
            arrived.clear()
            await self._send(Watch(meeting_id))
        log.info("control feed connected to %s", self.url)
        try:
            await self._read(ws)
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
                await asyncio.gather(heartbeat, return_exceptions=True)

    async def _heartbeat(self) -> None:
        assert self.registration is not None
        while True:
            await asyncio.sleep(REGISTER_EVERY_S)
            await self._send(self.registration())

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for text in ws:
                try:
                    msg = parse_api_to_edge(text)
                except ControlMessageError as exc:
                    log.warning("ignoring a control frame the edge cannot read: %s", exc)
                    continue
                if isinstance(msg, FeedError):
                    log.warning("control feed refused a frame: %s %s", msg.code, msg.message)
                    continue
                if isinstance(msg, RelayCredentials):
                    self.relay_credentials = msg
                    continue
                if isinstance(msg, MediaState) and msg.meeting_id not in self._watched:
                    continue  # unwatched meanwhile
                if self.handler is not None:
                    await self.handler.on_control(msg)
                if isinstance(msg, MediaState):
                    self._watched[msg.meeting_id].set()
        except ConnectionClosed:
            pass
        if ws.close_code == UNAUTHENTICATED_CLOSE:
            self.refused = True
