"""What the domain functions need, built once per process by `create_app` (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field

from api import limits
from api.bus import Bus
from api.db import Database
from api.errors import RateLimitedError
from api.media.registry import EdgeRegistry, MemoryEdgeRegistry, RedisEdgeRegistry
from api.ratelimit import Limit, MemoryRateLimiter, RateLimiter, RedisRateLimiter, Reservation
from api.security import Credentials
from api.settings import Settings
from api.sso.provider_client import ProviderClient


def _refused(lim: Limit, wait: float) -> RateLimitedError:
    return RateLimitedError(
        f"slow down: at most {lim.limit} per {lim.window_s:g} s; try again in {wait:.1f} s",
        retry_after_s=round(wait, 2),
    )


@dataclass(slots=True)
class Services:
    settings: Settings
    db: Database
    bus: Bus
    creds: Credentials
    rate: RateLimiter
    """Named rate limits: per process, or shared by all processes through Redis when REDIS_URL is set."""
    limits: dict[str, Limit] = field(default_factory=dict)
    """The named abuse limits (``api/limits.py``) with this deployment's overrides."""
    edges: EdgeRegistry = field(default_factory=MemoryEdgeRegistry)
    """Registered media edges (``api/media/registry.py``): shared through Redis when REDIS_URL is set."""
    sso: dict[str, ProviderClient] = field(default_factory=dict)
    """A client per configured OpenID provider (api/sso), by name: its discovery document and keys are cached."""

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
            limits=limits.resolve(
                limits.parse_overrides(settings.rate_limits), settings.passcode_attempts, settings.passcode_window_s
            ),
            edges=(
                RedisEdgeRegistry(settings.redis_url, f"{settings.redis_prefix}:")
                if settings.redis_url
                else MemoryEdgeRegistry()
            ),
            sso={p.name: ProviderClient(p) for p in settings.oidc_providers},
        )

    async def reserve(self, name: str, key: str, *, message: str | None = None) -> Reservation:
        """Take one attempt of the named limit for ``key`` *before* the step it protects; RATE_LIMITED (with
        ``retryAfter``) when none is left. Give it back with ``refund`` if the attempt turns out legitimate."""
        lim = self.limits[name]
        r = await self.rate.reserve(key, lim)
        if not r.granted:
            if message is not None:
                raise RateLimitedError(f"{message}; try again in {int(r.wait) + 1} s", retry_after_s=round(r.wait, 2))
            raise _refused(lim, r.wait)
        return r

    async def refund(self, name: str, key: str, reservation: Reservation) -> None:
        await self.rate.refund(key, self.limits[name], reservation.token)

    async def limit(self, name: str, key: str, *, limit: int, window_s: float) -> None:
        """Count one action for ``key`` under an ad-hoc limit; RATE_LIMITED when over ``limit`` per ``window_s``."""
        lim = Limit(name, limit, window_s)
        r = await self.rate.reserve(key, lim)
        if not r.granted:
            raise _refused(lim, r.wait)
