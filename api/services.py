"""What the domain functions need, built once per process by `create_app` (no globals)."""

from __future__ import annotations

from dataclasses import dataclass

from api.bus import Bus
from api.db import Database
from api.errors import RateLimitedError
from api.ratelimit import SlidingWindow
from api.security import Credentials
from api.settings import Settings


@dataclass(slots=True)
class Services:
    settings: Settings
    db: Database
    bus: Bus
    creds: Credentials
    passcode_failures: SlidingWindow
    limits: dict[str, SlidingWindow]
    """Per-process rate limits by name (e.g. "chat"), created on first use by `limit`."""

    @classmethod
    def build(cls, settings: Settings, db: Database, bus: Bus) -> Services:
        return cls(
            settings=settings,
            db=db,
            bus=bus,
            creds=Credentials(settings),
            passcode_failures=SlidingWindow(settings.passcode_attempts, settings.passcode_window_s),
            limits={},
        )

    def limit(self, name: str, key: str, *, limit: int, window_s: float) -> None:
        """Count one action for ``key`` under the named limit; RATE_LIMITED when over ``limit`` per ``window_s``."""
        window = self.limits.get(name)
        if window is None:
            window = self.limits[name] = SlidingWindow(limit, window_s)
        wait = window.blocked_for(key)
        if wait > 0:
            raise RateLimitedError(
                f"slow down: at most {limit} per {window_s:g} s; try again in {wait:.1f} s",
                retry_after_s=round(wait, 2),
            )
        window.hit(key)
