"""What the domain functions need, built once per process by `create_app` (no globals)."""

from __future__ import annotations

from dataclasses import dataclass

from api.bus import Bus
from api.db import Database
from api.errors import RateLimitedError
from api.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from api.security import Credentials
from api.settings import Settings


@dataclass(slots=True)
class Services:
    settings: Settings
    db: Database
    bus: Bus
    creds: Credentials
    rate: RateLimiter
    """Named rate limits: per process, or shared by all processes through Redis when REDIS_URL is set."""

    @classmethod
    def build(cls, settings: Settings, db: Database, bus: Bus) -> Services:
        return cls(
            settings=settings,
            db=db,
            bus=bus,
            creds=Credentials(settings),
            rate=(
                RedisRateLimiter(settings.redis_url, settings.redis_prefix)
                if settings.redis_url
                else MemoryRateLimiter()
            ),
        )

    async def limit(self, name: str, key: str, *, limit: int, window_s: float) -> None:
        """Count one action for ``key`` under the named limit; RATE_LIMITED when over ``limit`` per ``window_s``."""
        wait = await self.rate.take(name, key, limit, window_s)
        if wait > 0:
            raise RateLimitedError(
                f"slow down: at most {limit} per {window_s:g} s; try again in {wait:.1f} s",
                retry_after_s=round(wait, 2),
            )
