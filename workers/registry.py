"""The job functions by name, and the retry policy both runners apply."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from capture.tracks import TrackError
from protocol.jobs import COMPOSE_RECORDING, DELIVER_WEBHOOK, SYNC_CALENDAR, TRANSCRIBE_RECORDING
from workers.caldav import sync_calendar
from workers.compose import ComposeError, compose_recording
from workers.transcribe import TranscribeError, transcribe_recording
from workers.webhooks import deliver_webhook

JobFunction = Callable[..., Awaitable[Any]]

JOBS: dict[str, JobFunction] = {
    COMPOSE_RECORDING: compose_recording,
    TRANSCRIBE_RECORDING: transcribe_recording,
    DELIVER_WEBHOOK: deliver_webhook,
    SYNC_CALENDAR: sync_calendar,
}

PERMANENT_ERRORS: tuple[type[BaseException], ...] = (ComposeError, TranscribeError, TrackError, TypeError, ValueError)
"""Bad inputs: retrying gives the same failure. Anything else (I/O, a dead Redis, memory) is retried."""


def backoff_s(job_try: int, base_s: float = 2.0, cap_s: float = 300.0) -> float:
    """Exponential backoff before try `job_try + 1`: 2, 4, 8 … seconds, capped at 5 minutes."""
    return float(min(cap_s, base_s * 2 ** max(0, job_try - 1)))
