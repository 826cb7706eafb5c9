"""The ``deliver_webhook`` job: one signed HTTP POST to an account's endpoint, reported back as a ``SendResult``.

The job knows nothing of the outbox: the API (api/webhooks/dispatch.py) claims a due delivery, builds the signed
request and records what this returns, so a retry is the API's decision (durable, in the database) and this job
is the same whether it runs in the API's process (embedded) or on an arq worker. It never raises for an HTTP
failure: a refused address, a timeout or a 500 are results to log.

Safety (docs/webhooks.md): the host name is resolved first, every address it resolves to must pass the address
policy (``protocol.webhooks.refused_address``), and the request connects to the checked address (pinned: a DNS
answer changed since cannot redirect it); connect and read timeouts bound every attempt; the response body is
read up to ``max_response_bytes`` and the connection dropped after that.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from protocol.webhooks import SendRequest, SendResult, refused_address

USER_AGENT = "meetmesh-webhooks/1"


@dataclass(frozen=True, slots=True)
class Pinned:
    """Where an attempt connects: the checked address itself, so a DNS answer that changes after the check (DNS
    rebinding) cannot send the request elsewhere. The original host goes in ``Host`` and, for https, in the TLS
    server name (SNI and certificate verification: httpcore's ``sni_hostname`` extension)."""

    url: str
    host_header: str
    sni_hostname: str | None


async def destination(url: str, allowed: tuple[str, ...]) -> Pinned | str:
    """The pinned destination, or why the URL may not be used."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return f"not an http(s) URL: {url[:100]}"
    try:
        explicit_port = parts.port
    except ValueError:
        return f"bad port in {url[:100]}"
    port = explicit_port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"cannot resolve {host}: {exc}"
    if not infos:
        return f"cannot resolve {host}"
    for info in infos:
        why = refused_address(str(info[4][0]), allowed)
        if why is not None:
            return f"{host} resolves to {why}"
    ip = str(infos[0][4][0]).split("%", 1)[0]
    literal = f"[{ip}]" if ":" in ip else ip
    pinned = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
    display_host = f"[{host}]" if ":" in host else host
    host_header = f"{display_host}:{explicit_port}" if explicit_port else display_host
    named = not _is_ip(host)  # an IP literal is its own server name already
    return Pinned(pinned, host_header, host if parts.scheme == "https" and named else None)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


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

    dest = await destination(req.url, req.allowed_networks)
    if isinstance(dest, str):
        return SendResult(None, elapsed_ms(), error=f"refused: {dest}"[:300])
    # The read timeout bounds each read; the overall wait_for bounds a server trickling bytes to stay under it.
    try:
        status, body = await asyncio.wait_for(
            _post(client, req, dest), timeout=req.connect_timeout_s + req.read_timeout_s
        )
    except (TimeoutError, httpx.TimeoutException):
        return SendResult(None, elapsed_ms(), error="timed out")
    except httpx.HTTPError as exc:
        return SendResult(None, elapsed_ms(), error=f"{type(exc).__name__}: {exc}"[:300])
    return SendResult(status, elapsed_ms(), body=body)


async def _post(client: httpx.AsyncClient, req: SendRequest, dest: Pinned) -> tuple[int, str]:
    headers = {**req.headers, "user-agent": USER_AGENT, "host": dest.host_header}
    timeout = httpx.Timeout(req.read_timeout_s, connect=req.connect_timeout_s)
    extensions = {"sni_hostname": dest.sni_hostname} if dest.sni_hostname else None
    async with client.stream(
        "POST", dest.url, content=req.body.encode(), headers=headers, timeout=timeout, extensions=extensions
    ) as res:
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
