"""who changed a shared document when: collab_changes

Revision ID: 0020_collab_changes
Revises: 0019_sso

``collab_changes``: one row per author (a participation) per stored batch of a document's edits
(api/collab/history.py). Kept when the batches themselves are compacted into a snapshot, deleted with the
meeting. One new table: no batch rebuild on
SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dbschema.models

revision = "0020_collab_changes"
down_revision = "0019_sso"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collab_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("updates", sa.Integer(), nullable=False),
        sa.Column("at", dbschema.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_collab_changes_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_collab_changes_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collab_changes")),
    )
    op.create_index("ix_collab_changes_document", "collab_changes", ["meeting_id", "name", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_collab_changes_document", table_name="collab_changes")
    op.drop_table("collab_changes")
