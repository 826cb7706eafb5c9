"""recordings

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dbschema.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_by", sa.String(length=32), nullable=True),
        sa.Column("started_at", dbschema.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", dbschema.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("capturing_since", dbschema.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recorded_s", sa.Float(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("created_at", dbschema.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_recordings_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["started_by"], ["participants.id"], name=op.f("fk_recordings_started_by_participants"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
    )
    op.create_index("ix_recordings_meeting_started", "recordings", ["meeting_id", "started_at"], unique=False)
    op.create_table(
        "recording_shares",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("recording_id", sa.String(length=32), nullable=False),
        sa.Column("passcode_hash", sa.String(length=200), nullable=True),
        sa.Column("expires_at", dbschema.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", dbschema.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_recording_shares_recording_id_recordings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_shares")),
    )
    op.create_index(op.f("ix_recording_shares_recording_id"), "recording_shares", ["recording_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_recording_shares_recording_id"), table_name="recording_shares")
    op.drop_table("recording_shares")
    op.drop_index("ix_recordings_meeting_started", table_name="recordings")
    op.drop_table("recordings")
