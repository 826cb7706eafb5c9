"""a recording may be a breakout room's

Revision ID: 0013_recording_breakout_room
Revises: 0012_transcript_language

``recordings.breakout_room_id`` and ``recordings.breakout_room_name``: while a meeting records and its breakout
rooms are open, each room is recorded on its own (a recording must never mix rooms); both are null for the main
room's recording, which every row before this revision is. No foreign key: a room is deleted with its plan while
its recordings stay, so the name is kept on the row as it was when the room was recorded. Plain ADD/DROP COLUMN
(as 0012), no batch rebuild on SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_recording_breakout_room"
down_revision = "0012_transcript_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("recordings", sa.Column("breakout_room_id", sa.String(32), nullable=True))
    op.add_column("recordings", sa.Column("breakout_room_name", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("recordings", "breakout_room_name")
    op.drop_column("recordings", "breakout_room_id")
