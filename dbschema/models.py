"""Tables. Timestamps are stored as UTC and always come back timezone-aware, on SQLite too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime written to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    """None for an account that signs in only through single sign-on (api/sso)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recording_retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Recordings of this user's meetings are deleted this many days after they started; None: the server's
    ``API_RECORDING_RETENTION_DAYS`` (itself empty: keep forever)."""


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Meeting(Base):
    __tablename__ = "meetings"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[str] = mapped_column(String(11), unique=True)
    host_user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16))  # instant | scheduled
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    recurrence: Mapped[str | None] = mapped_column(String(500), nullable=True)
    last_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When the last occurrence ends; None while open-ended (a live instant meeting, an unbounded series).
    Lets "upcoming" and "past" be answered in SQL."""
    passcode_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    waiting_room: Mapped[bool] = mapped_column(Boolean, default=False)
    join_before_host: Mapped[bool] = mapped_column(Boolean, default=False)
    mute_on_entry: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_guests: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_self_unmute: Mapped[bool] = mapped_column(Boolean, default=True)
    host_only_screen_share: Mapped[bool] = mapped_column(Boolean, default=False)
    max_participants: Mapped[int] = mapped_column(Integer, default=100)
    auto_record: Mapped[bool] = mapped_column(Boolean, default=False)
    chat_policy: Mapped[str] = mapped_column(String(16), default="everyone", server_default="everyone")
    """Who participants may chat with: everyone | host_only | no_one (hosts may always chat)."""
    private_chat: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    guest_waiting_room: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    """Guests (not signed-in people) wait for admission even when the waiting room is off."""
    allow_local_recording: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    """Everyone may record locally (hosts and co-hosts always may; others also with a per-person grant)."""
    passcode_sealed: Mapped[str | None] = mapped_column(String(255), nullable=True)
    """The passcode encrypted with a key derived from the deployment secret, so hosts can read it again and
    invite links can carry a key derived from it; ``passcode_hash`` is what joins are checked against."""
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled|live|ended|cancelled
    spotlight_participant_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    event_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_meetings_host_start", "host_user_id", "starts_at", "id"),)


class Participant(Base):
    __tablename__ = "participants"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    guest_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # host | cohost | participant | guest
    state: Mapped[str] = mapped_column(String(16))  # waiting | admitted | left | denied | removed
    waiting_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)  # waiting_room | host_absent
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    client_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The server-issued identity of the browser or app that joined (see ``Credentials.client_token``): a
    blocked participant's client cannot come back as a new guest under another name."""
    client_addr: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """A keyed hash of the address it joined from (never the address itself): new guests from the address of
    someone blocked wait for admission."""
    local_recording_granted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    """The host let this person record locally (when the meeting does not let everyone)."""
    recording_locally: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    """Recording the meeting on their own device now: everyone is told when this starts and stops."""
    audio_muted: Mapped[bool] = mapped_column(Boolean, default=False)
    muted_by_host: Mapped[bool] = mapped_column(Boolean, default=False)
    unmute_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    video_on: Mapped[bool] = mapped_column(Boolean, default=False)
    video_stopped_by_host: Mapped[bool] = mapped_column(Boolean, default=False)
    sharing: Mapped[bool] = mapped_column(Boolean, default=False)
    hand_raised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    breakout_room_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The breakout room the participant is assigned to / in (None: the main room)."""
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """Last admission time (None while it has never been admitted)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("meeting_id", "user_id", name="uq_participants_meeting_user"),
        UniqueConstraint("meeting_id", "guest_id", name="uq_participants_meeting_guest"),
        Index("ix_participants_meeting_state", "meeting_id", "state"),
        Index("ix_participants_meeting_client", "meeting_id", "client_id"),
    )


class Attendance(Base):
    """Join/leave history: one row per state transition of a participant."""

    __tablename__ = "attendance"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MeetingEventRow(Base):
    """The meeting's event log: what subscribers were sent, in sequence, so they can resume."""

    __tablename__ = "meeting_events"
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
