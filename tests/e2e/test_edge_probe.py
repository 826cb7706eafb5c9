"""The SDK's nearest-edge measurement (web/sdk/room.js ``probeEdges``) in real Chromium with real fetches on
loopback: a quick edge is timed, one that answers too late and one that refuses the connection are left out,
all within the ~1 s budget; no edges (or the query failing) means no measurements and no delay."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import RunningServer, make_settings
from tests.e2e.browser_support import chromium

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    srv = RunningServer(make_settings(tmp_path))
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


async def _probe_target() -> tuple[asyncio.Server, int]:
    """An HTTP/1.1 server on loopback: /fast answers at once, /slow after 3 s (past the budget)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = await reader.readline()
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        if b"/slow" in line:
            await asyncio.sleep(3)
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    return srv, srv.sockets[0].getsockname()[1]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_probe_edges_times_the_reachable_within_the_budget(server: RunningServer) -> None:
    target, port = await _probe_target()
    dead = _closed_port()
    try:
        async with chromium() as browser:
            page = await browser.new_page()
            await page.goto(f"{server.url}/web/meeting.html")
            edges = [
                {"id": "fast", "region": "here", "probeUrl": f"http://127.0.0.1:{port}/fast"},
                {"id": "slow", "region": "far", "probeUrl": f"http://127.0.0.1:{port}/slow"},
                {"id": "dead", "region": "gone", "probeUrl": f"http://127.0.0.1:{dead}/"},
            ]
            started = time.monotonic()
            result = await page.evaluate(
                """async (edges) => {
                  const { probeEdges } = await import('/web/sdk/room.js');
                  const t0 = performance.now();
                  const rtts = await probeEdges({ request: async () => ({ mediaEdges: edges }) });
                  const none = await probeEdges({ request: async () => ({ mediaEdges: [] }) });
                  const failing = await probeEdges({ request: async () => { throw new Error('offline'); } });
                  return { rtts, none, failing, ms: performance.now() - t0 };
                }""",
                edges,
            )
            assert time.monotonic() - started < 5
    finally:
        target.close()
        await target.wait_closed()
    assert [r["edgeId"] for r in result["rtts"]] == ["fast"], result
    assert 0 < result["rtts"][0]["rttMs"] < 1000
    assert result["none"] == [] and result["failing"] == []
    assert result["ms"] < 1500, result  # bounded by the budget, not by the slow edge's 3 s
