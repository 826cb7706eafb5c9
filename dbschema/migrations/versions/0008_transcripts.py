"""transcript segments with full-text search

Revision ID: 0008
Revises: 0007

Search as for chat (0003): an FTS5 external-content table kept in step by triggers on SQLite, a generated
``search`` tsvector with a GIN index on PostgreSQL, both language-neutral (``unicode61`` / ``simple``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_POS = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE transcript_segments_fts USING fts5("
    "text, content='transcript_segments', content_rowid='pos', tokenize='unicode61 remove_diacritics 2')",
    # The FTS5 documentation's external-content triggers (https://sqlite.org/fts5.html section 4.4.3).
    "CREATE TRIGGER transcript_segments_fts_ai AFTER INSERT ON transcript_segments BEGIN "
    "INSERT INTO transcript_segments_fts(rowid, text) VALUES (new.pos, new.text); END",
    "CREATE TRIGGER transcript_segments_fts_ad AFTER DELETE ON transcript_segments BEGIN "
    "INSERT INTO transcript_segments_fts(transcript_segments_fts, rowid, text) VALUES ('delete', old.pos, old.text); "
    "END",
    "CREATE TRIGGER transcript_segments_fts_au AFTER UPDATE OF text ON transcript_segments BEGIN "
    "INSERT INTO transcript_segments_fts(transcript_segments_fts, rowid, text) VALUES ('delete', old.pos, old.text); "
    "INSERT INTO transcript_segments_fts(rowid, text) VALUES (new.pos, new.text); END",
]
_SQLITE_SEARCH_DOWN = [
    "DROP TRIGGER IF EXISTS transcript_segments_fts_au",
    "DROP TRIGGER IF EXISTS transcript_segments_fts_ad",
    "DROP TRIGGER IF EXISTS transcript_segments_fts_ai",
    "DROP TABLE IF EXISTS transcript_segments_fts",
]
_PG_SEARCH = [
    "ALTER TABLE transcript_segments ADD COLUMN search tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, text)) STORED",
    "CREATE INDEX ix_transcript_segments_search ON transcript_segments USING gin (search)",
]
_PG_SEARCH_DOWN = [
    "DROP INDEX IF EXISTS ix_transcript_segments_search",
    "ALTER TABLE transcript_segments DROP COLUMN IF EXISTS search",
]


def upgrade() -> None:
    op.create_table(
        "transcript_segments",
        sa.Column("pos", _POS, autoincrement=True, nullable=False),
        sa.Column("recording_id", sa.String(length=32), nullable=False),
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=True),
        sa.Column("speaker_name", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_transcript_segments_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_transcript_segments_recording_id_recordings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pos", name=op.f("pk_transcript_segments")),
    )
    op.create_index(
        "ix_transcript_segments_recording_start", "transcript_segments", ["recording_id", "start_s"], unique=False
    )
    op.create_index("ix_transcript_segments_meeting", "transcript_segments", ["meeting_id"], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_SEARCH if dialect == "sqlite" else _PG_SEARCH if dialect == "postgresql" else []:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_SEARCH_DOWN if dialect == "sqlite" else _PG_SEARCH_DOWN if dialect == "postgresql" else []:
        op.execute(statement)
    op.drop_index("ix_transcript_segments_meeting", table_name="transcript_segments")
    op.drop_index("ix_transcript_segments_recording_start", table_name="transcript_segments")
    op.drop_table("transcript_segments")
