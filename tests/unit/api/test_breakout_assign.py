"""Balanced automatic assignment (api/breakouts/assign.py), checked exhaustively over small sizes."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from api.breakouts.assign import balanced


def people(n: int) -> list[str]:
    return [f"p{i:03d}" for i in range(n)]


def rooms(k: int) -> list[str]:
    return [f"r{i}" for i in range(k)]


@pytest.mark.parametrize("seed", [None, 0, 7])
def test_from_an_empty_plan_room_sizes_differ_by_at_most_one(seed: int | None) -> None:
    for n in range(0, 61):
        for k in range(1, 11):
            plan = balanced(people(n), rooms(k), seed=seed)
            assert sorted(plan) == people(n)  # everyone placed, exactly once
            sizes = Counter(plan.values())
            counts = [sizes.get(r, 0) for r in rooms(k)]
            assert max(counts) - min(counts) <= 1, (n, k, counts)
            # The earlier rooms take the remainder, so the layout is predictable.
            assert counts == sorted(counts, reverse=True), (n, k, counts)


def test_join_order_deals_people_round_robin_in_the_given_order() -> None:
    ps = ["carol", "alice", "bob", "dave", "erin"]
    assert balanced(ps, ["A", "B"], seed=None) == {"carol": "A", "alice": "B", "bob": "A", "dave": "B", "erin": "A"}


def test_a_seed_gives_the_same_plan_whatever_order_people_are_listed_in() -> None:
    ps = people(7)
    expected = balanced(ps, rooms(3), seed=42)
    for perm in itertools.islice(itertools.permutations(ps), 0, 5040, 97):
        assert balanced(list(perm), rooms(3), seed=42) == expected


def test_different_seeds_shuffle_differently() -> None:
    plans = {tuple(sorted(balanced(people(20), rooms(4), seed=s).items())) for s in range(10)}
    assert len(plans) > 1


def test_newcomers_fill_the_emptiest_rooms_first() -> None:
    existing = {"x1": "r0", "x2": "r0", "x3": "r0", "x4": "r1"}
    plan = balanced(["n1", "n2", "n3", "n4"], rooms(3), seed=None, existing=existing)
    # Sizes r0=3, r1=1, r2=0: n1 → r2; r1 and r2 tie at 1, the earlier room wins → n2 → r1; n3 → r2; n4 → r1.
    assert plan == {"n1": "r2", "n2": "r1", "n3": "r2", "n4": "r1"}
    sizes = Counter([*existing.values(), *plan.values()])
    assert max(sizes.values()) - min(sizes.values()) <= 1


def test_assignments_to_rooms_that_no_longer_exist_do_not_count() -> None:
    plan = balanced(["a", "b"], ["r0", "r1"], seed=None, existing={"x": "gone"})
    assert plan == {"a": "r0", "b": "r1"}


def test_no_rooms_is_an_error() -> None:
    with pytest.raises(ValueError):
        balanced(["a"], [], seed=None)
