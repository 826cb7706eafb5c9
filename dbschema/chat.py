"""Tables of api/chat: messages, their attachments and emoji reactions.

Full-text search lives beside these tables but outside the ORM (migration 0003): on SQLite an FTS5
external-content table ``chat_messages_fts`` kept in step by triggers, on PostgreSQL a generated ``search``
tsvector column with a GIN index. Neither appears here, so the ORM never selects or writes them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dbschema.models import Base, UTCDateTime, utcnow

# An INTEGER PRIMARY KEY on SQLite aliases the rowid (FTS5's content_rowid needs exactly that); BIGINT would not.
_POS = BigInteger().with_variant(Integer(), "sqlite")


class ChatFile(Base):
    """An uploaded file, stored at ``data_dir/files/<id>``; attached to at most one message."""

    __tablename__ = "chat_files"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    uploader_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    """Display name only (sanitised); never used to build a path."""
    content_type: Mapped[str] = mapped_column(String(127))
    """Sniffed from the bytes, not taken from the client."""
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """Set when its message was deleted; the bytes are removed from disk then."""


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    pos: Mapped[int] = mapped_column(_POS, primary_key=True, autoincrement=True)
    """Insertion order: the history cursor and the full-text index's rowid."""
    id: Mapped[str] = mapped_column(String(32), unique=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    sender_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    recipient_id: Mapped[str | None] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), nullable=True)
    """Set for a private message: only sender and recipient may see it."""
    room_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """Breakout room the message belongs to (None: the main room). No foreign key: rooms come and go."""
    reply_to_id: Mapped[str | None] = mapped_column(ForeignKey("chat_messages.id", ondelete="SET NULL"), nullable=True)
    attachment_id: Mapped[str | None] = mapped_column(
        ForeignKey("chat_files.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    text: Mapped[str] = mapped_column(Text)
    """Verbatim as sent; emptied when the message is deleted (the row stays as a tombstone)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by_id: Mapped[str | None] = mapped_column(String(32), nullable=True)

    __table_args__ = (Index("ix_chat_messages_meeting_pos", "meeting_id", "pos"),)


class ChatReaction(Base):
    """One participant's emoji on one message (toggled)."""

    __tablename__ = "chat_reactions"
    message_id: Mapped[str] = mapped_column(ForeignKey("chat_messages.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True)
    emoji: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = ["Base", "ChatFile", "ChatMessage", "ChatReaction"]
