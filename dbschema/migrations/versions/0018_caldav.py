"""CalDAV: a user's connected calendar (credentials sealed) and the sync outbox of its entries (issue 18)

Revision ID: 0018_caldav
Revises: 0017_calendars

``calendar_connections``: one connected calendar per user (URL, username, AES-GCM-sealed password, last sync and
last error). ``calendar_sync_items``: per (connection, meeting), the entry still to write, with its retry state.
Two new tables: no batch rebuild on SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dbschema.models import UTCDateTime

revision = "0018_caldav"
down_revision = "0017_calendars"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_connections",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("username", sa.String(256), nullable=False),
        sa.Column("secret_sealed", sa.String(1024), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_synced_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("last_error_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calendar_connections_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_connections")),
        sa.UniqueConstraint("user_id", name=op.f("uq_calendar_connections_user_id")),
    )
    op.create_table(
        "calendar_sync_items",
        sa.Column("connection_id", sa.String(32), nullable=False),
        sa.Column("meeting_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("synced_sequence", sa.Integer(), nullable=True),
        sa.Column("synced_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["calendar_connections.id"],
            name=op.f("fk_calendar_sync_items_connection_id_calendar_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_calendar_sync_items_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("connection_id", "meeting_id", name=op.f("pk_calendar_sync_items")),
    )
    op.create_index(
        op.f("ix_calendar_sync_items_next_attempt_at"), "calendar_sync_items", ["next_attempt_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_calendar_sync_items_next_attempt_at"), table_name="calendar_sync_items")
    op.drop_table("calendar_sync_items")
    op.drop_table("calendar_connections")
