"""Sliding-window counters kept in process memory (per API process; a Redis-backed one comes with REDIS_URL)."""

from __future__ import annotations

import time
from collections import deque


class SlidingWindow:
    """At most ``limit`` hits per ``window_s`` for each key."""

    def __init__(self, limit: int, window_s: float, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def _live(self, key: str, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._evict(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        return hits

    def _evict(self, now: float) -> None:
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= now - self.window_s]:
            del self._hits[key]
        while len(self._hits) >= self.max_keys:  # still full of live keys: drop the oldest inserted
            del self._hits[next(iter(self._hits))]

    def blocked_for(self, key: str, now: float | None = None) -> float:
        """Seconds until ``key`` may try again; 0 when it is under the limit."""
        now = time.monotonic() if now is None else now
        hits = self._live(key, now)
        if len(hits) < self.limit:
            return 0.0
        return max(0.0, hits[0] + self.window_s - now)

    def hit(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._live(key, now).append(now)

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)
