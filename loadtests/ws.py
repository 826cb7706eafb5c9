"""A small synchronous graphql-transport-ws client for Locust users, on ``websocket-client``.

``websocket-client`` comes with Locust (through ``python-socketio[client]``), and Locust monkey-patches the
standard library with gevent on import, so a blocking ``receive`` here only parks the calling greenlet: a
reader greenlet per user costs a socket and a little memory, not a thread. One connection carries one
subscription, as in ``tests/support/gql.py``. Every wait has a timeout; nothing here loops without a deadline.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

import websocket

PROTOCOL = "graphql-transport-ws"
SUBSCRIPTION_ID = "1"

# What the connection can raise: websocket-client's own errors (closed, timeout, bad handshake...) and the
# socket's (connection refused or reset).
TransportError = (websocket.WebSocketException, OSError)


class ProtocolError(Exception):
    """The server answered something graphql-transport-ws does not allow at this point."""


def ws_url(http_url: str, path: str = "/graphql") -> str:
    """``http://host:port`` → ``ws://host:port/graphql`` (``https`` → ``wss``)."""
    return "ws" + http_url.rstrip("/").removeprefix("http") + path


class GraphQLWebSocket:
    """One graphql-transport-ws connection: ``connect`` (init + ack), ``subscribe`` once, then ``receive``."""

    def __init__(self, ws: websocket.WebSocket) -> None:
        self._ws = ws

    @classmethod
    def connect(cls, url: str, token: str | None, timeout_s: float) -> GraphQLWebSocket:
        """Open the socket and complete ``connection_init`` → ``connection_ack`` within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        host = urlsplit(url).hostname or ""
        ws = websocket.create_connection(
            url,
            timeout=timeout_s,
            subprotocols=[PROTOCOL],
            suppress_origin=True,  # a non-browser client, like the SDK's server-side users: no Origin to check
            http_no_proxy=[host],  # never through a proxy from the environment: the target is on loopback
        )
        conn = cls(ws)
        try:
            init: dict[str, Any] = {"type": "connection_init"}
            if token:
                init["payload"] = {"authorization": f"Bearer {token}"}
            conn._send(init)
            while True:  # bounded by the deadline: each receive waits at most until it
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ProtocolError(f"no connection_ack within {timeout_s:g} s")
                msg = conn._receive_raw(remaining)
                if msg is None:
                    continue
                if msg.get("type") == "connection_ack":
                    return conn
                if msg.get("type") in ("ping", "pong"):
                    conn._answer_ping(msg)
                    continue
                raise ProtocolError(f"expected connection_ack, got {msg}")
        except BaseException:
            conn.close()
            raise

    def subscribe(self, query: str, variables: dict[str, Any]) -> None:
        self._send({"id": SUBSCRIPTION_ID, "type": "subscribe", "payload": {"query": query, "variables": variables}})

    def receive(self, timeout_s: float) -> dict[str, Any] | None:
        """The next ``next``, ``error`` or ``complete`` message, or None when nothing came within ``timeout_s``.

        Pings are answered (and pongs dropped) on the way; they count against the same timeout.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            msg = self._receive_raw(remaining)
            if msg is None:
                return None
            kind = msg.get("type")
            if kind in ("ping", "pong"):
                self._answer_ping(msg)
                continue
            if kind in ("next", "error", "complete"):
                return msg
            raise ProtocolError(f"unexpected message {msg}")

    def close(self) -> None:
        try:
            self._ws.close(timeout=1)
        except TransportError:
            pass  # already gone; closing is best effort

    def _answer_ping(self, msg: dict[str, Any]) -> None:
        if msg.get("type") == "ping":
            self._send({"type": "pong"})

    def _send(self, msg: dict[str, Any]) -> None:
        self._ws.send(json.dumps(msg))

    def _receive_raw(self, timeout_s: float) -> dict[str, Any] | None:
        self._ws.settimeout(timeout_s)
        try:
            frame = self._ws.recv()
        except websocket.WebSocketTimeoutException:
            return None
        if not frame:  # websocket-client returns "" for a close frame
            raise websocket.WebSocketConnectionClosedException("the server closed the connection")
        msg = json.loads(frame)
        if not isinstance(msg, dict):
            raise ProtocolError(f"not a message object: {frame[:200]!r}")
        return msg
