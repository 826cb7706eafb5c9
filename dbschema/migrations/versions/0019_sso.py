"""Single sign-on: identities at OpenID providers, sign-ins under way, one-time tickets, meetings that require
single sign-on; passwords optional (issue 18)

Revision ID: 0019_sso
Revises: 0018_caldav

``users.password_hash`` becomes nullable (an account made by single sign-on has no password): a batch rebuild
of ``users`` on SQLite, a plain ALTER on PostgreSQL. The downgrade gives password-less accounts an unusable
hash (no argon2 string matches ``!``) so the column can be NOT NULL again; they cannot log in with a password,
as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dbschema.models import UTCDateTime

revision = "0019_sso"
down_revision = "0018_caldav"
branch_labels = None
depends_on = None


def _set_password_nullable(nullable: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    enforced = sqlite and bool(op.get_bind().execute(sa.text("PRAGMA foreign_keys")).scalar())
    if enforced:
        # The batch rebuild drops ``users``; with foreign keys enforced that drop deletes every row pointing at
        # a user (SQLite "DROP TABLE": an implicit DELETE that runs ON DELETE CASCADE) - refresh tokens,
        # meetings, everything. The API's engine runs outside a transaction here (api/db.py: BEGIN only for
        # writers), where the pragma takes effect; it is checked and restored below.
        op.execute(sa.text("PRAGMA foreign_keys=OFF"))
        if op.get_bind().execute(sa.text("PRAGMA foreign_keys")).scalar():
            # Inside a transaction SQLite ignores the pragma: rebuilding now would delete every dependent row.
            raise RuntimeError("0019_sso: cannot turn SQLite foreign keys off inside a transaction; not rebuilding")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("password_hash", existing_type=sa.String(255), nullable=nullable)
    if enforced:
        broken = op.get_bind().execute(sa.text("PRAGMA foreign_key_check")).fetchall()
        if broken:
            raise RuntimeError(f"0019_sso: the users rebuild broke {len(broken)} foreign keys: {broken[:3]}")
        op.execute(sa.text("PRAGMA foreign_keys=ON"))


def upgrade() -> None:
    _set_password_nullable(True)
    op.create_table(
        "user_identities",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_sign_in_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_identities_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_identities")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_user_identities_issuer")),
    )
    op.create_index(op.f("ix_user_identities_user_id"), "user_identities", ["user_id"], unique=False)
    op.create_table(
        "sso_attempts",
        sa.Column("state_digest", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("browser_digest", sa.String(64), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_digest", name=op.f("pk_sso_attempts")),
    )
    op.create_index(op.f("ix_sso_attempts_expires_at"), "sso_attempts", ["expires_at"], unique=False)
    op.create_table(
        "sso_tickets",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sso_tickets_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_sso_tickets")),
    )
    op.create_index(op.f("ix_sso_tickets_expires_at"), "sso_tickets", ["expires_at"], unique=False)
    op.create_table(
        "meeting_sso_requirements",
        sa.Column("meeting_id", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_sso_requirements_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_meeting_sso_requirements")),
    )


def downgrade() -> None:
    op.drop_table("meeting_sso_requirements")
    op.drop_index(op.f("ix_sso_tickets_expires_at"), table_name="sso_tickets")
    op.drop_table("sso_tickets")
    op.drop_index(op.f("ix_sso_attempts_expires_at"), table_name="sso_attempts")
    op.drop_table("sso_attempts")
    op.drop_index(op.f("ix_user_identities_user_id"), table_name="user_identities")
    op.drop_table("user_identities")
    op.execute(sa.text("UPDATE users SET password_hash = '!' WHERE password_hash IS NULL"))
    _set_password_nullable(False)
