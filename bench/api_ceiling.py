"""Read queries against their framework ceiling, side by side in one run (issue 16).

Three servers run at once, each its own process as ``just up`` would start it: the framework ceiling
(``bench.ceiling_app``: same transport and validation, answers from a constant), the API on embedded SQLite, and
the API on PostgreSQL. A separate generator process (``bench.httpload``: pre-built keep-alive requests, its CPU
reported) drives each in turn, ROUNDS times interleaved, because this shared 2-core host drifts ~2x between
minutes: only ratios within a round are compared, and their median and spread are reported.

Per server: requests per second (closed loop, CONCURRENCY connections) and server CPU milliseconds per request
(from /proc, over the whole phase): the second does not depend on how much of a core the server got.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench import graphql
from bench.loadgen import BenchFailed
from testkit.postgres import throwaway_database
from testkit.server import ApiProcess, running_api

ROUNDS = 3
CONCURRENCY = 32
DURATION_S = 4.0
WARMUP_S = 1.0
MAX_REQUESTS = 40_000
MEETINGS = 20
GENERATOR_TIMEOUT_S = 60.0
REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True, slots=True)
class Phase:
    rps: float
    p99_ms: float
    server_cpu_ms_per_request: float
    loadgen_cpu_cores: float


def _cpu_s(pid: int) -> float:
    """CPU seconds of a server process and of the processes it started (API_WORKERS' children)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime (proc(5))
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += _cpu_s(int(child))
    return total


def _post(host: str, path: str, body: dict[str, Any], token: str | None) -> str:
    payload = json.dumps(body, separators=(",", ":"))
    auth = f"authorization: Bearer {token}\r\n" if token else ""
    return (
        f"POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n{auth}"
        f"content-length: {len(payload.encode())}\r\n\r\n{payload}"
    )


def _drive(server: ApiProcess, requests: list[str], expect: list[str]) -> Phase:
    url = urlsplit(server.url)
    spec = {
        "host": url.hostname,
        "port": url.port,
        "requests": requests,
        "expect": expect,
        "concurrency": CONCURRENCY,
        "duration_s": DURATION_S,
        "warmup_s": WARMUP_S,
        "max_requests": MAX_REQUESTS,
    }
    cpu0 = _cpu_s(server.pid)
    done = subprocess.run(
        [sys.executable, "-m", "bench.httpload"],
        input=json.dumps(spec).encode(),
        capture_output=True,
        timeout=GENERATOR_TIMEOUT_S,
        check=True,
    )
    cpu1 = _cpu_s(server.pid)
    out = json.loads(done.stdout)
    if out["failed"] or not out["ok"]:
        raise BenchFailed(f"{server.url}: {out['failed']} failed, {out['ok']} ok: {out['errors']}")
    total = out["ok"] + out["warm_ok"]
    return Phase(
        rps=out["rps"],
        p99_ms=out["p99_ms"],
        server_cpu_ms_per_request=(cpu1 - cpu0) * 1000 / total,
        loadgen_cpu_cores=out["cpu_s"] / out["elapsed_s"],
    )


async def _fixture(server: ApiProcess) -> tuple[list[str], list[str]]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10, trust_env=False) as http:
        fx = await graphql.set_up(http, MEETINGS)
    host = urlsplit(server.url).netloc
    requests = [
        _post(host, "/graphql", {"query": graphql.MEETING, "variables": {"id": m.id}}, fx.host_token)
        for m in fx.meetings
    ]
    return requests, [f'"id":"{m.id}"' for m in fx.meetings]


def _ceiling_requests(server: ApiProcess) -> tuple[list[str], list[str]]:
    host = urlsplit(server.url).netloc
    ids = [f"ceiling-{n}" for n in range(MEETINGS)]
    requests = [_post(host, "/graphql", {"query": graphql.MEETING, "variables": {"id": i}}, "x" * 200) for i in ids]
    return requests, [f'"id":"{i}"' for i in ids]


def _plain_requests(server: ApiProcess) -> tuple[list[str], list[str]]:
    host = urlsplit(server.url).netloc
    return [f"GET /plain HTTP/1.1\r\nhost: {host}\r\n\r\n"], ['"title":"Ceiling meeting"']


@contextmanager
def _servers() -> Iterator[dict[str, ApiProcess]]:
    with ExitStack() as stack:
        pg_url = stack.enter_context(throwaway_database())
        pg2_url = stack.enter_context(throwaway_database())
        two = {
            "DATABASE_URL": pg2_url,
            "REDIS_URL": REDIS_URL,
            "API_REDIS_PREFIX": f"meetmesh-bench-{secrets.token_hex(4)}",
            "API_WORKERS": "2",
        }
        yield {
            "ceiling": stack.enter_context(running_api("meetmesh-ceiling-", module="bench.ceiling_app")),
            "sqlite": stack.enter_context(running_api("meetmesh-bench-sqlite-")),
            "postgres": stack.enter_context(running_api("meetmesh-bench-pg-", extra_env={"DATABASE_URL": pg_url})),
            "postgres_2proc": stack.enter_context(
                running_api("meetmesh-bench-pg2-", extra_env=two, startup_timeout_s=90.0)
            ),
        }


def _spread(values: list[float], digits: int) -> list[float]:
    return [round(min(values), digits), round(max(values), digits)]


def run() -> dict[str, Any]:
    phases: dict[str, list[Phase]] = {"plain": [], "ceiling": [], "sqlite": [], "postgres": [], "postgres_2proc": []}
    with _servers() as servers:
        work = {
            "plain": (servers["ceiling"], _plain_requests(servers["ceiling"])),
            "ceiling": (servers["ceiling"], _ceiling_requests(servers["ceiling"])),
            "sqlite": (servers["sqlite"], asyncio.run(_fixture(servers["sqlite"]))),
            "postgres": (servers["postgres"], asyncio.run(_fixture(servers["postgres"]))),
            "postgres_2proc": (servers["postgres_2proc"], asyncio.run(_fixture(servers["postgres_2proc"]))),
        }
        for r in range(ROUNDS):
            for name, (server, (requests, expect)) in work.items():
                phase = _drive(server, requests, expect)
                phases[name].append(phase)
                print(
                    f"  round {r + 1} {name}: {phase.rps:.0f} req/s, p99 {phase.p99_ms:.1f} ms, "
                    f"server {phase.server_cpu_ms_per_request:.2f} CPU-ms/request, "
                    f"generator {phase.loadgen_cpu_cores:.2f} cores",
                    flush=True,
                )
    out: dict[str, Any] = {}
    for name, key in (
        ("plain", "litestar_plain_json"),
        ("ceiling", "graphql_ceiling"),
        ("sqlite", "graphql_meeting"),
        ("postgres", "graphql_meeting_postgres"),
        ("postgres_2proc", "graphql_meeting_postgres_2proc"),
    ):
        rps = [p.rps for p in phases[name]]
        cpu = [p.server_cpu_ms_per_request for p in phases[name]]
        out[f"{key}_rps"] = round(statistics.median(rps), 1)
        out[f"{key}_rps_spread"] = _spread(rps, 1)
        out[f"{key}_cpu_ms_per_request"] = round(statistics.median(cpu), 3)
    for name, suffix in (("sqlite", ""), ("postgres", "_postgres")):
        ratios = [ours.rps / top.rps for ours, top in zip(phases[name], phases["ceiling"], strict=True)]
        cpu_ratios = [
            top.server_cpu_ms_per_request / ours.server_cpu_ms_per_request
            for ours, top in zip(phases[name], phases["ceiling"], strict=True)
        ]
        out[f"graphql_ceiling_ratio{suffix}"] = round(statistics.median(ratios), 3)
        out[f"graphql_ceiling_ratio{suffix}_spread"] = _spread(ratios, 3)
        out[f"graphql_ceiling_cpu_ratio{suffix}"] = round(statistics.median(cpu_ratios), 3)
    scale = [two.rps / one.rps for two, one in zip(phases["postgres_2proc"], phases["postgres"], strict=True)]
    out["api_scaleout_2proc_ratio"] = round(statistics.median(scale), 3)
    out["api_scaleout_2proc_ratio_spread"] = _spread(scale, 3)
    out["loadgen_cpu_cores"] = round(max(p.loadgen_cpu_cores for ps in phases.values() for p in ps), 2)
    out["graphql_ceiling_source"] = (
        f"bench/api_ceiling.py: {ROUNDS} interleaved rounds, closed loop, {CONCURRENCY} keep-alive connections "
        f"from a separate generator process (bench/httpload.py), {WARMUP_S:g} s warm-up + {DURATION_S:g} s each; "
        "meeting(id) as its host with a bearer token (ours) vs the same document against bench/ceiling_app.py "
        "(same transport and validation, constant answer); ratio = ours / ceiling per round, median and spread; "
        "cpu_ratio = ceiling CPU-ms per request / ours; api_scaleout_2proc_ratio = API_WORKERS=2 on PostgreSQL + "
        "Redis / one process on PostgreSQL, per round (on 2 cores the generator and Redis take part of the second)."
    )
    return out
