"""A receiver that answers with a huge body (issue 18): the sender reads at most ``webhook_max_response_bytes`` of
it, drops the connection, and neither errs nor holds the body in memory. Against a real socket server that
declares 1 GiB and streams until the connection is dropped: directly through ``workers.webhooks.send`` (memory
measured with tracemalloc) and end to end through a server's dispatcher with the cap from its settings."""

from __future__ import annotations

import asyncio
import json
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from protocol.webhooks import SendRequest
from tests.conftest import RunningServer
from tests.support.gql import Client, eventually
from tests.support.rest import Rest
from tests.support.webhooks import local_hooks_server
from tests.support.world import World
from workers.webhooks import new_client, send

pytestmark = pytest.mark.timeout(120)

DECLARED = 1024**3
"""What the receiver says its body is (Content-Length): 1 GiB, far more than a test could read and hold."""
CHUNK = b"x" * 65536
CAP = 1000


@dataclass
class HugeReceiver:
    """Echoes verification challenges; answers everything else 200 with a 1 GiB body, written until the peer
    goes away. ``written`` counts what it managed to send per answer."""

    server: asyncio.Server
    written: list[int]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"


async def _handle(written: list[int], reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")),
            0,
        )
        payload = json.loads(await reader.readexactly(length))
        if payload["type"] == "endpoint.verification":
            answer = json.dumps({"challenge": payload["data"]["challenge"]}).encode()
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n")
            writer.write(b"content-length: %d\r\n\r\n%s" % (len(answer), answer))
            await writer.drain()
            return
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n")
        writer.write(b"content-length: %d\r\n\r\n" % DECLARED)
        written.append(0)
        while written[-1] < DECLARED:
            writer.write(CHUNK)
            await writer.drain()  # raises once the sender has dropped the connection
            written[-1] += len(CHUNK)
    except (ConnectionError, asyncio.IncompleteReadError):
        pass  # expected: the sender hangs up once it has read its cap
    finally:
        writer.close()


@pytest.fixture
async def huge() -> AsyncIterator[HugeReceiver]:
    written: list[int] = []
    server = await asyncio.start_server(lambda r, w: _handle(written, r, w), "127.0.0.1", 0)
    try:
        yield HugeReceiver(server, written)
    finally:
        server.close()
        await server.wait_closed()


async def test_send_reads_only_the_cap_of_a_huge_answer(huge: HugeReceiver) -> None:
    req = SendRequest(
        url=huge.url,
        headers={"content-type": "application/json"},
        body='{"type":"meeting.created","data":{}}',
        allowed_networks=("127.0.0.1/32",),
        read_timeout_s=10.0,
        max_response_bytes=CAP,
    )
    client = new_client()
    try:
        tracemalloc.start()
        try:
            result = await asyncio.wait_for(send(req, client), timeout=30)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    finally:
        await client.aclose()
    assert (result.status_code, result.error, result.ok) == (200, None, True)
    assert result.body == "x" * CAP
    # Neither the sender nor this process held the body: a few chunks at most (the receiver's included).
    assert peak < 8 * 1024**2, peak
    await eventually(lambda: huge.written, timeout=10)
    # The connection was dropped early: the receiver never got to write more than socket buffers hold.
    assert huge.written[0] < 64 * 1024**2 < DECLARED, huge.written


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def capped_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    data_dir: Path = tmp_path_factory.mktemp(f"capped-{request.param}")
    async with local_hooks_server(request.param, data_dir, webhook_max_response_bytes=CAP) as srv:
        yield srv


async def test_the_dispatcher_applies_the_configured_cap(
    capped_server: RunningServer, http: httpx.AsyncClient, huge: HugeReceiver
) -> None:
    assert capped_server.settings.webhook_max_response_bytes == CAP
    world = World(Client(capped_server.url, http))
    owner = await world.user()
    rest = Rest(capped_server.url, http, owner.client.token)
    created = await rest.ok("POST", "/webhooks/endpoints", json={"url": huge.url, "event_types": ["meeting.created"]})
    endpoint_id = created["endpoint"]["id"]
    await world.meeting(owner)

    async def delivered() -> list[dict[str, object]]:
        page = await rest.ok("GET", f"/webhooks/endpoints/{endpoint_id}/deliveries", params={"status": "delivered"})
        return [d for d in page["items"] if d["event_type"] == "meeting.created"]

    [d] = await eventually(delivered, timeout=30, interval=0.1)
    assert d["last_status_code"] == 200 and d["last_error"] is None and len(d["attempt_log"]) == 1
    assert len(huge.written) == 1 and huge.written[0] < 64 * 1024**2 < DECLARED, huge.written
