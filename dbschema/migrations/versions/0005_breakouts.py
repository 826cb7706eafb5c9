"""breakout rooms

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dbschema.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only tables of 0001/0002 are referenced (meetings, participants): 0003/0004 belong to other domains.
    op.create_table(
        "breakout_states",
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("allow_choose", sa.Boolean(), nullable=False),
        sa.Column("grace_s", sa.Integer(), nullable=False),
        sa.Column("opened_at", dbschema.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closes_at", dbschema.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("returns_at", dbschema.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", dbschema.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_breakout_states_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_breakout_states")),
    )
    op.create_index("ix_breakout_states_status", "breakout_states", ["status"], unique=False)

    op.create_table(
        "breakout_rooms",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", dbschema.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_breakout_rooms_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breakout_rooms")),
    )
    op.create_index("ix_breakout_rooms_meeting_position", "breakout_rooms", ["meeting_id", "position"], unique=False)

    op.create_table(
        "breakout_assignments",
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("room_id", sa.String(length=32), nullable=False),
        sa.Column("assigned_at", dbschema.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_breakout_assignments_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_breakout_assignments_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["breakout_rooms.id"],
            name=op.f("fk_breakout_assignments_room_id_breakout_rooms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("participant_id", name=op.f("pk_breakout_assignments")),
    )
    op.create_index(op.f("ix_breakout_assignments_meeting_id"), "breakout_assignments", ["meeting_id"], unique=False)
    op.create_index(op.f("ix_breakout_assignments_room_id"), "breakout_assignments", ["room_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_breakout_assignments_room_id"), table_name="breakout_assignments")
    op.drop_index(op.f("ix_breakout_assignments_meeting_id"), table_name="breakout_assignments")
    op.drop_table("breakout_assignments")
    op.drop_index("ix_breakout_rooms_meeting_position", table_name="breakout_rooms")
    op.drop_table("breakout_rooms")
    op.drop_index("ix_breakout_states_status", table_name="breakout_states")
    op.drop_table("breakout_states")
