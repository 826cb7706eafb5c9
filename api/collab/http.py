"""The WebSocket of shared documents: ``/collab/{meetingId}/{doc}`` speaking y-protocols.

Authentication as on the GraphQL WebSocket, where a browser cannot set headers: the first frame is text,
``{"authorization": "Bearer <access or guest token>"}``; the server answers ``{"type": "ready", "writable": …,
"name": …}`` and from then on every frame is a binary y-protocols message. Refusals close the socket with
4400 BAD_INPUT, 4401 UNAUTHENTICATED, 4403 FORBIDDEN, 4404 NOT_FOUND, 4429 RATE_LIMITED (too many messages),
1009 (a message over ``collab_max_message_bytes``) or 1013 (too slow to keep up: reconnect); the reason starts
with the code. A read-only peer's updates are refused with y-protocols' auth message (permission denied) and not
applied; the connection stays open. Access is decided again while the socket lives (after
``collab_access_recheck_s`` for a writer that sends, three times that otherwise): someone removed is disconnected
(4403), someone whose right to edit changed gets ``{"type": "access", "writable": …}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from litestar import WebSocket, websocket
from litestar.datastructures import State
from litestar.exceptions import WebSocketDisconnect

from api.collab import access, names
from api.collab.hub import Peer
from api.collab.lock import Lock
from api.collab.service import CollabService, Outbox
from api.collab.wire import WireError
from api.errors import AppError
from api.graphql.token_bucket import TokenBucket
from api.services import Services
from protocol.errors import ErrorCode

log = logging.getLogger("meetmesh.collab")

PATH = "/collab/{meeting_id:str}/{doc:str}"
AUTH_TIMEOUT_S = 10.0
CLOSE_CODES = {
    ErrorCode.BAD_INPUT: 4400,
    ErrorCode.UNAUTHENTICATED: 4401,
    ErrorCode.FORBIDDEN: 4403,
    ErrorCode.NOT_FOUND: 4404,
    ErrorCode.MEETING_ENDED: 4403,
    ErrorCode.RATE_LIMITED: 4429,
}


class _Closed(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def _app_closed(exc: AppError) -> _Closed:
    return _Closed(CLOSE_CODES.get(exc.code, 4400), f"{exc.code.value}: {exc.message}"[:120])


async def _authenticate(socket: WebSocket[Any, Any, Any], svc: Services) -> Any:
    try:
        event: Any = await asyncio.wait_for(socket.receive(), AUTH_TIMEOUT_S)
    except TimeoutError:
        raise _Closed(4401, "UNAUTHENTICATED: send the authorization frame first") from None
    if event["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(detail="gone")
    text = event.get("text")
    try:
        body = json.loads(text) if isinstance(text, str) and len(text) < 8192 else None
    except ValueError:
        body = None
    raw = body.get("authorization") if isinstance(body, dict) else None
    if not isinstance(raw, str) or not raw.strip():
        raise _Closed(4401, 'UNAUTHENTICATED: the first frame must be {"authorization": "Bearer <token>"}')
    scheme, _, token = raw.partition(" ")
    token = token.strip() if scheme.lower() == "bearer" and token else raw.strip()
    return svc.creds.principal_from_bearer(token)


async def _writer(socket: WebSocket[Any, Any, Any], outbox: Outbox) -> None:
    while True:
        for data in await outbox.next_batch():
            if isinstance(data, str):
                await socket.send_text(data)
            else:
                await socket.send_bytes(data)


async def _control(
    socket: WebSocket[Any, Any, Any], hub: CollabService, key: tuple[str, str], peer: Peer, text: str
) -> None:
    """A text frame after ``ready``: ``{"type": "lock", "locked": true|false, "presenters": true|false}`` (hosts and
    co-hosts; ``presenters`` is optional: false locks the document for hosts only)."""
    try:
        msg = json.loads(text) if len(text) < 1024 else None
    except ValueError:
        msg = None
    if (
        not isinstance(msg, dict)
        or msg.get("type") != "lock"
        or not isinstance(msg.get("locked"), bool)
        or not isinstance(msg.get("presenters", False), bool)
    ):
        raise _Closed(4400, 'BAD_INPUT: a text frame is {"type": "lock", "locked": bool, "presenters": bool}')
    if not peer.host:
        refusal = {"type": "error", "code": "FORBIDDEN", "message": "only hosts and co-hosts may lock a document"}
        await socket.send_text(json.dumps(refusal))
        return
    await hub.set_lock(key, Lock(msg["locked"], msg.get("presenters", False)))


@websocket(PATH, include_in_schema=False)
async def collab_socket(socket: WebSocket[Any, Any, Any], state: State, meeting_id: str, doc: str) -> None:
    svc: Services = state.services
    hub: CollabService = state.collab
    await socket.accept()
    key: tuple[str, str] | None = None
    peer_id = hub.new_peer_id()
    writer: asyncio.Task[None] | None = None
    try:
        try:
            name = names.parse(doc)
            principal = await _authenticate(socket, svc)
            grant = await access.decide(svc, principal, meeting_id, name)
        except AppError as exc:
            raise _app_closed(exc) from None
        key = (meeting_id, str(name))
        peer = Peer(peer_id, grant.name, grant.writable, grant.host, grant.presenter)
        peer.participant_id = grant.participant_id
        outbox = Outbox()
        document = await hub.attach(key, peer, outbox)
        ready = {"type": "ready", "writable": grant.writable, "name": grant.name, "host": grant.host}
        lock = document.lock.notice()
        ready |= {"presenter": grant.presenter, "locked": lock["locked"], "presenters": lock["presenters"]}
        await socket.send_text(json.dumps(ready))
        writer = asyncio.create_task(_writer(socket, outbox), name=f"collab-writer-{peer_id}")
        s = svc.settings
        bucket = TokenBucket(s.collab_messages_per_s, s.collab_message_burst)
        overflow = asyncio.ensure_future(outbox.overflowed.wait())
        woken = hub.watch_access(meeting_id, grant.participant_id)
        changed: asyncio.Future[Any] | None = None
        receiving: asyncio.Future[Any] | None = None
        watch_s = 3 * s.collab_access_recheck_s  # a quiet or read-only connection: checked less often

        async def recheck() -> None:
            # Still in the meeting, still in that room? (Removed people, moved participants, a meeting that ended.)
            nonlocal grant
            try:
                fresh = await access.decide(svc, principal, meeting_id, name)
            except AppError as exc:
                raise _app_closed(exc) from None
            if (fresh.writable, fresh.presenter) != (grant.writable, grant.presenter):
                access_now = {"type": "access", "writable": fresh.writable, "presenter": fresh.presenter}
                await socket.send_text(json.dumps(access_now))
            grant = fresh
            peer.writable, peer.host, peer.presenter = fresh.writable, fresh.host, fresh.presenter

        try:
            while True:
                if receiving is None:
                    receiving = asyncio.ensure_future(socket.receive())
                if changed is None:
                    changed = asyncio.ensure_future(woken.wait())
                done, _ = await asyncio.wait(
                    {receiving, overflow, writer, changed}, timeout=watch_s, return_when=asyncio.FIRST_COMPLETED
                )
                if overflow in done:
                    raise _Closed(1013, "too slow: reconnect to resync")
                if writer in done:
                    return  # the writer ended: the socket is gone
                if changed in done:
                    woken.clear()
                    changed = None
                    await recheck()  # sharing, role, room or the meeting changed: decide now, not at the next check
                if receiving not in done:
                    if time.monotonic() - grant.checked_at >= watch_s:
                        await recheck()
                    continue
                event: Any = receiving.result()
                receiving = None
                if event["type"] == "websocket.disconnect":
                    return
                data = event.get("bytes")
                if isinstance(event.get("text"), str):
                    if not bucket.take(time.monotonic()):
                        raise _Closed(4429, "RATE_LIMITED: too many messages")
                    await recheck()  # locking is rare: decide on the current role
                    await _control(socket, hub, key, peer, event["text"])
                    continue
                if not isinstance(data, bytes):
                    raise _Closed(4400, "BAD_INPUT: after the authorization frame, send binary y-protocols messages")
                if len(data) > s.collab_max_message_bytes:
                    raise _Closed(1009, f"PAYLOAD_TOO_LARGE: at most {s.collab_max_message_bytes} bytes a message")
                if not bucket.take(time.monotonic()):
                    raise _Closed(4429, "RATE_LIMITED: too many messages")
                age = time.monotonic() - grant.checked_at
                if age > (s.collab_access_recheck_s if peer.writable else watch_s):
                    await recheck()
                try:
                    await hub.receive(key, peer_id, data)
                except WireError as exc:
                    raise _Closed(4400, f"BAD_INPUT: {exc}"[:120]) from None
        finally:
            overflow.cancel()
            hub.unwatch_access(meeting_id, grant.participant_id, woken)
            for pending in (receiving, changed):
                if pending is not None:
                    pending.cancel()
    except _Closed as closed:
        with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError):
            await socket.close(code=closed.code, reason=closed.reason)
    except (WebSocketDisconnect, OSError):
        pass
    except Exception:  # the connection's task boundary: log it with its ids, close without internals
        log.exception("collab socket %s/%s failed", meeting_id, doc[:60])
        with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError):
            await socket.close(code=1011, reason="INTERNAL: the error has been logged")
    finally:
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
        if key is not None:
            await hub.detach(key, peer_id)


ROUTES = [collab_socket]
