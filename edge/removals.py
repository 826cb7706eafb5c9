"""Who was removed from which meeting, remembered for as long as their join tokens can still be valid.

Sans-I/O (callers pass ``now``, any monotonic clock). The control feed's ``mediaState`` already lists a watched
meeting's removed participants, and the rooms refuse them from it; this memory covers what that state cannot:
a meeting the edge stopped watching (its last participant here left) whose API is unreachable when a removed
participant knocks again. A join token lives at most ``ttl_s`` (the API's join-token TTL plus clock leeway),
so a removal older than that has no token left to refuse and is forgotten. The memory is bounded: past
``max_entries`` the oldest removals go first (they are the closest to expiring anyway).

Cost: O(1) per add, discard and lookup (amortised over the expiries a call sweeps); ``replace`` is linear in
the one meeting's removals (a per-meeting index), never in the whole memory. Two small entries per removal.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

Key = tuple[str, str]
"""(meeting id, participant id)."""


class Removals:
    def __init__(self, ttl_s: float, max_entries: int = 100_000) -> None:
        if ttl_s <= 0 or max_entries < 1:
            raise ValueError(f"ttl_s must be > 0 and max_entries >= 1 (got {ttl_s}, {max_entries})")
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._until: OrderedDict[Key, float] = OrderedDict()
        """Expiry per removal, oldest first (insertion order is expiry order: every entry gets the same TTL)."""
        self._by_meeting: dict[str, set[str]] = {}
        """The same removals by meeting, for :meth:`replace`."""

    def __len__(self) -> int:
        return len(self._until)

    def add(self, meeting_id: str, participant_id: str, now: float) -> None:
        """``participant_id`` was removed (or is still removed, as of ``now``): remember it for ``ttl_s``."""
        self._expire(now)
        key = (meeting_id, participant_id)
        self._until.pop(key, None)
        self._until[key] = now + self.ttl_s
        self._by_meeting.setdefault(meeting_id, set()).add(participant_id)
        while len(self._until) > self.max_entries:
            self._forget(self._until.popitem(last=False)[0])

    def discard(self, meeting_id: str, participant_id: str) -> None:
        """Let back in (the API says the participant is no longer removed: re-admitted by a host)."""
        key = (meeting_id, participant_id)
        if self._until.pop(key, None) is not None:
            self._forget(key)

    def replace(self, meeting_id: str, removed: Iterable[str], now: float) -> None:
        """A full ``mediaState``: exactly ``removed`` are removed from ``meeting_id`` now. Ones no longer listed
        were let back in; listed ones already remembered keep their time (the snapshot is not a new removal,
        so a long meeting's old removals still expire once their tokens have)."""
        listed = set(removed)
        for pid in self._by_meeting.get(meeting_id, set()) - listed:
            self.discard(meeting_id, pid)
        for pid in listed:
            if (meeting_id, pid) not in self._until:
                self.add(meeting_id, pid, now)

    def removed(self, meeting_id: str, participant_id: str, now: float) -> bool:
        self._expire(now)
        return (meeting_id, participant_id) in self._until

    def _expire(self, now: float) -> None:
        until = self._until
        while until:
            key, expiry = next(iter(until.items()))
            if expiry > now:
                return
            del until[key]
            self._forget(key)

    def _forget(self, key: Key) -> None:
        """Drop ``key`` from the per-meeting index (it has already left ``_until``)."""
        pids = self._by_meeting.get(key[0])
        if pids is not None:
            pids.discard(key[1])
            if not pids:
                del self._by_meeting[key[0]]
