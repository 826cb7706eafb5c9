"""transcript segments carry the language they were transcribed in

Revision ID: 0012_transcript_language
Revises: 0011

``transcript_segments.language``: the ISO 639-1 code each line was transcribed in (nullable: lines stored
before this revision were all English, but nobody recorded it). Plain ADD/DROP COLUMN rather than a batch
operation: on SQLite a batch rebuild would recreate the table under the FTS5 triggers of 0008.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_transcript_language"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("transcript_segments", sa.Column("language", sa.String(16), nullable=True))


def downgrade() -> None:
    op.drop_column("transcript_segments", "language")
