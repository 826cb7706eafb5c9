"""Tables of api/breakouts.

Where a participant *is* lives on ``participants.breakout_room_id`` (set only while rooms are open); these tables
hold the rest: the rooms, the plan of who goes where (kept across openings, like "recreate rooms"), and the
open/closing state with its deadlines. Deadlines are stored rather than held in timers so that any API process,
including one started after a crash, can finish a due close.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dbschema.models import Base, UTCDateTime, utcnow


class BreakoutState(Base):
    """One row per meeting that has used breakout rooms: settings and where the open/close cycle stands."""

    __tablename__ = "breakout_states"
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="closed")  # closed | open | closing
    allow_choose: Mapped[bool] = mapped_column(Boolean, default=False)
    """Whether participants may pick (and switch) rooms themselves while rooms are open."""
    grace_s: Mapped[int] = mapped_column(Integer, default=60)
    """Countdown used when the timer runs out (a manual close names its own)."""
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """While open with a timer: when the closing countdown starts by itself."""
    returns_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """While closing: when everyone is brought back to the main room."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # The sweeper looks only at meetings whose rooms are open or closing.
    __table_args__ = (Index("ix_breakout_states_status", "status"),)


class BreakoutRoom(Base):
    __tablename__ = "breakout_rooms"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    """Display order; new rooms go after the existing ones."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_breakout_rooms_meeting_position", "meeting_id", "position"),)


class BreakoutAssignment(Base):
    """The plan: which room a participant goes to when rooms open. One room per participant."""

    __tablename__ = "breakout_assignments"
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("breakout_rooms.id", ondelete="CASCADE"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = ["Base", "BreakoutAssignment", "BreakoutRoom", "BreakoutState"]
