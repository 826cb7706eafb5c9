"""Tables of api/collab: shared CRDT documents (meeting notes, whiteboards).

A document is stored as Yjs updates (the binary format Yjs and pycrdt/Yrs share): ``collab_updates`` is
append-only (what clients sent since the last compaction, batched), ``collab_documents`` holds the snapshot those
updates were folded into. Loading a document = its snapshot merged with its remaining updates. The meeting owns its
documents: they stay after it ends and go with it (ON DELETE CASCADE).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from dbschema.models import Base, UTCDateTime, utcnow

_ID = BigInteger().with_variant(Integer(), "sqlite")


class CollabDocument(Base):
    __tablename__ = "collab_documents"
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(48), primary_key=True)
    """``notes`` or ``board:<room id or main>`` (api/collab/names.py)."""
    snapshot: Mapped[bytes] = mapped_column(LargeBinary)
    """Every update up to ``folded_id`` merged into one Yjs update (v1 encoding)."""
    folded_id: Mapped[int] = mapped_column(BigInteger, default=0)
    """The highest ``collab_updates.id`` merged into ``snapshot``."""
    locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    """A host locked it: only hosts and co-hosts may change it (and presenters, when ``presenters``)."""
    presenters: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    """While locked, people sharing their screen may change it too ("hosts and presenters")."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CollabUpdate(Base):
    __tablename__ = "collab_updates"
    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(48))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    """One or more client updates merged (a flush batch), Yjs v1 encoding."""
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_collab_updates_document", "meeting_id", "name", "id"),)


class CollabChange(Base):
    """Who changed a document when: one row per author per stored batch (``collab_updates`` rows are folded into
    the snapshot and deleted; this record is not)."""

    __tablename__ = "collab_changes"
    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(48))
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    """Who: their participation in the meeting (its display name is read when asked, so anonymising a deleted
    account's participations covers this record too)."""
    bytes: Mapped[int] = mapped_column(Integer)
    """Size of their Yjs updates in the batch: a rough measure of how much they changed."""
    updates: Mapped[int] = mapped_column(Integer)
    """How many updates (keystrokes, strokes…) of theirs the batch holds."""
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_collab_changes_document", "meeting_id", "name", "id"),)
