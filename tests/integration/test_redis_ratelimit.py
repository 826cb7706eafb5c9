"""The Redis rate limiter: one limit shared by every process that uses the same Redis."""

from __future__ import annotations

import asyncio
import secrets

from api.ratelimit import RedisRateLimiter

REDIS_URL = "redis://127.0.0.1:6379/0"


async def test_two_limiters_share_one_count_and_the_window_slides() -> None:
    prefix = f"meetmesh-test-{secrets.token_hex(4)}"
    a, b = RedisRateLimiter(REDIS_URL, prefix), RedisRateLimiter(REDIS_URL, prefix)
    try:
        results = [await (a if i % 2 else b).take("chat", "p1", 5, 1.0) for i in range(5)]
        assert results == [0, 0, 0, 0, 0]
        wait = await a.take("chat", "p1", 5, 1.0)
        assert 0 < wait <= 1.0
        assert await b.take("chat", "p1", 5, 1.0) > 0  # refused ones are not counted, but still refused
        assert await b.take("chat", "p2", 5, 1.0) == 0
        await asyncio.sleep(wait + 0.05)
        assert await b.take("chat", "p1", 5, 1.0) == 0  # the window slid
        # Concurrent takes from both never let more than the limit through.
        burst = await asyncio.gather(*((a if i % 2 else b).take("burst", "k", 7, 30) for i in range(40)))
        assert sum(1 for w in burst if w == 0) == 7
        # blocked_for does not count; hit does.
        assert await a.blocked_for("passcode", "ip|m", 2, 60) == 0
        await a.hit("passcode", "ip|m", 60)
        await b.hit("passcode", "ip|m", 60)
        assert await b.blocked_for("passcode", "ip|m", 2, 60) > 0
    finally:
        await a.close()
        await b.close()
