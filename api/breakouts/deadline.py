"""The open → closing → closed cycle of a meeting's breakout rooms, as pure functions of stored deadlines and
an explicit ``now`` (no timers, no I/O).

Deadlines are data so that whichever API process looks next (a request, the sweeper, a process started after a
crash) can tell what is due and apply it; applying is idempotent because the result depends only on the stored
schedule and ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class Phase(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    CLOSING = "closing"


@dataclass(frozen=True, slots=True)
class Schedule:
    phase: Phase = Phase.CLOSED
    grace_s: int = 60
    """Countdown length when the timer runs out."""
    closes_at: datetime | None = None
    """OPEN with a timer: when the countdown starts by itself."""
    returns_at: datetime | None = None
    """CLOSING: when everyone goes back to the main room."""

    @property
    def running(self) -> bool:
        """Rooms are in use (open, or closing but not yet closed)."""
        return self.phase is not Phase.CLOSED


def opened(now: datetime, *, minutes: int | None, grace_s: int) -> Schedule:
    return Schedule(Phase.OPEN, grace_s, now + timedelta(minutes=minutes) if minutes else None, None)


def closed(s: Schedule) -> Schedule:
    return Schedule(Phase.CLOSED, s.grace_s)


def close(s: Schedule, now: datetime, grace_s: int) -> Schedule:
    """A host asks to close with ``grace_s`` of countdown. During a countdown, only an earlier deadline wins
    (asking again must not give the rooms more time than everyone was already told)."""
    if s.phase is Phase.CLOSED:
        raise ValueError("breakout rooms are not open")
    returns_at = now + timedelta(seconds=grace_s)
    if s.phase is Phase.CLOSING and s.returns_at is not None and s.returns_at <= returns_at:
        return s
    if grace_s <= 0:
        return closed(s)
    return Schedule(Phase.CLOSING, s.grace_s, None, returns_at)


def due(s: Schedule, now: datetime, *, live: bool = True) -> bool:
    return advance(s, now, live=live)[0] != s


def advance(s: Schedule, now: datetime, *, live: bool = True) -> tuple[Schedule, list[Phase]]:
    """Apply every transition due at ``now``; returns the new schedule and the phases entered, in order.

    A meeting that is no longer live closes its rooms at once (no countdown: nobody is left to warn). A timer
    that ran out starts the countdown from when it ran out, not from when someone noticed, so a late sweep
    shortens the countdown rather than lengthening the rooms.
    """
    entered: list[Phase] = []
    if s.running and not live:
        return closed(s), [Phase.CLOSED]
    if s.phase is Phase.OPEN and s.closes_at is not None and s.closes_at <= now:
        returns_at = s.closes_at + timedelta(seconds=s.grace_s)
        if returns_at <= now:  # the countdown is over too (no grace, or noticed late): no warning to give
            return closed(s), [Phase.CLOSED]
        s = replace(s, phase=Phase.CLOSING, closes_at=None, returns_at=returns_at)
        entered.append(Phase.CLOSING)
    if s.phase is Phase.CLOSING and s.returns_at is not None and s.returns_at <= now:
        s = closed(s)
        entered.append(Phase.CLOSED)
    return s, entered
