"""``python -m bench.httpload``: a closed-loop HTTP/1.1 load generator in a process of its own.

The API benchmarks' httpx generator costs more CPU per request than the framework ceiling it is compared with and
shares the server's event loop budget on a 2-core machine, so it would flatten every ratio. This one sends
pre-built requests over keep-alive connections with asyncio streams (a few tens of microseconds each), checks each
answer (status 200, an expected fragment, no ``"errors"``), and reports its own CPU time so a reader can see
whether the generator was the bottleneck (``loadgen_cpu_cores``).

Input (stdin, JSON): ``{"host", "port", "requests": [str, ...], "expect": [str, ...], "concurrency",
"duration_s", "warmup_s", "max_requests"}``; output (stdout, JSON): ok, failed, errors, elapsed_s, rps,
p50_ms, p99_ms, cpu_s.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any

MAX_HEADER_BYTES = 16_384


class BadAnswer(Exception):
    pass


@dataclass(slots=True)
class Tally:
    latencies_s: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, exc: BaseException) -> None:
        key = f"{type(exc).__name__}: {exc}"[:200]
        if key in self.errors or len(self.errors) < 20:
            self.errors[key] = self.errors.get(key, 0) + 1
        else:
            self.errors["(further distinct errors)"] = self.errors.get("(further distinct errors)", 0) + 1


async def _answer(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > MAX_HEADER_BYTES:
        raise BadAnswer("header too long")
    status_line, _, rest = head.partition(b"\r\n")
    if status_line[9:12] != b"200":
        body = await reader.read(300)
        raise BadAnswer(f"{status_line.decode(errors='replace')}: {body.decode(errors='replace')}")
    length: int | None = None
    for line in rest.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length is None:
        raise BadAnswer("no content-length (chunked answers are not expected here)")
    return await reader.readexactly(length)


async def run_phase(spec: dict[str, Any], duration_s: float, max_requests: int) -> tuple[Tally, float]:
    loop = asyncio.get_running_loop()
    requests = [r.encode() for r in spec["requests"]]
    expect = [e.encode() for e in spec["expect"]]
    turn = itertools.count()
    budget = itertools.count()
    tally = Tally()
    start = loop.time()
    deadline = start + duration_s

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(spec["host"], spec["port"])
        try:
            while loop.time() < deadline and next(budget) < max_requests:
                k = next(turn) % len(requests)
                t0 = time.perf_counter()
                try:
                    writer.write(requests[k])
                    body = await _answer(reader)
                    if expect[k] not in body or b'"errors"' in body:
                        raise BadAnswer(body[:200].decode(errors="replace"))
                except (BadAnswer, ValueError) as exc:
                    tally.error(exc)
                    return  # the connection's framing may be lost: stop this worker, the error fails the run
                tally.latencies_s.append(time.perf_counter() - t0)
        finally:
            writer.close()

    results = await asyncio.gather(*(connection() for _ in range(spec["concurrency"])), return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            tally.error(r)
    return tally, loop.time() - start


def _pct(sorted_s: list[float], pct: float) -> float:
    if not sorted_s:
        return math.nan
    return sorted_s[max(1, math.ceil(pct / 100 * len(sorted_s))) - 1] * 1000


async def main_async(spec: dict[str, Any]) -> dict[str, Any]:
    warm, _ = await run_phase(spec, spec.get("warmup_s", 1.0), spec.get("max_requests", 100_000))
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    tally, elapsed = await run_phase(spec, spec["duration_s"], spec.get("max_requests", 100_000))
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    for k, v in warm.errors.items():  # a failure while warming up still fails the run
        tally.errors[k] = tally.errors.get(k, 0) + v
    ordered = sorted(tally.latencies_s)
    return {
        "ok": len(ordered),
        "warm_ok": len(warm.latencies_s),
        "failed": sum(tally.errors.values()),
        "errors": tally.errors,
        "elapsed_s": elapsed,
        "rps": len(ordered) / elapsed if elapsed > 0 else 0.0,
        "p50_ms": _pct(ordered, 50),
        "p99_ms": _pct(ordered, 99),
        "cpu_s": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
    }


def main() -> int:
    spec = json.load(sys.stdin)
    json.dump(asyncio.run(main_async(spec)), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
