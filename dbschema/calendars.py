"""Calendars (api/calendars): a user's secret feed, a meeting's iCalendar state and its e-mail invitees."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dbschema.models import Base, UTCDateTime, utcnow


class CalendarFeed(Base):
    """A user's subscribable ICS feed. Only the SHA-256 of its secret is stored (256 random bits: a slow hash adds
    nothing); rotating replaces it, revoking deletes the row, so the old URL answers 404."""

    __tablename__ = "calendar_feeds"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MeetingCalendar(Base):
    """A meeting's iCalendar state. No row: SEQUENCE 0, no skipped occurrences, no passcode in calendar files."""

    __tablename__ = "meeting_calendars"
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    """RFC 5545 section 3.8.7.4: bumped whenever the start, end, title or recurrence change."""
    exdates: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Skipped occurrences of a series, as UTC ISO 8601 start times (EXDATE, RFC 5545 section 3.8.5.1)."""
    include_passcode: Mapped[bool] = mapped_column(Boolean, default=False)
    """The owner's choice: calendar files and invitations carry the passcode (and the link that stands in for it)."""


class MeetingInvitee(Base):
    """Someone invited by e-mail (iTIP/iMIP, RFC 5546/6047)."""

    __tablename__ = "meeting_invitees"
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
