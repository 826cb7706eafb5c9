from __future__ import annotations

import pytest

from api.graphql.token_bucket import TokenBucket


def test_a_burst_then_the_sustained_rate() -> None:
    # Binary fractions throughout, so the arithmetic is exact.
    bucket = TokenBucket(rate=8, burst=5)
    assert [bucket.take(0.0) for _ in range(6)] == [True] * 5 + [False]
    assert not bucket.take(1 / 16)  # half a token
    assert bucket.take(1 / 8)
    # 8 per second sustained: over 2 s, 16 more and no more.
    taken = sum(bucket.take(1 / 8 + i / 64) for i in range(1, 129))
    assert taken == 16


def test_quiet_time_refills_only_up_to_the_burst() -> None:
    bucket = TokenBucket(rate=100, burst=3)
    for _ in range(3):
        assert bucket.take(0.0)
    assert [bucket.take(3600.0) for _ in range(4)] == [True, True, True, False]


def test_a_clock_going_backwards_adds_nothing() -> None:
    bucket = TokenBucket(rate=1, burst=1)
    assert bucket.take(10.0)
    assert not bucket.take(5.0)
    assert not bucket.take(10.5)
    assert bucket.take(11.0)


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 5), (1, 0)])
def test_nonsense_parameters_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="token bucket"):
        TokenBucket(rate=rate, burst=burst)
