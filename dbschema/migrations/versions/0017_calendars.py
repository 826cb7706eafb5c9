"""Calendars: per-user ICS feed secrets, a meeting's iCalendar state, e-mail invitees (issue 18)

Revision ID: 0017_calendars
Revises: 0016_api_keys

``calendar_feeds``: one secret feed per user (SHA-256 of the secret only). ``meeting_calendars``: SEQUENCE,
skipped occurrences (EXDATE) and whether calendar files carry the passcode. ``meeting_invitees``: addresses that
get iMIP invitations. Three new tables: no batch rebuild on SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dbschema.models import UTCDateTime

revision = "0017_calendars"
down_revision = "0016_api_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("secret_digest", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calendar_feeds_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("secret_digest", name=op.f("uq_calendar_feeds_secret_digest")),
    )
    op.create_table(
        "meeting_calendars",
        sa.Column("meeting_id", sa.String(32), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("exdates", sa.JSON(), nullable=False),
        sa.Column("include_passcode", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_meeting_calendars_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_meeting_calendars")),
    )
    op.create_table(
        "meeting_invitees",
        sa.Column("meeting_id", sa.String(32), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_meeting_invitees_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("meeting_id", "email", name=op.f("pk_meeting_invitees")),
    )


def downgrade() -> None:
    op.drop_table("meeting_invitees")
    op.drop_table("meeting_calendars")
    op.drop_table("calendar_feeds")
