"""The ``deliver_webhook`` job: one signed HTTP POST to an account's endpoint, reported back as a ``SendResult``.

The job knows nothing of the outbox: the API (api/webhooks/dispatch.py) claims a due delivery, builds the signed
request and records what this returns, so a retry is the API's decision (durable, in the database) and this job
is the same whether it runs in the API's process (embedded) or on an arq worker. It never raises for an HTTP
failure: a refused address, a timeout or a 500 are results to log.

Safety (docs/webhooks.md): the host name is resolved first and every address it resolves to must pass the
address policy (``protocol.webhooks.refused_address``); connect and read timeouts bound every attempt; the
response body is read up to ``max_response_bytes`` and the connection dropped after that.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from protocol.webhooks import SendRequest, SendResult, refused_address

USER_AGENT = "meetmesh-webhooks/1"


async def _check_destination(url: str, allowed: tuple[str, ...]) -> str | None:
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return f"not an http(s) URL: {url[:100]}"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"cannot resolve {host}: {exc}"
    for info in infos:
        why = refused_address(str(info[4][0]), allowed)
        if why is not None:
            return f"{host} resolves to {why}"
    return None


def new_client() -> httpx.AsyncClient:
    """One client per process, reused: building one loads the CA bundle into an SSL context (measured ~80 ms of
    CPU on a loaded 2-core box), which per attempt capped delivery at ~10 per second. Timeouts are per request."""
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0),
    )


async def send(req: SendRequest, client: httpx.AsyncClient) -> SendResult:
    started = time.perf_counter()

    def elapsed_ms() -> float:
        return round((time.perf_counter() - started) * 1000, 2)

    refused = await _check_destination(req.url, req.allowed_networks)
    if refused is not None:
        return SendResult(None, elapsed_ms(), error=f"refused: {refused}"[:300])
    # The read timeout bounds each read; the overall wait_for bounds a server trickling bytes to stay under it.
    try:
        status, body = await asyncio.wait_for(_post(client, req), timeout=req.connect_timeout_s + req.read_timeout_s)
    except (TimeoutError, httpx.TimeoutException):
        return SendResult(None, elapsed_ms(), error="timed out")
    except httpx.HTTPError as exc:
        return SendResult(None, elapsed_ms(), error=f"{type(exc).__name__}: {exc}"[:300])
    return SendResult(status, elapsed_ms(), body=body)


async def _post(client: httpx.AsyncClient, req: SendRequest) -> tuple[int, str]:
    headers = {**req.headers, "user-agent": USER_AGENT}
    timeout = httpx.Timeout(req.read_timeout_s, connect=req.connect_timeout_s)
    async with client.stream("POST", req.url, content=req.body.encode(), headers=headers, timeout=timeout) as res:
        buf = bytearray()
        async for chunk in res.aiter_raw():
            buf += chunk
            if len(buf) >= req.max_response_bytes:
                break  # leaving the block closes the connection without reading the rest
        return res.status_code, bytes(buf[: req.max_response_bytes]).decode("utf-8", "replace")


async def deliver_webhook(ctx: dict[str, Any], request: dict[str, object]) -> dict[str, object]:
    """The arq job: a ``SendRequest`` as a dict in, a ``SendResult`` as a dict out (the worker's client is made
    at its first webhook and kept in ``ctx``)."""
    client = ctx.get("webhook_client")
    if client is None:
        client = ctx["webhook_client"] = new_client()
    return (await send(SendRequest.from_dict(request), client)).to_dict()
