"""The edge's signalling front door: the WebSocket at ``/edge/signal`` (the only module here doing its I/O).

Per connection: accept, wait (at most ``join_timeout_s``) for a ``join`` whose token verifies, answer ``joined``,
then read frames until ``leave`` or disconnect. Token problems become close codes here and nowhere else
(``protocol.signalling.CloseCode``); a frame that cannot be used is answered with ``error`` and the session
goes on. Media is not here: after ``joined`` every SDP/ICE frame goes to :class:`RoomHooks`, the place where
rooms and the forwarder plug in; until they exist, :class:`NoMedia` refuses offers politely.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any, Protocol

from litestar import Litestar, MediaType, WebSocket, get, websocket
from litestar.exceptions import WebSocketDisconnect

from edge.control import ControlFeed
from edge.settings import Settings
from edge.tokens import JoinKeyError, JoinTokenError, JoinTokenVerifier
from protocol.errors import ErrorCode
from protocol.signalling import (
    Answer,
    Candidate,
    ClientMessage,
    CloseCode,
    EdgeMessage,
    Error,
    Join,
    Joined,
    Leave,
    Offer,
    SignallingMessageError,
    VideoSize,
    bad_input,
    close_reason,
    encode,
    parse_client_message,
)
from protocol.tokens import JoinClaims

log = logging.getLogger("meetmesh.edge.signalling")

SIGNAL_PATH = "/edge/signal"
KEY_RETRY_INTERVAL_S = 1.0
"""At most one key fetch per interval while the API is unreachable, however many clients knock meanwhile."""


class Connection:
    """One joined participant's socket. Sends are serialised, and nothing is sent once it is closed, so any
    task (the replacing connection, later the room) may send or close it."""

    def __init__(self, socket: WebSocket[Any, Any, Any], claims: JoinClaims) -> None:
        self.socket = socket
        self.claims = claims
        self.closed = False
        self._lock = asyncio.Lock()

    @property
    def participant_id(self) -> str:
        return self.claims.participant_id

    @property
    def meeting_id(self) -> str:
        return self.claims.meeting_id

    async def send(self, msg: EdgeMessage) -> bool:
        """Send ``msg``; False when the connection is already closed (the message is dropped)."""
        async with self._lock:
            if self.closed:
                return False
            if not await _send(self.socket, msg):
                self.closed = True
            return not self.closed

    async def close(self, code: CloseCode, reason: str) -> None:
        async with self._lock:
            if self.closed:
                return
            self.closed = True
            await _close(self.socket, code, reason)


async def _send(socket: WebSocket[Any, Any, Any], msg: EdgeMessage) -> bool:
    try:
        await socket.send_text(encode(msg))
    except (WebSocketDisconnect, OSError, RuntimeError):
        # The peer went away meanwhile; its reader sees the disconnect and cleans up.
        return False
    return True


async def _close(socket: WebSocket[Any, Any, Any], code: CloseCode, reason: str) -> None:
    try:
        await socket.close(code=int(code), reason=close_reason(reason))
    except (WebSocketDisconnect, OSError, RuntimeError):
        pass  # already gone: nothing left to tell it


class Registry:
    """Who is connected to this edge, per meeting. At most one connection per participant: the newest wins."""

    def __init__(self) -> None:
        self._meetings: dict[str, dict[str, Connection]] = {}

    def add(self, conn: Connection) -> Connection | None:
        """Register ``conn``; returns the connection it replaces (the caller closes that one)."""
        members = self._meetings.setdefault(conn.meeting_id, {})
        previous = members.get(conn.participant_id)
        members[conn.participant_id] = conn
        return previous

    def remove(self, conn: Connection) -> bool:
        """Forget ``conn`` if it is still the participant's current connection (a replaced one is not)."""
        members = self._meetings.get(conn.meeting_id)
        if members is None or members.get(conn.participant_id) is not conn:
            return False
        del members[conn.participant_id]
        if not members:
            del self._meetings[conn.meeting_id]
        return True

    def get(self, meeting_id: str, participant_id: str) -> Connection | None:
        return self._meetings.get(meeting_id, {}).get(participant_id)

    def participants(self, meeting_id: str) -> list[Connection]:
        return list(self._meetings.get(meeting_id, {}).values())

    def meetings(self) -> list[str]:
        return list(self._meetings)


Refusal = tuple[CloseCode, str]
"""Why a verified token may not join after all: the close code and its reason."""


class RoomHooks(Protocol):
    """What the room layer implements to receive signalling. Called from the connection's own task; a hook
    that raises ends that connection with 1011 (and is logged), never the edge."""

    async def admit(self, claims: JoinClaims) -> Refusal | None:
        """The token verified; may this participant join? Called before ``joined`` is sent, so a refusal (a
        removed participant's still-valid token, an ended meeting) is the only answer the client gets."""

    async def on_joined(self, conn: Connection, replaced: Connection | None) -> None:
        """``conn`` joined (after ``joined`` was sent). ``replaced`` is the participant's previous connection,
        already closed with 4409: move its media state over rather than treating this as a new arrival (if the
        room never saw ``replaced`` - it was itself replaced before joining - treat it as None)."""

    async def on_message(self, conn: Connection, msg: Offer | Answer | Candidate | VideoSize) -> None: ...

    async def on_left(self, conn: Connection) -> None:
        """``conn`` is gone (leave or disconnect). Not called for a connection that was replaced."""


class NoMedia:
    """The hooks until rooms exist: the session works, media negotiation is refused with an ``error``."""

    async def admit(self, claims: JoinClaims) -> Refusal | None:
        return None

    async def on_joined(self, conn: Connection, replaced: Connection | None) -> None:
        return None

    async def on_message(self, conn: Connection, msg: Offer | Answer | Candidate | VideoSize) -> None:
        await conn.send(bad_input(f"{msg.TYPE!r} is not supported yet: this edge does not forward media"))

    async def on_left(self, conn: Connection) -> None:
        return None


class JoinKeyUnavailableError(Exception):
    """The API's public key could not be loaded yet (API unreachable); the client should retry later."""


class JoinKeySource:
    """The verifier, built from ``EDGE_JOIN_KEY_FILE`` or fetched from ``EDGE_JOIN_KEY_URL`` (once, then cached).

    The edge may start before the API (``just up`` starts both), so a failed fetch is retried on a later join
    rather than failing startup."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._verifier: JoinTokenVerifier | None = None
        self._lock = asyncio.Lock()
        self._last_attempt = float("-inf")

    async def verifier(self) -> JoinTokenVerifier:
        if self._verifier is not None:
            return self._verifier
        async with self._lock:
            if self._verifier is not None:
                return self._verifier
            loop = asyncio.get_running_loop()
            if loop.time() - self._last_attempt < KEY_RETRY_INTERVAL_S:
                raise JoinKeyUnavailableError("join-token key not loaded yet; retry shortly")
            self._last_attempt = loop.time()
            try:
                pem = await asyncio.to_thread(self._read_pem)
                self._verifier = JoinTokenVerifier(pem, leeway_s=self._settings.token_leeway_s)
            except (JoinKeyUnavailableError, JoinKeyError) as exc:
                log.warning("refusing joins until the join-token key loads: %s", exc)
                raise
            return self._verifier

    def _read_pem(self) -> bytes:
        s = self._settings
        if s.join_key_file is not None:
            # A configured file that cannot be read is a deployment mistake, not a transient failure.
            return s.join_key_file.read_bytes()
        try:
            with urllib.request.urlopen(s.join_key_url, timeout=s.join_key_fetch_timeout_s) as resp:
                data: bytes = resp.read()
        except OSError as exc:  # URLError, timeouts and refused connections are all OSError
            raise JoinKeyUnavailableError(f"cannot fetch join-token key from {s.join_key_url}: {exc}") from exc
        return data


class SignallingServer:
    """What all connections share (registry, key, hooks); :meth:`serve` runs one connection from accept to close."""

    def __init__(self, settings: Settings, hooks: RoomHooks | None = None) -> None:
        self.settings = settings
        self.registry = Registry()
        self.hooks: RoomHooks = hooks or NoMedia()
        self.keys = JoinKeySource(settings)

    async def serve(self, socket: WebSocket[Any, Any, Any]) -> None:
        conn: Connection | None = None
        try:
            await socket.accept()
            claims = await self._await_join(socket)
            if claims is None:
                return
            # Before `joined` and before it may replace anyone: a refused token must not look admitted, even
            # for a moment, nor close the participant's current connection.
            refusal = await self.hooks.admit(claims)
            if refusal is not None:
                await _close(socket, *refusal)
                return
            conn = Connection(socket, claims)
            replaced = self.registry.add(conn)
            if replaced is not None:
                await replaced.close(CloseCode.REPLACED, "replaced by a newer connection for this participant")
            await conn.send(
                Joined(
                    participant_id=claims.participant_id,
                    meeting_id=claims.meeting_id,
                    role=claims.role,
                    publish=tuple(k.value for k in claims.publish),
                )
            )
            if conn.closed:
                # Replaced (or gone) while we were closing its predecessor: the room never hears of it. The newer
                # connection's on_joined may name it as `replaced`; rooms treat an unknown one like None.
                return
            log.debug("participant %s joined meeting %s", claims.participant_id, claims.meeting_id)
            await self.hooks.on_joined(conn, replaced)
            await self._session(conn)
        except WebSocketDisconnect:
            pass
        except Exception:
            # The task boundary: one connection's failure is logged with its ids and ends only that connection.
            who = f"participant {conn.participant_id} in meeting {conn.meeting_id}" if conn else "unjoined socket"
            log.exception("signalling failed for %s", who)
            if conn is not None:
                await conn.close(CloseCode.INTERNAL, "internal edge error; it has been logged")
            else:
                await _close(socket, CloseCode.INTERNAL, "internal edge error; it has been logged")
        finally:
            if conn is not None:
                conn.closed = True
                if self.registry.remove(conn):
                    await self.hooks.on_left(conn)
                log.debug("participant %s left meeting %s", conn.participant_id, conn.meeting_id)

    async def _await_join(self, socket: WebSocket[Any, Any, Any]) -> JoinClaims | None:
        """The verified claims, or None after closing the socket (timeout, bad token, no key)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.join_timeout_s

        async def reply(msg: EdgeMessage) -> None:
            # No lock needed: no other task knows this socket before it joins.
            await _send(socket, msg)

        while True:
            remaining = deadline - loop.time()
            try:
                if remaining <= 0:
                    raise TimeoutError
                text = await asyncio.wait_for(_receive_text(socket), remaining)
            except TimeoutError:
                await _close(socket, CloseCode.JOIN_TIMEOUT, f"no join within {self.settings.join_timeout_s:g} s")
                return None
            msg = await self._parse(reply, text)
            if msg is None:
                continue
            if not isinstance(msg, Join):
                # The deadline keeps running: chatter cannot keep an unauthenticated socket open.
                await reply(bad_input(f"send 'join' first (got {msg.TYPE!r})"))
                continue
            try:
                verifier = await self.keys.verifier()
            except (JoinKeyUnavailableError, JoinKeyError):
                # Logged once per failed fetch by JoinKeySource, not once per refused client.
                await _close(socket, CloseCode.TRY_AGAIN_LATER, "edge cannot verify join tokens yet; retry")
                return None
            try:
                return verifier.verify(msg.token)
            except JoinTokenError as exc:
                await _close(socket, CloseCode.UNAUTHENTICATED, str(exc))
                return None

    async def _session(self, conn: Connection) -> None:
        while not conn.closed:
            text = await _receive_text(conn.socket)
            msg = await self._parse(conn.send, text)
            if msg is None:
                continue
            if isinstance(msg, Leave):
                await conn.close(CloseCode.NORMAL, "left")
                return
            if isinstance(msg, Join):
                await conn.send(Error(code=ErrorCode.CONFLICT.value, message="already joined on this connection"))
                continue
            await self.hooks.on_message(conn, msg)

    @staticmethod
    async def _parse(reply: Callable[[EdgeMessage], Awaitable[object]], text: str | None) -> ClientMessage | None:
        """The message in ``text``, or None after answering ``error`` (the caller reads the next frame)."""
        if text is None:
            await reply(bad_input("binary frames are not accepted; send JSON text"))
            return None
        try:
            return parse_client_message(text)
        except SignallingMessageError as exc:
            await reply(bad_input(str(exc)))
            return None


async def _receive_text(socket: WebSocket[Any, Any, Any]) -> str | None:
    """The next text frame, None for a binary one; raises WebSocketDisconnect when the peer is gone."""
    event: Any = await socket.receive()
    if event["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(detail="disconnect event", code=event.get("code", 1000))
    text = event.get("text")
    return text if isinstance(text, str) else None


def create_app(
    settings: Settings | None = None,
    hooks: RoomHooks | None = None,
    control: ControlFeed | None = None,
    on_start: Callable[[SignallingServer], Awaitable[None]] | None = None,
    relay_stats: Callable[[], dict[str, Any]] | None = None,
) -> Litestar:
    """The edge's ASGI app; production (``python -m edge``) and tests build it here. ``control`` (the API's
    control feed) runs for the app's lifetime; ``on_start`` runs before it connects (the relay endpoint opens
    there, so the edge's first registration carries its relay address)."""
    settings = settings or Settings.from_env()
    server = SignallingServer(settings, hooks)

    @websocket(SIGNAL_PATH)
    async def signal(socket: WebSocket[Any, Any, Any]) -> None:
        await server.serve(socket)

    @get("/healthz", media_type=MediaType.JSON)
    async def healthz() -> dict[str, Any]:
        feed = "off" if control is None else "connected" if control.connected.is_set() else "connecting"
        health = {"status": "ok", "meetings": len(server.registry.meetings()), "controlFeed": feed}
        if relay_stats is not None:
            health["relay"] = relay_stats()  # packets per track on each trunk (docs/relay.md)
        return health

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # Load the key early so the first join is fast; if the API is not up yet, the first join retries.
        with suppress(JoinKeyUnavailableError):  # logged by JoinKeySource
            await server.keys.verifier()
        if on_start is not None:
            await on_start(server)
        feed = asyncio.create_task(control.run(), name="control-feed") if control is not None else None
        try:
            yield
        finally:
            if feed is not None:
                feed.cancel()
                await asyncio.gather(feed, return_exceptions=True)
            close = getattr(hooks, "close", None)  # the rooms' tasks and child processes (live captions)
            if close is not None:
                await close()

    app = Litestar(route_handlers=[signal, healthz], lifespan=[lifespan])
    app.state.signalling = server
    return app
