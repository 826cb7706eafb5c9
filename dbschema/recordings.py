"""Tables of api/recordings.

A recording is one continuous capture session of a meeting's main room or of one of its breakout rooms (start →
optional pauses → stop); the media files are written by the edge (per-track, encoded) and composed by workers
later. ``recorded_s`` plus the running
period since ``capturing_since`` is how much meeting time it holds, pauses excluded.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dbschema.models import Base, UTCDateTime, utcnow


class Recording(Base):
    __tablename__ = "recordings"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # recording | paused | stopped | processing | ready | failed
    breakout_room_id: Mapped[str | None] = mapped_column(String(32), nullable=True, default=None)
    """The breakout room this recording holds (None: the main room). Not a foreign key: the room may be deleted
    later, its recordings stay."""
    breakout_room_name: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)
    """The room's name when it was recorded."""
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
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """While processing: the claiming API process holds the recording until then (and renews it as it works);
    a recording processing past its lease is claimed again (its process died)."""
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


_POS = BigInteger().with_variant(Integer(), "sqlite")


class TranscriptSegment(Base):
    """One timed line of a recording's speaker-labelled transcript (written by the transcription job).

    Full-text search is dialect-specific and hand-written in migration 0008 (as for chat): an FTS5
    external-content table over ``text`` with ``pos`` as rowid on SQLite, a generated tsvector on PostgreSQL.
    """

    __tablename__ = "transcript_segments"
    pos: Mapped[int] = mapped_column(_POS, primary_key=True, autoincrement=True)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    participant_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    speaker_name: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """ISO 639-1 code the line was transcribed in (detected per speaker, or the configured language); None for
    lines stored before migration 0012 (those jobs always transcribed in English)."""

    __table_args__ = (
        Index("ix_transcript_segments_recording_start", "recording_id", "start_s"),
        Index("ix_transcript_segments_meeting", "meeting_id"),
    )
