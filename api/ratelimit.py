"""Rate limits: sliding windows in process memory (embedded default) or in Redis (``REDIS_URL``), so a limit
holds across every API process.

Every limit is *taken before* the step it protects: a caller reserves one attempt atomically (check and count in
one step, a Lua script in Redis), then does the slow or secret-revealing work (a passcode or password check),
and may give the attempt back afterwards (``refund``: a right passcode does not use up the limit). "Check, work,
then record" lets every parallel attempt through the check before any of them is recorded.

A limit may also grow its delay (``backoff_s``): once ``limit`` attempts are in the window, each further one must
wait ``backoff_s * 2**(n - limit)`` after the latest (capped by the window), so a guesser slows down exponentially
while a person who mistyped a few times is not locked out for the whole window.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Limit:
    """A named limit: at most ``limit`` attempts per ``window_s`` for each key, then a growing delay if
    ``backoff_s`` is set, else nothing until the oldest attempt leaves the window."""

    name: str
    limit: int
    window_s: float
    backoff_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Reservation:
    """The answer to ``reserve``: ``wait`` > 0 means refused (nothing was counted); otherwise ``token`` names the
    counted attempt so it can be refunded."""

    wait: float
    token: str = ""

    @property
    def granted(self) -> bool:
        return self.wait <= 0


def wait_for(hits: int, oldest: float, latest: float, now: float, lim: Limit) -> float:
    """Seconds until one more attempt is allowed, given the live attempts in the window (pure; both backends)."""
    if hits < lim.limit:
        return 0.0
    until_oldest_leaves = oldest + lim.window_s - now
    if lim.backoff_s <= 0:
        return max(0.0, until_oldest_leaves)
    # 2**k overflows float for huge k; the window caps the delay anyway.
    exponent = min(hits - lim.limit, 60)
    return max(0.0, min(latest + lim.backoff_s * 2.0**exponent - now, until_oldest_leaves))


class SlidingWindow:
    """The attempts of each key within the window, in time order (one process)."""

    def __init__(self, window_s: float, max_keys: int = 100_000) -> None:
        self.window_s = window_s
        self.max_keys = max_keys
        self._hits: dict[str, deque[tuple[float, str]]] = {}

    def live(self, key: str, now: float) -> deque[tuple[float, str]]:
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._evict(now)
            hits = self._hits[key] = deque()
        while hits and hits[0][0] <= now - self.window_s:
            hits.popleft()
        return hits

    def _evict(self, now: float) -> None:
        for key in [k for k, h in self._hits.items() if not h or h[-1][0] <= now - self.window_s]:
            del self._hits[key]
        while len(self._hits) >= self.max_keys:  # still full of live keys: drop the oldest inserted
            del self._hits[next(iter(self._hits))]

    def reserve(self, key: str, lim: Limit, now: float) -> Reservation:
        hits = self.live(key, now)
        wait = wait_for(len(hits), hits[0][0] if hits else now, hits[-1][0] if hits else now, now, lim)
        if wait > 0:
            return Reservation(wait)
        token = secrets.token_hex(6)
        hits.append((now, token))
        return Reservation(0.0, token)

    def refund(self, key: str, token: str) -> None:
        hits = self._hits.get(key)
        if hits is None:
            return
        for i, (_, t) in enumerate(hits):
            if t == token:
                del hits[i]
                return


class RateLimiter(Protocol):
    """Named limits shared by everyone who asks this limiter (one process, or all of them through Redis)."""

    async def reserve(self, key: str, lim: Limit) -> Reservation:
        """Count one attempt for ``key`` if ``lim`` allows it now (atomically); otherwise count nothing."""
        ...

    async def refund(self, key: str, lim: Limit, token: str) -> None:
        """Forget the attempt counted under ``token`` (e.g. the passcode was right)."""
        ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    """Per process: right for the embedded single-process default. ``clock`` is injectable for tests."""

    def __init__(self, clock: object = time.monotonic) -> None:
        self._windows: dict[tuple[str, float], SlidingWindow] = {}
        self._clock = clock

    def _window(self, lim: Limit) -> SlidingWindow:
        w = self._windows.get((lim.name, lim.window_s))
        if w is None:
            w = self._windows[(lim.name, lim.window_s)] = SlidingWindow(lim.window_s)
        return w

    def _now(self) -> float:
        return float(self._clock())  # type: ignore[operator]

    async def reserve(self, key: str, lim: Limit) -> Reservation:
        # No await between the check and the count: atomic on the event loop.
        return self._window(lim).reserve(key, lim, self._now())

    async def refund(self, key: str, lim: Limit, token: str) -> None:
        self._window(lim).refund(key, token)

    async def close(self) -> None:
        self._windows.clear()


# Sliding-window log in a sorted set (score: time in ms, member: the attempt's token); one script, so check and
# count are atomic across processes. Mirrors ``wait_for``.
_RESERVE = """
local key, now, window, limit, backoff, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]),
  tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local hits = redis.call('ZCARD', key)
if hits >= limit then
  local oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
  local wait = oldest + window - now
  if backoff > 0 then
    local latest = tonumber(redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2])
    local k = math.min(hits - limit, 60)
    wait = math.min(latest + backoff * (2 ^ k) - now, wait)
  end
  if wait > 0 then
    return tostring(wait)
  end
end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, math.ceil(window))
return '0'
"""


class RedisRateLimiter:
    """Shared by every API process on the same Redis (``REDIS_URL``)."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = f"{prefix}:rl:"
        self._script = self._redis.register_script(_RESERVE)

    def _key(self, key: str, lim: Limit) -> str:
        return f"{self._prefix}{lim.name}:{key}"

    async def reserve(self, key: str, lim: Limit) -> Reservation:
        # Redis' clock would be better than ours for several hosts, but TIME inside a script that writes is not
        # allowed before Redis 5's effect replication; API hosts are expected to run NTP.
        now_ms = time.time() * 1000
        token = f"{now_ms:.3f}:{secrets.token_hex(6)}"
        raw = await self._script(
            keys=[self._key(key, lim)],
            args=[now_ms, lim.window_s * 1000, lim.limit, lim.backoff_s * 1000, token],
        )
        wait = max(0.0, float(raw) / 1000)
        return Reservation(wait) if wait > 0 else Reservation(0.0, token)

    async def refund(self, key: str, lim: Limit, token: str) -> None:
        await self._redis.zrem(self._key(key, lim), token)

    async def close(self) -> None:
        await self._redis.aclose()
