"""A stand-in edge on the API's control feed (``/internal/edge/feed``): connect with the secret, send, receive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

from websockets.asyncio.client import ClientConnection, connect

from protocol.media_control import FEED_PATH, ApiToEdge, parse_api_to_edge

T = TypeVar("T")


def feed_url(api_url: str) -> str:
    return api_url.replace("http", "ws", 1) + FEED_PATH


@asynccontextmanager
async def feed(api_url: str, secret: str | None) -> AsyncIterator[ClientConnection]:
    headers = {"Authorization": f"Bearer {secret}"} if secret is not None else {}
    async with connect(feed_url(api_url), additional_headers=headers) as ws:
        yield ws


async def recv(ws: ClientConnection, timeout: float = 5) -> ApiToEdge:
    return parse_api_to_edge(await asyncio.wait_for(ws.recv(), timeout))


async def recv_until(ws: ClientConnection, kind: type[T], timeout: float = 5) -> T:
    """The next message of ``kind``, skipping others (bounded by ``timeout`` overall)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        msg = await recv(ws, max(0.01, deadline - loop.time()))
        if isinstance(msg, kind):
            return msg


async def recv_until_any(ws: ClientConnection, kinds: tuple[type, ...], timeout: float = 10) -> ApiToEdge:
    """The next message of any of ``kinds``, skipping others (bounded by ``timeout`` overall)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        msg = await recv(ws, max(0.01, deadline - loop.time()))
        if isinstance(msg, kinds):
            return msg
