"""When a meeting's calendar entry changes in a way attendees must see, its SEQUENCE grows.

RFC 5545 section 3.8.7.4: SEQUENCE is incremented when DTSTART, DTEND, DURATION, RRULE, RDATE, EXDATE or the
status change; we also count the title and the text (calendar apps only refresh an invitation whose SEQUENCE
went up). Called inside the meetings service's write transaction, so the bump commits with the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api.calendars import store
from dbschema.models import Meeting


@dataclass(frozen=True, slots=True)
class EntryKey:
    title: str
    description: str
    starts_at: datetime
    duration_minutes: int
    timezone: str
    recurrence: str | None
    status: str


def key(m: Meeting) -> EntryKey:
    return EntryKey(m.title, m.description, m.starts_at, m.duration_minutes, m.timezone, m.recurrence, m.status)


async def bump_if_changed(session: AsyncSession, m: Meeting, before: EntryKey) -> int | None:
    """The new SEQUENCE when the entry changed, else None (nothing written)."""
    if key(m) == before:
        return None
    return await bump(session, m.id)


async def bump(session: AsyncSession, meeting_id: str) -> int:
    row = await store.state_for_write(session, meeting_id)
    row.sequence = (row.sequence or 0) + 1
    return row.sequence
