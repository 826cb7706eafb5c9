"""How long the event loop was held while some work ran: a ticker sleeping 5 ms at a time, its worst overshoot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")
TICK_S = 0.005


async def loop_lag_while(work: Awaitable[T]) -> tuple[T, float]:
    """Await ``work``; return its result and the longest time (seconds) the loop could not run the ticker."""
    worst = 0.0
    done = asyncio.Event()

    async def tick() -> None:
        nonlocal worst
        while not done.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(TICK_S)
            worst = max(worst, time.perf_counter() - t0 - TICK_S)

    ticker = asyncio.create_task(tick())
    try:
        result = await work
    finally:
        done.set()
        await ticker
    return result, worst
