"""chat messages, attachments, reactions, full-text search

Revision ID: 0003
Revises: 0002

Search is dialect-specific and lives outside the ORM models:
- SQLite: an FTS5 external-content table over ``chat_messages.text`` (rowid = ``pos``), kept in step by triggers,
  so the text is stored once and a deleted message's text leaves the index when it is emptied.
- PostgreSQL: a generated ``search`` tsvector column with a GIN index.
Both use a language-neutral tokenizer (``unicode61`` / the ``simple`` configuration): chat is multilingual, and
English stemming and stop words would make the two backends answer differently.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dbschema.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_POS = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE chat_messages_fts USING fts5("
    "text, content='chat_messages', content_rowid='pos', tokenize='unicode61 remove_diacritics 2')",
    # The FTS5 documentation's external-content triggers (https://sqlite.org/fts5.html section 4.4.3).
    "CREATE TRIGGER chat_messages_fts_ai AFTER INSERT ON chat_messages BEGIN "
    "INSERT INTO chat_messages_fts(rowid, text) VALUES (new.pos, new.text); END",
    "CREATE TRIGGER chat_messages_fts_ad AFTER DELETE ON chat_messages BEGIN "
    "INSERT INTO chat_messages_fts(chat_messages_fts, rowid, text) VALUES ('delete', old.pos, old.text); END",
    "CREATE TRIGGER chat_messages_fts_au AFTER UPDATE OF text ON chat_messages BEGIN "
    "INSERT INTO chat_messages_fts(chat_messages_fts, rowid, text) VALUES ('delete', old.pos, old.text); "
    "INSERT INTO chat_messages_fts(rowid, text) VALUES (new.pos, new.text); END",
]
_SQLITE_SEARCH_DOWN = [
    "DROP TRIGGER IF EXISTS chat_messages_fts_au",
    "DROP TRIGGER IF EXISTS chat_messages_fts_ad",
    "DROP TRIGGER IF EXISTS chat_messages_fts_ai",
    "DROP TABLE IF EXISTS chat_messages_fts",
]
_PG_SEARCH = [
    "ALTER TABLE chat_messages ADD COLUMN search tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, text)) STORED",
    "CREATE INDEX ix_chat_messages_search ON chat_messages USING gin (search)",
]
_PG_SEARCH_DOWN = [
    "DROP INDEX IF EXISTS ix_chat_messages_search",
    "ALTER TABLE chat_messages DROP COLUMN IF EXISTS search",
]


def upgrade() -> None:
    op.create_table(
        "chat_files",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("uploader_id", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", dbschema.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", dbschema.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_chat_files_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["uploader_id"],
            ["participants.id"],
            name=op.f("fk_chat_files_uploader_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_files")),
    )
    with op.batch_alter_table("chat_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_files_meeting_id"), ["meeting_id"], unique=False)

    op.create_table(
        "chat_messages",
        sa.Column("pos", _POS, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("sender_id", sa.String(length=32), nullable=False),
        sa.Column("recipient_id", sa.String(length=32), nullable=True),
        sa.Column("room_id", sa.String(length=32), nullable=True),
        sa.Column("reply_to_id", sa.String(length=32), nullable=True),
        sa.Column("attachment_id", sa.String(length=32), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", dbschema.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("edited_at", dbschema.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", dbschema.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_by_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["chat_files.id"],
            name=op.f("fk_chat_messages_attachment_id_chat_files"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_chat_messages_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["participants.id"],
            name=op.f("fk_chat_messages_recipient_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reply_to_id"],
            ["chat_messages.id"],
            name=op.f("fk_chat_messages_reply_to_id_chat_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["participants.id"],
            name=op.f("fk_chat_messages_sender_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pos", name=op.f("pk_chat_messages")),
        sa.UniqueConstraint("attachment_id", name=op.f("uq_chat_messages_attachment_id")),
        sa.UniqueConstraint("id", name=op.f("uq_chat_messages_id")),
    )
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.create_index("ix_chat_messages_meeting_pos", ["meeting_id", "pos"], unique=False)

    op.create_table(
        "chat_reactions",
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("emoji", sa.String(length=32), nullable=False),
        sa.Column("created_at", dbschema.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["chat_messages.id"],
            name=op.f("fk_chat_reactions_message_id_chat_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_chat_reactions_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "participant_id", "emoji", name=op.f("pk_chat_reactions")),
    )

    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_SEARCH if dialect == "sqlite" else _PG_SEARCH if dialect == "postgresql" else []:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_SEARCH_DOWN if dialect == "sqlite" else _PG_SEARCH_DOWN if dialect == "postgresql" else []:
        op.execute(statement)
    op.drop_table("chat_reactions")
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_messages_meeting_pos")
    op.drop_table("chat_messages")
    with op.batch_alter_table("chat_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_files_meeting_id"))
    op.drop_table("chat_files")
