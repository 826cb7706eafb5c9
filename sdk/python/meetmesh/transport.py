"""The SDK's only I/O: GraphQL over HTTP (httpx) and one graphql-transport-ws connection per subscription
(websockets). Everything above it works on decoded JSON."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Mapping
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from meetmesh.errors import TransportError, error_from

_ids = itertools.count(1)


class Transport:
    """POSTs operations to ``{base_url}/graphql`` with the bearer token, if any."""

    def __init__(self, base_url: str, token: str | None = None, http: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._own_http = http is None
        # Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them (a request sent on a
        # connection the server is closing fails with ReadError).
        self.http = http or httpx.AsyncClient(timeout=30, limits=httpx.Limits(keepalive_expiry=2.0))

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"} if self.token else {}

    async def execute(self, document: str, variables: Mapping[str, Any] | None = None) -> Any:
        """The operation's ``r`` field (every SDK document aliases its one root field to ``r``)."""
        try:
            res = await self.http.post(
                f"{self.base_url}/graphql",
                json={"query": document, "variables": dict(variables or {})},
                headers=self.headers(),
            )
        except httpx.HTTPError as exc:
            raise TransportError("UNREACHABLE", f"{type(exc).__name__}: {exc}") from exc
        try:
            body = res.json()
        except ValueError as exc:
            raise TransportError("BAD_RESPONSE", f"HTTP {res.status_code}: not JSON") from exc
        if not isinstance(body, dict):
            raise TransportError("BAD_RESPONSE", f"HTTP {res.status_code}: unexpected body")
        if body.get("errors"):
            raise error_from(body["errors"])
        if res.status_code >= 400 or not isinstance(body.get("data"), dict):
            # Non-GraphQL failures (e.g. 413) still carry a code in a JSON body.
            code = str(body.get("code") or f"HTTP_{res.status_code}")
            raise error_from([{"message": str(body.get("message", res.reason_phrase)), "extensions": {"code": code}}])
        return body["data"]["r"]

    def ws_url(self) -> str:
        return self.base_url.replace("http", "ws", 1) + "/graphql"


class SubscriptionSocket:
    """One graphql-transport-ws connection carrying one subscription. ``next()`` returns the next payload's
    ``r``, or None when the server completed it; GraphQL errors raise typed exceptions; a dropped connection
    raises ``ConnectionLost``."""

    def __init__(self, transport: Transport, document: str, variables: Mapping[str, Any]) -> None:
        self.transport = transport
        self.document = document
        self.variables = dict(variables)
        self.ws: ClientConnection | None = None
        self.id = str(next(_ids))

    async def open(self, timeout: float = 10) -> None:
        try:
            self.ws = await websockets.connect(
                self.transport.ws_url(),
                subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
                open_timeout=timeout,
            )
            init: dict[str, Any] = {"type": "connection_init"}
            if self.transport.token:
                init["payload"] = {"authorization": f"Bearer {self.transport.token}"}
            await self.ws.send(json.dumps(init))
            while True:
                ack = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
                if ack.get("type") == "ping":
                    await self.ws.send(json.dumps({"type": "pong"}))
                    continue
                break
            if ack.get("type") != "connection_ack":
                raise TransportError("BAD_RESPONSE", f"expected connection_ack, got {ack.get('type')}")
            await self.ws.send(
                json.dumps(
                    {
                        "id": self.id,
                        "type": "subscribe",
                        "payload": {"query": self.document, "variables": self.variables},
                    }
                )
            )
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            await self.close()
            raise ConnectionLost("UNREACHABLE", f"{type(exc).__name__}: {exc}") from exc

    async def next(self) -> Any:
        assert self.ws is not None, "open() first"
        while True:
            try:
                msg = json.loads(await self.ws.recv())
            except websockets.ConnectionClosed as exc:
                raise ConnectionLost("CONNECTION_LOST", str(exc)) from exc
            kind = msg.get("type")
            if kind == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
            elif kind == "next":
                payload = msg["payload"]
                if payload.get("errors"):
                    raise error_from(payload["errors"])
                return payload["data"]["r"]
            elif kind == "error":
                raise error_from(msg["payload"])
            elif kind == "complete":
                return None

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


class ConnectionLost(TransportError):
    """The subscription's connection dropped (or could not be opened); event streams reconnect by themselves."""
