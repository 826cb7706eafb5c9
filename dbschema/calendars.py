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


class CalendarConnection(Base):
    """A user's connected calendar (CalDAV): their meetings are written there. One per user.

    The password (or app token) is sealed with AES-GCM under a key derived from the deployment secret, bound to
    the connection's id (``api.security.Credentials.seal_secret``): the row alone does not reveal it, and a sealed
    value copied to another row does not open."""

    __tablename__ = "calendar_connections"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(String(16), default="caldav")
    url: Mapped[str] = mapped_column(String(2048))
    username: Mapped[str] = mapped_column(String(256))
    secret_sealed: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When an entry was last written successfully."""
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    """The last failed write's reason; cleared by the next success."""
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CalendarSyncItem(Base):
    """The sync outbox: one row per (connection, meeting) whose entry must be (re)written. Written in the
    transaction of the meeting's change; a background loop writes the meeting's *current* entry, so several
    changes before a write collapse into one, and a retry is a plain repeat."""

    __tablename__ = "calendar_sync_items"
    connection_id: Mapped[str] = mapped_column(
        ForeignKey("calendar_connections.id", ondelete="CASCADE"), primary_key=True
    )
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """``pending`` (due at ``next_attempt_at``), ``synced``, or ``failed`` (every retry failed)."""
    version: Mapped[int] = mapped_column(Integer, default=0)
    """Grows with each change queued: a write that started before a change does not mark the newer state done."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """Set while one loop writes it, so two API processes never write the same entry at once."""
    synced_sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The SEQUENCE last written (RFC 5545 section 3.8.7.4)."""
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
