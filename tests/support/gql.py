"""A small GraphQL client for tests: HTTP queries and graphql-transport-ws subscriptions over real sockets."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

import httpx
import websockets


class GraphQLError(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{e.get('extensions', {}).get('code')}: {e['message']}" for e in errors))
        self.errors = errors
        self.code = errors[0].get("extensions", {}).get("code")
        self.field = errors[0].get("extensions", {}).get("field")


class Client:
    def __init__(self, base_url: str, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.base_url = base_url
        self.http = http
        self.token = token

    def with_token(self, token: str | None) -> Client:
        return Client(self.base_url, self.http, token)

    async def raw(self, query: str, **variables: Any) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        res = await self.http.post(
            f"{self.base_url}/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert res.status_code < 500, f"server error {res.status_code}: {res.text}"
        body: dict[str, Any] = res.json()
        return body

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        body = await self.raw(query, **variables)
        if body.get("errors"):
            raise GraphQLError(body["errors"])
        data: dict[str, Any] = body["data"]
        return data

    async def error(self, query: str, **variables: Any) -> GraphQLError:
        """Run an operation that must fail; return its error (code, message, field)."""
        body = await self.raw(query, **variables)
        assert body.get("errors"), f"expected an error, got {body}"
        for e in body["errors"]:
            assert "code" in e.get("extensions", {}), f"error without a code: {e}"
            assert "Traceback" not in e["message"]
        return GraphQLError(body["errors"])

    def subscribe(self, query: str, **variables: Any) -> Subscription:
        """One subscription on its own WebSocket."""
        return Subscription(self.base_url.replace("http", "ws", 1) + "/graphql", self.token, query, variables)


_ids = itertools.count(1)


class Subscription:
    """One graphql-transport-ws connection carrying one subscription."""

    def __init__(self, url: str, token: str | None, query: str, variables: dict[str, Any]) -> None:
        self.url, self.token, self.query, self.variables = url, token, query, variables
        self.ws: Any = None
        self.id = str(next(_ids))
        self.completed = False
        self.errors: list[dict[str, Any]] | None = None

    async def __aenter__(self) -> Subscription:
        self.ws = await websockets.connect(self.url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        init: dict[str, Any] = {"type": "connection_init"}
        if self.token:
            init["payload"] = {"authorization": f"Bearer {self.token}"}
        await self.ws.send(json.dumps(init))
        ack = json.loads(await asyncio.wait_for(self.ws.recv(), 5))
        assert ack["type"] == "connection_ack", ack
        await self.ws.send(
            json.dumps(
                {"id": self.id, "type": "subscribe", "payload": {"query": self.query, "variables": self.variables}}
            )
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()

    async def next(self, timeout: float = 5) -> dict[str, Any] | None:
        """The next payload's data; None once the server completed the subscription. Errors raise."""
        while True:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if msg["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
                continue
            if msg["type"] == "pong":
                continue
            if msg["type"] == "next":
                payload = msg["payload"]
                if payload.get("errors"):
                    raise GraphQLError(payload["errors"])
                data: dict[str, Any] = payload["data"]
                return data
            if msg["type"] == "error":
                raise GraphQLError(msg["payload"])
            if msg["type"] == "complete":
                self.completed = True
                return None
            raise AssertionError(f"unexpected message {msg}")

    async def collect_until(self, stop: Callable[[dict[str, Any]], bool], timeout: float = 5) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            item = await self.next(timeout)
            if item is None:
                return out
            out.append(item)
            if stop(item):
                return out

    async def silent_for(self, seconds: float) -> bool:
        """True if nothing arrives for ``seconds``."""
        try:
            msg = await asyncio.wait_for(self.ws.recv(), seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"expected silence, got {msg}")


async def eventually(predicate: Callable[[], Any], timeout: float = 5, interval: float = 0.05) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


class Connection:
    """One raw graphql-transport-ws connection carrying any number of operations, for protocol-level tests:
    send any message (or raw text), read messages as they come, see the close code."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.url = base_url.replace("http", "ws", 1) + "/graphql"
        self.token = token
        self.ws: Any = None

    async def __aenter__(self) -> Connection:
        self.ws = await websockets.connect(self.url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        init: dict[str, Any] = {"type": "connection_init"}
        if self.token:
            init["payload"] = {"authorization": f"Bearer {self.token}"}
        await self.send(init)
        ack = await self.recv()
        assert ack["type"] == "connection_ack", ack
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def subscribe(self, op_id: str, query: str, **variables: Any) -> None:
        await self.send({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})

    async def recv(self, timeout: float = 10) -> dict[str, Any]:
        """The next message other than the server's keep-alive pings (answered)."""
        while True:
            msg: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if msg.get("type") == "ping":
                await self.send({"type": "pong"})
                continue
            return msg

    async def closed_with(self, timeout: float = 5) -> tuple[int | None, str]:
        """Read until the server closes the connection; its close code and reason."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError("the server did not close the connection")
            try:
                await asyncio.wait_for(self.ws.recv(), left)
            except websockets.ConnectionClosed as closed:
                rcvd = closed.rcvd
                return (rcvd.code, rcvd.reason) if rcvd is not None else (None, "")
