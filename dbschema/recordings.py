"""Tables of api/recordings.

A recording is one continuous capture session of a meeting (start → optional pauses → stop); the media files
are written by the edge (per-track, encoded) and composed by workers later. ``recorded_s`` plus the running
period since ``capturing_since`` is how much meeting time it holds, pauses excluded.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dbschema.models import Base, UTCDateTime, utcnow


class Recording(Base):
    __tablename__ = "recordings"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # recording | paused | stopped | processing | ready | failed
    started_by: Mapped[str | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"), nullable=True)
    """Who started it; None for auto-recording (or the owner acting from outside the call)."""
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    capturing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """Start of the current capture period; None while paused or stopped."""
    recorded_s: Mapped[float] = mapped_column(Float, default=0.0)
    """Captured time of the finished periods."""
    progress: Mapped[int] = mapped_column(Integer, default=0)
    """Processing percent (0..100) once stopped."""
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    views: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_recordings_meeting_started", "meeting_id", "started_at"),)


class RecordingShare(Base):
    """A share link: its id is the unguessable capability (128 bits), valid until ``expires_at``."""

    __tablename__ = "recording_shares"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    passcode_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
