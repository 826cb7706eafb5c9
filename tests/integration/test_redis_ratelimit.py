"""The Redis rate limiter: one limit shared by every process that uses the same Redis, with the same semantics
as the in-memory one (reserve before, refund after, growing delay)."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from api.ratelimit import Limit, RedisRateLimiter

REDIS_URL = "redis://127.0.0.1:6379/0"


async def test_two_limiters_share_one_count_and_the_window_slides() -> None:
    prefix = f"meetmesh-test-{secrets.token_hex(4)}"
    a, b = RedisRateLimiter(REDIS_URL, prefix), RedisRateLimiter(REDIS_URL, prefix)
    chat = Limit("chat", 5, 1.0)
    try:
        results = [await (a if i % 2 else b).reserve("p1", chat) for i in range(5)]
        assert all(r.granted for r in results)
        refused = await a.reserve("p1", chat)
        assert 0 < refused.wait <= 1.0 and not refused.token
        assert not (await b.reserve("p1", chat)).granted  # refused ones are not counted, but still refused
        assert (await b.reserve("p2", chat)).granted
        await asyncio.sleep(refused.wait + 0.05)
        assert (await b.reserve("p1", chat)).granted  # the window slid
        # Concurrent reservations from both never let more than the limit through.
        burst = Limit("burst", 7, 30)
        got = await asyncio.gather(*((a if i % 2 else b).reserve("k", burst) for i in range(40)))
        assert sum(1 for r in got if r.granted) == 7
        # A refund in one process frees the attempt for the other.
        await a.refund("k", burst, next(r for r in got if r.granted).token)
        assert (await b.reserve("k", burst)).granted
        assert not (await a.reserve("k", burst)).granted
    finally:
        await a.close()
        await b.close()


async def test_growing_delay_matches_the_memory_limiter() -> None:
    prefix = f"meetmesh-test-{secrets.token_hex(4)}"
    rl = RedisRateLimiter(REDIS_URL, prefix)
    lim = Limit("login", 2, 60, backoff_s=0.2)
    try:
        assert (await rl.reserve("acct", lim)).granted
        assert (await rl.reserve("acct", lim)).granted
        first = await rl.reserve("acct", lim)
        assert first.wait == pytest.approx(0.2, abs=0.05)
        await asyncio.sleep(first.wait + 0.02)
        assert (await rl.reserve("acct", lim)).granted
        second = await rl.reserve("acct", lim)
        assert second.wait == pytest.approx(0.4, abs=0.05)  # doubled
    finally:
        await rl.close()
