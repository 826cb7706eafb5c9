"""analytics: speaker turns and meeting counters

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dbschema.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "speaker_turns",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("started_at", dbschema.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", dbschema.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_speaker_turns_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_speaker_turns_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_speaker_turns")),
    )
    op.create_index("ix_speaker_turns_meeting_started", "speaker_turns", ["meeting_id", "started_at"], unique=False)
    op.create_table(
        "meeting_counters",
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_meeting_counters_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("meeting_id", "name", name=op.f("pk_meeting_counters")),
    )


def downgrade() -> None:
    op.drop_table("meeting_counters")
    op.drop_index("ix_speaker_turns_meeting_started", table_name="speaker_turns")
    op.drop_table("speaker_turns")
