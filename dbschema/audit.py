"""Tables of api/audit: the audit log of host actions, recording access and sign-ins.

A row belongs to a meeting (host actions, recording access: it goes when the meeting goes) or to an account
(sign-ins: it goes when the account goes), or to neither (a failed sign-in for an email with no account: kept
only for abuse investigation, readable by nobody through the API, pruned with the rest).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dbschema.models import Base, UTCDateTime, utcnow

# An INTEGER PRIMARY KEY on SQLite is the rowid (monotonic); BIGINT elsewhere. It is the pagination cursor.
_POS = BigInteger().with_variant(Integer(), "sqlite")


class AuditEntry(Base):
    __tablename__ = "audit_log"
    pos: Mapped[int] = mapped_column(_POS, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(64))
    """A stable machine-readable name, ``<thing>.<verb>`` (``participant.muted``, ``account.sign_in_failed``)."""
    meeting_id: Mapped[str | None] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), nullable=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    """The account whose own log this is (sign-ins); None for meeting rows."""
    actor_kind: Mapped[str] = mapped_column(String(16))
    """user | guest | anonymous | system."""
    actor_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    actor_participant_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    actor_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Display name at the time (replaced by "deleted user" when that account is deleted)."""
    client_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    target_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """participant | meeting | recording | account."""
    target_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        Index("ix_audit_log_meeting_pos", "meeting_id", "pos"),
        Index("ix_audit_log_user_pos", "user_id", "pos"),
        Index("ix_audit_log_actor_user", "actor_user_id"),
        Index("ix_audit_log_at", "at"),
    )


__all__ = ["AuditEntry", "Base"]
