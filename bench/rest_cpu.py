"""Server CPU per request of the same meeting read through three doors, interleaved in rounds against one API
process (embedded SQLite): GraphQL ``meeting(id)`` with the host's access token, ``GET /api/v1/meetings/{id}``
with API keys and with the access token. CPU seconds come from /proc over each phase, so the figure does not
depend on how much of a core the server got on a busy host (req/s does: see ``rest_meeting_get_rps``).

``python -m bench --only rest_cpu`` (about 30 s).
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Awaitable, Callable

import httpx

from bench import graphql
from bench.api_ceiling import _cpu_s
from bench.loadgen import BenchFailed
from testkit.server import running_api

ROUNDS = 3
REQUESTS = 600
WARMUP = 200
CONCURRENCY = 8

Op = Callable[[int], Awaitable[None]]


async def _drive(op: Op, n: int) -> None:
    todo = iter(range(n))

    async def worker() -> None:
        for i in todo:
            await op(i)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


async def _measure(base_url: str, pid: int) -> dict[str, list[float]]:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30, trust_env=False) as http:
        fx = await graphql.set_up(http, 5)

        async def gql(i: int) -> None:
            ref = fx.meetings[i % len(fx.meetings)]
            data = await graphql.gql(http, graphql.MEETING, {"id": ref.id}, fx.host_token)
            if data["meeting"]["id"] != ref.id:
                raise BenchFailed(f"meeting(id) answered {data['meeting']['id']} for {ref.id}")

        def rest(token_of: Callable[[int], str]) -> Op:
            async def op(i: int) -> None:
                ref = fx.meetings[i % len(fx.meetings)]
                res = await http.get(f"/api/v1/meetings/{ref.id}", headers={"authorization": f"Bearer {token_of(i)}"})
                if res.status_code != 200 or res.json()["id"] != ref.id:
                    raise BenchFailed(f"GET /api/v1/meetings/{ref.id}: {res.status_code} {res.text[:200]}")

            return op

        doors: dict[str, Op] = {
            "graphql": gql,
            "rest_key": rest(lambda i: fx.api_keys[i % len(fx.api_keys)]),
            "rest_session": rest(lambda i: fx.host_token),
        }
        for op in doors.values():
            await _drive(op, WARMUP)
        out: dict[str, list[float]] = {name: [] for name in doors}
        for _ in range(ROUNDS):
            for name, op in doors.items():
                cpu0 = _cpu_s(pid)
                await _drive(op, REQUESTS)
                out[name].append((_cpu_s(pid) - cpu0) * 1000 / REQUESTS)
    return out


def run() -> dict[str, float | str]:
    with running_api() as api:
        per_door = asyncio.run(_measure(api.url, api.pid))
    med = {name: round(statistics.median(v), 3) for name, v in per_door.items()}
    return {
        "rest_meeting_get_cpu_ms_per_request": med["rest_key"],
        "rest_meeting_get_session_cpu_ms_per_request": med["rest_session"],
        "graphql_meeting_cpu_ms_per_request_same_run": med["graphql"],
        "rest_cpu_rounds": "; ".join(f"{name} {', '.join(f'{x:.2f}' for x in v)} ms" for name, v in per_door.items())
        + f" ({ROUNDS} interleaved rounds of {REQUESTS} requests, {CONCURRENCY} concurrent, one API process, SQLite)",
    }
