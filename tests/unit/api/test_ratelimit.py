"""SlidingWindow with an explicit clock: no sleeping, every instant chosen by the test."""

from __future__ import annotations

import pytest

from api.ratelimit import SlidingWindow


def test_under_the_limit_is_not_blocked() -> None:
    w = SlidingWindow(limit=3, window_s=60)
    assert w.blocked_for("k", now=0.0) == 0.0
    w.hit("k", now=0.0)
    w.hit("k", now=1.0)
    assert w.blocked_for("k", now=2.0) == 0.0


def test_asking_does_not_count_as_a_hit() -> None:
    w = SlidingWindow(limit=1, window_s=60)
    for t in range(10):
        assert w.blocked_for("k", now=float(t)) == 0.0


def test_blocked_until_the_oldest_hit_leaves_the_window() -> None:
    w = SlidingWindow(limit=5, window_s=60)
    for t in (0.0, 10.0, 20.0, 30.0, 40.0):
        w.hit("k", now=t)
    assert w.blocked_for("k", now=40.0) == pytest.approx(20.0)
    assert w.blocked_for("k", now=50.0) == pytest.approx(10.0)
    assert w.blocked_for("k", now=59.9) == pytest.approx(0.1)
    # At t=60 the hit from t=0 is exactly one window old: it no longer counts.
    assert w.blocked_for("k", now=60.0) == 0.0


def test_the_window_slides_rather_than_resetting() -> None:
    w = SlidingWindow(limit=2, window_s=10)
    w.hit("k", now=0.0)
    w.hit("k", now=8.0)
    assert w.blocked_for("k", now=9.0) == pytest.approx(1.0)
    assert w.blocked_for("k", now=10.0) == 0.0  # the t=0 hit expired, the t=8 one still counts
    w.hit("k", now=10.0)
    assert w.blocked_for("k", now=11.0) == pytest.approx(7.0)  # blocked until 8 + 10
    assert w.blocked_for("k", now=18.0) == 0.0


def test_keys_are_independent_and_reset_forgets_one() -> None:
    w = SlidingWindow(limit=1, window_s=100)
    w.hit("a", now=0.0)
    w.hit("b", now=0.0)
    assert w.blocked_for("a", now=1.0) > 0
    assert w.blocked_for("c", now=1.0) == 0.0
    w.reset("a")
    assert w.blocked_for("a", now=1.0) == 0.0
    assert w.blocked_for("b", now=1.0) == pytest.approx(99.0)
    w.reset("never-seen")  # no error


def test_eviction_drops_expired_keys_before_live_ones() -> None:
    w = SlidingWindow(limit=1, window_s=10, max_keys=2)
    w.hit("a", now=0.0)  # inserted first…
    w.hit("b", now=1.0)
    w.hit("a", now=9.0)  # …but still live at t=12, while b has expired
    w.hit("c", now=12.0)  # a third key: something must go
    assert w.blocked_for("a", now=12.0) == pytest.approx(7.0)
    assert w.blocked_for("c", now=12.0) == pytest.approx(10.0)


def test_eviction_when_every_key_is_live_drops_the_oldest() -> None:
    w = SlidingWindow(limit=1, window_s=100, max_keys=2)
    w.hit("a", now=0.0)
    w.hit("b", now=1.0)
    w.hit("c", now=2.0)
    assert w.blocked_for("b", now=3.0) == pytest.approx(98.0)
    assert w.blocked_for("c", now=3.0) == pytest.approx(99.0)
    assert len(w._hits) <= 2


def test_default_clock_is_monotonic_time() -> None:
    w = SlidingWindow(limit=1, window_s=3600)
    assert w.blocked_for("k") == 0.0
    w.hit("k")
    assert 3599.0 < w.blocked_for("k") <= 3600.0


async def test_memory_limiter_take_counts_only_what_it_allows() -> None:
    from api.ratelimit import MemoryRateLimiter

    rl = MemoryRateLimiter()
    assert [await rl.take("chat", "p1", 3, 60) for _ in range(3)] == [0, 0, 0]
    wait = await rl.take("chat", "p1", 3, 60)
    assert 59 < wait <= 60
    assert await rl.take("chat", "p2", 3, 60) == 0  # per key
    assert await rl.take("other", "p1", 3, 60) == 0  # per name
    # blocked_for counts nothing; hit counts without checking.
    assert await rl.blocked_for("passcode", "k", 2, 300) == 0
    await rl.hit("passcode", "k", 300)
    assert await rl.blocked_for("passcode", "k", 2, 300) == 0
    await rl.hit("passcode", "k", 300)
    assert await rl.blocked_for("passcode", "k", 2, 300) > 0
