"""Tables of api/polls.

Who voted and what was chosen live in different tables so that an anonymous poll can keep the first without
the second:

- ``poll_ballots`` says *that* a participant voted (its primary key is what makes voting once hold, even for two
  requests racing);
- ``poll_choices`` says *what* a named ballot chose; anonymous polls never write a row here;
- ``poll_options.votes`` is the running tally every vote increments, so results never need the choices.

For anonymous polls the ballot has no timestamp and the hosts' live tally is released in batches
(``released_votes``), so neither the tables nor the live events let anyone line a voter up with a change in the
counts. `api/polls/service.py` explains the rules.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, ForeignKeyConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dbschema.models import Base, UTCDateTime, utcnow


class Poll(Base):
    __tablename__ = "polls"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"), nullable=True)
    """The host or co-host who wrote it; None when the meeting's owner did so from outside the call."""
    question: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))  # single | multiple
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | launched | ended
    results_shared: Mapped[bool] = mapped_column(Boolean, default=False)
    voter_count: Mapped[int] = mapped_column(Integer, default=0)
    """Ballots cast."""
    released_voter_count: Mapped[int] = mapped_column(Integer, default=0)
    """Ballots included in the options' ``released_votes`` (equal to ``voter_count`` except for an open anonymous
    poll between two releases)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_polls_meeting_created", "meeting_id", "created_at", "id"),)


class PollOption(Base):
    __tablename__ = "poll_options"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(200))
    votes: Mapped[int] = mapped_column(Integer, default=0)
    """Every vote counted so far."""
    released_votes: Mapped[int] = mapped_column(Integer, default=0)
    """What hosts are shown while the poll is open (see ``Poll.released_voter_count``)."""

    __table_args__ = (UniqueConstraint("poll_id", "position", name="uq_poll_options_poll_position"),)


class PollBallot(Base):
    """That a participant voted. Never says what they chose."""

    __tablename__ = "poll_ballots"
    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True)
    cast_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """None for anonymous polls: a time would let the ballots be lined up with the tally's history."""


class PollChoice(Base):
    """What a named (non-anonymous) ballot chose: one row per chosen option."""

    __tablename__ = "poll_choices"
    poll_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    participant_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    option_id: Mapped[str] = mapped_column(ForeignKey("poll_options.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (
        # A choice exists only under its ballot.
        ForeignKeyConstraint(
            ["poll_id", "participant_id"],
            ["poll_ballots.poll_id", "poll_ballots.participant_id"],
            name="fk_poll_choices_ballot",
            ondelete="CASCADE",
        ),
    )
