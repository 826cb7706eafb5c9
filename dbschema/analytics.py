"""Tables of api/analytics: who spoke when (from the edge's dominant-speaker reports)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dbschema.models import Base, UTCDateTime


class SpeakerTurn(Base):
    """One stretch during which a participant was the meeting's dominant speaker; ``ended_at`` None while on."""

    __tablename__ = "speaker_turns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_speaker_turns_meeting_started", "meeting_id", "started_at"),)


class MeetingCounter(Base):
    """Counts of things not stored one by one (ephemeral reactions), per meeting and name."""

    __tablename__ = "meeting_counters"
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
