"""One whiteboard, a thousand people looking at it (issue 17: "the server must not be the bottleneck for 1,000 people
watching one board").

One ``python -m api`` process (embedded SQLite). The host draws; ``WATCHERS`` guests (the meeting's cap is 1,000
people, host included) each hold the board open on a plain WebSocket that authenticates, takes the initial sync
and then only reads (a browser tab that is not drawing): what one stroke costs the server to send to all of them.
Each watcher stamps the arrival of every message; stroke k is the k-th message after the initial sync (nothing
else is sent meanwhile: the host publishes no cursor).

- ``board_audience_stroke_p50_ms`` / ``_p95_ms`` / ``_max_ms``: host's send of a stroke (a 60-point Y.Map, one
  update) until each watcher has it, over all watchers and ``STROKES`` strokes spaced ``GAP_S`` apart;
- ``board_audience_server_cpu_ms_per_stroke``: the API process's CPU (utime+stime from /proc) over the stroke
  phase, per stroke delivered to every watcher; ``board_audience_deliveries_per_cpu_s`` the same as a rate;
- ``board_audience_cursor_server_cpu_cores``: the server's CPU (cores) while one person's cursor moves at
  ``CURSOR_HZ`` (awareness: a cursor, a stroke in flight or a laser pointer all travel so), and how many of those
  updates each watcher received per second (``board_audience_cursor_updates_per_s_per_watcher``);
- ``board_audience_client_cpu_cores``: this process (watchers and host) over the same phase: it shares the two
  cores, so a high figure here means the clients, not the server, bound the latency.
Bounded: a fixed number of joins, connections and strokes, each waited for at most ``WAIT_S``.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import secrets
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
from pycrdt import Array, Map
from websockets.asyncio.client import ClientConnection, connect

from bench.graphql import CREATE, SIGN_UP, gql
from bench.loadgen import BenchFailed
from testkit.collab_peer import CollabPeer
from testkit.server import running_api

WATCHERS = 999
STROKES = 20
GAP_S = 0.25
POINTS = 60
WAIT_S = 30.0
CURSOR_HZ = 30
CURSOR_S = 3.0
CONNECT_BATCH = 50
JOIN = "mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) { guestToken } }"


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def _pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Watcher:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.arrivals: list[float] = []
        self.ws: ClientConnection | None = None
        self.task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.ws = await connect(self.url, max_size=8 * 1024 * 1024)
        await self.ws.send(json.dumps({"authorization": f"Bearer {self.token}"}))
        ready = json.loads(await self.ws.recv())
        if ready.get("type") != "ready":
            raise BenchFailed(f"board_audience: a watcher was not let in: {ready}")
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if isinstance(message, bytes):
                self.arrivals.append(time.perf_counter())

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.ws is not None:
            await self.ws.close()


def _batches(watchers: list[Watcher]) -> list[list[Watcher]]:
    return [watchers[i : i + CONNECT_BATCH] for i in range(0, len(watchers), CONNECT_BATCH)]


async def _audience(base_url: str, n: int) -> tuple[dict[str, str], str, list[str]]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30, trust_env=False) as http:
        email = f"bench-audience-{secrets.token_hex(6)}@example.test"
        signed = await gql(http, SIGN_UP, {"i": {"email": email, "password": "bench password", "displayName": "Host"}})
        host = signed["signUp"]["accessToken"]
        settings = {"maxParticipants": 1000, "joinBeforeHost": True, "guestWaitingRoom": False}
        meeting = (await gql(http, CREATE, {"i": {"title": "Town hall", "passcode": "", "settings": settings}}, host))[
            "createMeeting"
        ]
        await gql(http, JOIN, {"i": {"number": meeting["number"]}}, host)  # the host is in the meeting too

        async def guest(k: int) -> str:
            joined = await gql(http, JOIN, {"i": {"number": meeting["number"], "displayName": f"Watcher {k}"}})
            return str(joined["joinMeeting"]["guestToken"])

        tokens: list[str] = []
        for start in range(0, n, CONNECT_BATCH):
            tokens += await asyncio.gather(*(guest(k) for k in range(start, min(n, start + CONNECT_BATCH))))
    return meeting, host, tokens


async def _run(base_url: str, pid: int, watchers_n: int) -> dict[str, Any]:
    meeting, host_token, tokens = await _audience(base_url, watchers_n)
    url = f"{base_url.replace('http', 'ws', 1)}/collab/{meeting['id']}/board:main"
    watchers = [Watcher(url, t) for t in tokens]
    async with CollabPeer(base_url, meeting["id"], "board:main", host_token) as host:
        try:
            for start in range(0, len(watchers), CONNECT_BATCH):
                await asyncio.wait_for(
                    asyncio.gather(*(w.open() for w in watchers[start : start + CONNECT_BATCH])), WAIT_S
                )
            await asyncio.sleep(1.0)  # the initial sync has arrived everywhere
            for w in watchers:
                w.arrivals.clear()
            shapes = host.doc.get("shapes", type=Array)
            sent: list[float] = []
            cpu0, own0, t0 = _cpu_s(pid), _own_cpu_s(), time.perf_counter()
            for k in range(STROKES):
                points = [[float(10 + 20 * i), float(100 + 5 * k + (i % 7)), 0.5] for i in range(POINTS)]
                sent.append(time.perf_counter())
                shapes.append(Map({"tool": "pen", "color": "#0969da", "size": 4.0, "points": points}))
                await asyncio.sleep(GAP_S)
            deadline = time.monotonic() + WAIT_S
            while any(len(w.arrivals) < STROKES for w in watchers):
                if time.monotonic() > deadline:
                    short = sum(len(w.arrivals) < STROKES for w in watchers)
                    raise BenchFailed(f"board_audience: {short} watchers lacked strokes after {WAIT_S:g} s")
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - t0
            cpu, own = _cpu_s(pid) - cpu0, _own_cpu_s() - own0
            latencies = [(w.arrivals[k] - sent[k]) * 1000 for w in watchers for k in range(STROKES)]
            # One person's cursor (or stroke in flight, or laser: all awareness) moving at CURSOR_HZ.
            for w in watchers:
                w.arrivals.clear()
            c0, tc = _cpu_s(pid), time.perf_counter()
            for k in range(int(CURSOR_S * CURSOR_HZ)):
                await host.set_cursor({"cursor": {"x": float(k), "y": 450.0}})
                await asyncio.sleep(1 / CURSOR_HZ)
            await asyncio.sleep(0.5)  # what is in flight arrives
            cursor_cpu, cursor_s = _cpu_s(pid) - c0, time.perf_counter() - tc
            cursor_rate = statistics.median(len(w.arrivals) for w in watchers) / CURSOR_S
        finally:
            for start in range(0, len(watchers), CONNECT_BATCH):
                await asyncio.gather(
                    *(w.close() for w in watchers[start : start + CONNECT_BATCH]), return_exceptions=True
                )
    deliveries = STROKES * len(watchers)
    return {
        "board_audience_watchers": len(watchers),
        "board_audience_stroke_p50_ms": round(statistics.median(latencies), 1),
        "board_audience_stroke_p95_ms": round(_pct(latencies, 95), 1),
        "board_audience_stroke_max_ms": round(max(latencies), 1),
        "board_audience_server_cpu_ms_per_stroke": round(cpu * 1000 / STROKES, 1),
        "board_audience_deliveries_per_cpu_s": round(deliveries / cpu) if cpu > 0 else 0,
        "board_audience_client_cpu_cores": round(own / elapsed, 2),
        "board_audience_cursor_server_cpu_cores": round(cursor_cpu / cursor_s, 2),
        "board_audience_cursor_updates_per_s_per_watcher": round(cursor_rate, 1),
        "board_audience_source": (
            f"bench/board_audience.py: one API process (SQLite), the host draws {STROKES} strokes of {POINTS} points "
            f"{GAP_S:g} s apart on board:main while {len(watchers)} guests hold it open on plain WebSockets (they "
            f"only read), then the host's cursor moves at {CURSOR_HZ} Hz for {CURSOR_S:g} s; "
            "latency = host's send -> each watcher's receipt; server CPU from /proc over the phase; "
            "clients in this process on the same 2 cores"
        ),
    }


def run(watchers: int = WATCHERS) -> dict[str, Any]:
    # Each watcher is a file descriptor in this process and in the server.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4 * watchers and hard >= 4 * watchers:
        resource.setrlimit(resource.RLIMIT_NOFILE, (4 * watchers, hard))
    with running_api("meetmesh-bench-audience-", startup_timeout_s=90.0) as api:
        out = asyncio.run(_run(api.url, api.pid, watchers))
    for key, value in out.items():
        if key != "board_audience_source":
            print(f"  {key} = {value}", flush=True)
    return out
