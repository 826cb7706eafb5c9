"""Rate limits: sliding windows in process memory (embedded default) or in Redis (``REDIS_URL``), so a limit
holds across every API process."""

from __future__ import annotations

import secrets
import time
from collections import deque
from typing import Protocol


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

    def blocked_for(self, key: str, now: float | None = None, limit: int | None = None) -> float:
        """Seconds until ``key`` may try again; 0 when it is under the limit (``limit`` overrides the default)."""
        now = time.monotonic() if now is None else now
        hits = self._live(key, now)
        if len(hits) < (self.limit if limit is None else limit):
            return 0.0
        return max(0.0, hits[0] + self.window_s - now)

    def hit(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._live(key, now).append(now)

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)


class RateLimiter(Protocol):
    """Named limits shared by everyone who asks this limiter (one process, or all of them through Redis)."""

    async def take(self, name: str, key: str, limit: int, window_s: float) -> float:
        """Count one action if under the limit and return 0; otherwise count nothing and return the wait (s)."""
        ...

    async def blocked_for(self, name: str, key: str, limit: int, window_s: float) -> float:
        """Seconds until ``key`` may act again under ``name``; 0 when it is under the limit. Counts nothing."""
        ...

    async def hit(self, name: str, key: str, window_s: float) -> None:
        """Count one action (e.g. a failed attempt) without checking."""
        ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    """Per process: right for the embedded single-process default."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, float], SlidingWindow] = {}

    def _window(self, name: str, window_s: float) -> SlidingWindow:
        w = self._windows.get((name, window_s))
        if w is None:
            w = self._windows[(name, window_s)] = SlidingWindow(0, window_s)
        return w

    async def take(self, name: str, key: str, limit: int, window_s: float) -> float:
        w = self._window(name, window_s)
        wait = w.blocked_for(key, limit=limit)
        if wait == 0:
            w.hit(key)
        return wait

    async def blocked_for(self, name: str, key: str, limit: int, window_s: float) -> float:
        return self._window(name, window_s).blocked_for(key, limit=limit)

    async def hit(self, name: str, key: str, window_s: float) -> None:
        self._window(name, window_s).hit(key)

    async def close(self) -> None:
        self._windows.clear()


# Sliding-window log in a sorted set; one script so check-and-count is atomic across processes.
_TAKE = """
local key, now, window, limit, member, count = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]),
  tonumber(ARGV[3]), ARGV[4], ARGV[5]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
if count == '1' then
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, math.ceil(window))
end
return '0'
"""


class RedisRateLimiter:
    """Shared by every API process on the same Redis (``REDIS_URL``)."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = f"{prefix}:rl:"
        self._script = self._redis.register_script(_TAKE)

    async def _run(self, name: str, key: str, limit: int, window_s: float, count: bool) -> float:
        now_ms = time.time() * 1000
        member = f"{now_ms}:{secrets.token_hex(4)}"
        raw = await self._script(
            keys=[f"{self._prefix}{name}:{key}"], args=[now_ms, window_s * 1000, limit, member, "1" if count else "0"]
        )
        return max(0.0, float(raw) / 1000)

    async def take(self, name: str, key: str, limit: int, window_s: float) -> float:
        return await self._run(name, key, limit, window_s, True)

    async def blocked_for(self, name: str, key: str, limit: int, window_s: float) -> float:
        return await self._run(name, key, limit, window_s, False)

    async def hit(self, name: str, key: str, window_s: float) -> None:
        await self._run(name, key, 1 << 30, window_s, True)

    async def close(self) -> None:
        await self._redis.aclose()
