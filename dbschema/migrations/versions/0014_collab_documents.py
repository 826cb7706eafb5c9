"""shared CRDT documents: meeting notes and whiteboards

Revision ID: 0014_collab_documents
Revises: 0013_recording_breakout_room

``collab_documents`` (one snapshot per document) and ``collab_updates`` (append-only batches of Yjs updates not
yet folded into the snapshot), both owned by their meeting (api/collab, dbschema/collab.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dbschema.models

revision = "0014_collab_documents"
down_revision = "0013_recording_breakout_room"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collab_documents",
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("snapshot", sa.LargeBinary(), nullable=False),
        sa.Column("folded_id", sa.BigInteger(), nullable=False),
        sa.Column("locked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", dbschema.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_collab_documents_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("meeting_id", "name", name=op.f("pk_collab_documents")),
    )
    op.create_table(
        "collab_updates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("at", dbschema.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_collab_updates_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collab_updates")),
    )
    op.create_index("ix_collab_updates_document", "collab_updates", ["meeting_id", "name", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_collab_updates_document", table_name="collab_updates")
    op.drop_table("collab_updates")
    op.drop_table("collab_documents")
