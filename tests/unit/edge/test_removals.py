from __future__ import annotations

import pytest

from edge.removals import Removals


def test_a_removal_is_remembered_for_the_token_lifetime_then_forgotten() -> None:
    r = Removals(ttl_s=305)
    r.add("m1", "bob", now=1000)
    assert r.removed("m1", "bob", now=1000)
    assert r.removed("m1", "bob", now=1304.9)
    assert not r.removed("m1", "bob", now=1305)
    assert len(r) == 0
    assert not r.removed("m2", "bob", now=1000)  # per meeting


def test_removed_again_restarts_the_clock_and_readmission_forgets() -> None:
    r = Removals(ttl_s=10)
    r.add("m", "bob", now=0)
    r.add("m", "bob", now=8)
    assert r.removed("m", "bob", now=17)
    r.discard("m", "bob")
    assert not r.removed("m", "bob", now=17)
    r.discard("m", "nobody")  # no error


def test_a_snapshot_replaces_one_meeting_and_keeps_old_removals_ageing() -> None:
    r = Removals(ttl_s=100)
    r.add("m", "a", now=0)
    r.add("m", "b", now=0)
    r.add("other", "a", now=0)
    r.replace("m", ["a", "c"], now=50)  # b was let back in; c was removed meanwhile
    assert r.removed("m", "a", now=60) and r.removed("m", "c", now=60)
    assert not r.removed("m", "b", now=60)
    assert r.removed("other", "a", now=60)  # other meetings untouched
    assert not r.removed("m", "a", now=100)  # listed again, but its own tokens have expired by now
    assert r.removed("m", "c", now=149)
    r.replace("m", [], now=120)
    assert not r.removed("m", "c", now=121)


def test_bounded_oldest_first() -> None:
    r = Removals(ttl_s=1000, max_entries=3)
    for i in range(5):
        r.add("m", f"p{i}", now=i)
    assert len(r) == 3
    assert [r.removed("m", f"p{i}", now=5) for i in range(5)] == [False, False, True, True, True]


def test_expiry_sweeps_many_at_once() -> None:
    r = Removals(ttl_s=1)
    for i in range(10_000):
        r.add("m", str(i), now=i / 10_000)
    assert r.removed("m", "9999", now=1.5)
    assert not r.removed("m", "0", now=1.5)
    assert len(r) < 10_000


@pytest.mark.parametrize(("ttl", "size"), [(0, 10), (-1, 10), (10, 0)])
def test_rejects_nonsense_bounds(ttl: float, size: int) -> None:
    with pytest.raises(ValueError):
        Removals(ttl_s=ttl, max_entries=size)


def test_the_per_meeting_index_follows_expiry_eviction_and_discards() -> None:
    r = Removals(ttl_s=10, max_entries=2)
    r.add("m", "a", now=0)
    r.add("m", "b", now=1)
    r.add("n", "c", now=2)  # evicts m/a
    r.replace("m", ["b"], now=3)
    assert not r.removed("m", "a", now=3)  # the snapshot did not bring the evicted one back as "kept"
    assert r.removed("m", "b", now=3) and r.removed("n", "c", now=3)
    assert not r.removed("m", "b", now=11)  # expired
    r.replace("m", ["x"], now=11)
    assert r.removed("m", "x", now=11) and len(r) == 2  # n/c (until 12) and m/x
    r.replace("m", [], now=11)
    assert len(r) == 1 and r._by_meeting == {"n": {"c"}}
