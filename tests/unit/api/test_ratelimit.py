"""Sliding windows with an explicit clock: no sleeping, every instant chosen by the test."""

from __future__ import annotations

import pytest

from api.ratelimit import Limit, MemoryRateLimiter, SlidingWindow, wait_for

FIVE_A_MINUTE = Limit("t", 5, 60)


def _take(w: SlidingWindow, key: str, lim: Limit, now: float) -> float:
    return w.reserve(key, lim, now).wait


def test_under_the_limit_every_attempt_is_granted_and_counted() -> None:
    w = SlidingWindow(60)
    assert [_take(w, "k", FIVE_A_MINUTE, float(t)) for t in range(5)] == [0, 0, 0, 0, 0]
    assert _take(w, "k", FIVE_A_MINUTE, 5.0) == pytest.approx(55.0)  # blocked until t=0 leaves the window


def test_a_refused_attempt_is_not_counted() -> None:
    w = SlidingWindow(10)
    lim = Limit("t", 1, 10)
    assert _take(w, "k", lim, 0.0) == 0
    for t in range(1, 10):
        assert _take(w, "k", lim, float(t)) > 0
    assert _take(w, "k", lim, 10.0) == 0  # only the t=0 attempt counted


def test_the_window_slides_rather_than_resetting() -> None:
    w = SlidingWindow(10)
    lim = Limit("t", 2, 10)
    assert _take(w, "k", lim, 0.0) == 0
    assert _take(w, "k", lim, 8.0) == 0
    assert _take(w, "k", lim, 9.0) == pytest.approx(1.0)
    assert _take(w, "k", lim, 10.0) == 0  # t=0 left; t=8 and t=10 count now
    assert _take(w, "k", lim, 11.0) == pytest.approx(7.0)


def test_a_refund_gives_exactly_that_attempt_back() -> None:
    w = SlidingWindow(60)
    lim = Limit("t", 2, 60)
    first = w.reserve("k", lim, 0.0)
    second = w.reserve("k", lim, 1.0)
    assert first.granted and second.granted and first.token != second.token
    assert not w.reserve("k", lim, 2.0).granted
    w.refund("k", second.token)
    w.refund("k", second.token)  # twice: no effect the second time
    w.refund("k", "never-issued")
    w.refund("unknown-key", first.token)
    assert w.reserve("k", lim, 3.0).granted
    assert not w.reserve("k", lim, 4.0).granted  # the first attempt still counts


def test_growing_delay_after_the_free_attempts() -> None:
    lim = Limit("login", 3, 900, backoff_s=1.0)
    w = SlidingWindow(900)
    now = 0.0
    for _ in range(3):
        assert _take(w, "k", lim, now) == 0
    # 3 in the window: the next waits 1 s after the latest, then 2, 4, 8... (each granted attempt doubles it).
    waits = []
    for _ in range(6):
        wait = _take(w, "k", lim, now)
        assert wait > 0
        waits.append(wait)
        now += wait
        assert _take(w, "k", lim, now) == 0
    assert waits == pytest.approx([1, 2, 4, 8, 16, 32])


def test_growing_delay_is_capped_by_the_window() -> None:
    lim = Limit("login", 1, 100, backoff_s=50.0)
    assert wait_for(10, oldest=0.0, latest=90.0, now=90.0, lim=lim) == pytest.approx(10.0)
    assert wait_for(10_000, oldest=0.0, latest=90.0, now=90.0, lim=lim) == pytest.approx(10.0)  # no overflow


def test_keys_are_independent() -> None:
    w = SlidingWindow(100)
    lim = Limit("t", 1, 100)
    assert w.reserve("a", lim, 0.0).granted
    assert w.reserve("b", lim, 0.0).granted
    assert not w.reserve("a", lim, 1.0).granted
    assert w.reserve("c", lim, 1.0).granted


def test_eviction_drops_expired_keys_before_live_ones() -> None:
    w = SlidingWindow(10, max_keys=2)
    lim = Limit("t", 1, 10)
    w.reserve("a", lim, 0.0)
    w.reserve("b", lim, 1.0)
    w.reserve("a", lim, 10.5)  # a again (t=0 expired), b expires at 11
    w.reserve("c", lim, 12.0)  # a third key: something must go, and b is the expired one
    assert _take(w, "a", lim, 12.0) == pytest.approx(8.5)
    assert _take(w, "c", lim, 12.0) == pytest.approx(10.0)
    assert len(w._hits) <= 2


def test_eviction_when_every_key_is_live_drops_the_oldest() -> None:
    w = SlidingWindow(100, max_keys=2)
    lim = Limit("t", 1, 100)
    for i, key in enumerate("abc"):
        w.reserve(key, lim, float(i))
    assert _take(w, "b", lim, 3.0) == pytest.approx(98.0)
    assert _take(w, "c", lim, 3.0) == pytest.approx(99.0)
    assert len(w._hits) <= 2


async def test_memory_limiter_per_name_and_key_with_refunds() -> None:
    clock = [0.0]
    rl = MemoryRateLimiter(clock=lambda: clock[0])
    lim = Limit("chat", 3, 60)
    got = [await rl.reserve("p1", lim) for _ in range(3)]
    assert all(r.granted for r in got)
    refused = await rl.reserve("p1", lim)
    assert refused.wait == pytest.approx(60.0) and refused.token == ""
    assert (await rl.reserve("p2", lim)).granted  # per key
    assert (await rl.reserve("p1", Limit("other", 3, 60))).granted  # per name
    await rl.refund("p1", lim, got[1].token)
    assert (await rl.reserve("p1", lim)).granted
    clock[0] = 60.0
    assert (await rl.reserve("p1", lim)).granted  # the window slid
