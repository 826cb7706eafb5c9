"""polls, options, ballots, choices

Revision ID: 0004
Revises: 0003

Refers only to tables from 0001 (meetings, participants), so it does not care what 0003 (chat) creates.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dbschema.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "polls",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("results_shared", sa.Boolean(), nullable=False),
        sa.Column("voter_count", sa.Integer(), nullable=False),
        sa.Column("released_voter_count", sa.Integer(), nullable=False),
        sa.Column("created_at", dbschema.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", dbschema.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("launched_at", dbschema.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", dbschema.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("shared_at", dbschema.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_polls_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["participants.id"], name=op.f("fk_polls_created_by_participants"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
    )
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.create_index("ix_polls_meeting_created", ["meeting_id", "created_at", "id"], unique=False)

    op.create_table(
        "poll_options",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("poll_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("released_votes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_poll_options_poll_id_polls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_options")),
        sa.UniqueConstraint("poll_id", "position", name="uq_poll_options_poll_position"),
    )
    op.create_table(
        "poll_ballots",
        sa.Column("poll_id", sa.String(length=32), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("cast_at", dbschema.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_poll_ballots_poll_id_polls"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_poll_ballots_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("poll_id", "participant_id", name=op.f("pk_poll_ballots")),
    )
    op.create_table(
        "poll_choices",
        sa.Column("poll_id", sa.String(length=32), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("option_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id", "participant_id"],
            ["poll_ballots.poll_id", "poll_ballots.participant_id"],
            name="fk_poll_choices_ballot",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["option_id"], ["poll_options.id"], name=op.f("fk_poll_choices_option_id_poll_options"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("poll_id", "participant_id", "option_id", name=op.f("pk_poll_choices")),
    )


def downgrade() -> None:
    op.drop_table("poll_choices")
    op.drop_table("poll_ballots")
    op.drop_table("poll_options")
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.drop_index("ix_polls_meeting_created")
    op.drop_table("polls")
