"""Balanced automatic assignment of participants to breakout rooms (pure; no I/O)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence


def balanced(
    people: Sequence[str],
    rooms: Sequence[str],
    *,
    seed: int | None,
    existing: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Assign ``people`` (participant ids) to ``rooms`` (room ids, in display order); returns person → room.

    ``seed`` None keeps the given order (join order); otherwise the people are shuffled with that seed, after
    sorting them so the result depends only on who they are and the seed, not on how they were listed.
    ``existing`` (person → room) counts people already placed: each newcomer goes to the emptiest room, ties to
    the earliest room, so from an empty plan room sizes differ by at most one.
    """
    if not rooms:
        raise ValueError("no rooms to assign to")
    size = {r: 0 for r in rooms}
    for room in (existing or {}).values():
        if room in size:
            size[room] += 1
    order = list(people)
    if seed is not None:
        order.sort()
        random.Random(seed).shuffle(order)
    index = {r: i for i, r in enumerate(rooms)}
    out: dict[str, str] = {}
    for person in order:
        room = min(rooms, key=lambda r: (size[r], index[r]))
        out[person] = room
        size[room] += 1
    return out
