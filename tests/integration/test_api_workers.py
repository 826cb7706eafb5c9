"""Several API processes behind one port (``API_WORKERS``): refused without shared state, and, on PostgreSQL and
Redis, every process serves and a subscriber hears writes that other processes handled."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from testkit.server import REPO_ROOT, ApiProcess
from tests.support.gql import Client
from tests.support.scaled import api_workers, cpu_ticks, worker_pids
from tests.support.world import World

EVENTS = """subscription($m: ID!, $after: Int) { meetingEvents(meetingId: $m, afterSeq: $after) {
  seq type ... on ParticipantEvent { participant { displayName } } } }"""
LOBBY = "query($n: String!) { meetingLobby(number: $n) { title } }"


@pytest.mark.parametrize(
    "env",
    [
        {"API_WORKERS": "2"},  # embedded SQLite and the in-process bus
        {"API_WORKERS": "2", "REDIS_URL": "redis://127.0.0.1:6379/0"},  # still SQLite
        {"API_WORKERS": "3", "DATABASE_URL": "postgresql://postgres@127.0.0.1/x"},  # no Redis: events stay local
        {"API_WORKERS": "0"},
    ],
)
def test_several_processes_without_shared_state_are_refused_with_a_reason(env: dict[str, str]) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("API_") and k not in ("DATABASE_URL", "REDIS_URL")}
    done = subprocess.run(
        [sys.executable, "-m", "api"],
        cwd=REPO_ROOT,
        env={**clean, "API_PORT": "1", **env},
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert b"API_WORKERS" in done.stderr and b"Traceback" not in done.stderr


@pytest.fixture(scope="module")
def two_workers(pg_database: str) -> Iterator[ApiProcess]:
    with api_workers(pg_database, 2) as api:
        yield api


async def test_every_process_serves_and_events_cross_them(two_workers: ApiProcess) -> None:
    workers = worker_pids(two_workers.pid)
    assert len(workers) == 2
    before = {pid: cpu_ticks(pid) for pid in workers}
    # A connection each: the kernel spreads connections over the processes sharing the socket.
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_keepalive_connections=0)) as http:
        world = World(Client(two_workers.url, http))
        host = await world.user("Host")
        m = await world.meeting(host, maxParticipants=100)
        _, joined = await world.join(host, m)
        async with host.client.subscribe(EVENTS, m=m["id"], after=joined["eventSeq"]) as sub:
            names = [f"Worker guest {i}" for i in range(12)]
            for name in names:
                await world.join(None, m, name=name)
            heard: list[str] = []
            for _ in range(5 * len(names)):  # bounded: each join gives at least one event naming its guest
                ev = (await sub.next(timeout=10) or {})["meetingEvents"]
                name = (ev.get("participant") or {}).get("displayName")
                if name in names and name not in heard:
                    heard.append(name)
                if len(heard) == len(names):
                    break
            assert heard == names
        for _ in range(150):
            await world.anon(LOBBY, n=m["number"])
    after = {pid: cpu_ticks(pid) for pid in workers}
    assert all(after[pid] > before[pid] for pid in workers), (before, after)
