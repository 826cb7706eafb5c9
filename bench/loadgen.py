"""A bounded closed-loop load generator: ``concurrency`` workers each issue one request after another until the
phase's deadline passes or its request budget is spent. Latency is measured per request around the operation."""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Operation = Callable[[], Awaitable[None]]
"""One request; it raises on any bad answer (transport error, HTTP status, GraphQL errors, wrong data)."""

MAX_DISTINCT_ERRORS = 20


@dataclass(frozen=True, slots=True)
class LoadSpec:
    concurrency: int = 32
    duration_s: float = 6.0
    max_requests: int = 50_000
    warmup_s: float = 1.0
    warmup_max_requests: int = 2_000

    @property
    def total_max_requests(self) -> int:
        """Most operations a warm-up plus measurement can issue (for sizing fixtures)."""
        return self.max_requests + self.warmup_max_requests


@dataclass(slots=True)
class Outcome:
    latencies_s: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0

    @property
    def ok(self) -> int:
        return len(self.latencies_s)

    @property
    def failures(self) -> int:
        return sum(self.errors.values())

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def percentile_ms(self, pct: float) -> float:
        """Nearest-rank percentile of successful requests, in milliseconds."""
        if not self.latencies_s:
            return math.nan
        ordered = sorted(self.latencies_s)
        rank = max(1, math.ceil(pct / 100 * len(ordered)))
        return ordered[rank - 1] * 1000

    def record_error(self, exc: BaseException) -> None:
        key = f"{type(exc).__name__}: {exc}"[:300]
        # Bounded: messages that embed ids would otherwise grow this without limit.
        if key not in self.errors and len(self.errors) >= MAX_DISTINCT_ERRORS:
            key = "(further distinct errors)"
        self.errors[key] += 1


async def run_phase(op: Operation, *, concurrency: int, duration_s: float, max_requests: int) -> Outcome:
    loop = asyncio.get_running_loop()
    out = Outcome()
    budget = itertools.count()  # shared by the workers; single-threaded, so next() needs no lock
    start = loop.time()
    deadline = start + duration_s

    async def worker() -> None:
        while loop.time() < deadline and next(budget) < max_requests:
            t0 = time.perf_counter()
            try:
                await op()
            except Exception as exc:  # counted, reported after the phase; the bench then fails
                out.record_error(exc)
            else:
                out.latencies_s.append(time.perf_counter() - t0)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    # Includes the tail of requests still in flight at the deadline, so rps is not flattered.
    out.elapsed_s = loop.time() - start
    return out


async def measure(op: Operation, spec: LoadSpec) -> Outcome:
    """Warm up (connections, caches, SQLite pages), discard that, then measure one phase."""
    warm = await run_phase(
        op, concurrency=spec.concurrency, duration_s=spec.warmup_s, max_requests=spec.warmup_max_requests
    )
    measured = await run_phase(
        op, concurrency=spec.concurrency, duration_s=spec.duration_s, max_requests=spec.max_requests
    )
    measured.errors.update(warm.errors)  # a failure during warm-up still fails the bench
    return measured


class BenchFailed(Exception):
    pass


def check(name: str, out: Outcome) -> None:
    """Print one summary line for a measured phase; raise BenchFailed if any request failed or none completed."""
    print(
        f"  {name}: {out.ok} ok, {out.failures} failed in {out.elapsed_s:.1f} s: "
        f"{out.rps:.1f} req/s, p50 {out.percentile_ms(50):.1f} ms, p99 {out.percentile_ms(99):.1f} ms",
        flush=True,
    )
    if out.failures:
        details = "\n".join(f"    {count}x {msg}" for msg, count in out.errors.most_common())
        raise BenchFailed(f"{name}: {out.failures} request(s) failed:\n{details}")
    if out.ok == 0:
        raise BenchFailed(f"{name}: no request completed")
