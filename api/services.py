"""What the domain functions need, built once per process by `create_app` (no globals)."""

from __future__ import annotations

from dataclasses import dataclass

from api.bus import Bus
from api.db import Database
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

    @classmethod
    def build(cls, settings: Settings, db: Database, bus: Bus) -> Services:
        return cls(
            settings=settings,
            db=db,
            bus=bus,
            creds=Credentials(settings),
            passcode_failures=SlidingWindow(settings.passcode_attempts, settings.passcode_window_s),
        )
