"""audit log; per-account recording retention

Revision ID: 0010_audit_privacy
Revises: 0009

``audit_log`` records host actions, recording access and sign-ins (api/audit). ``users.recording_retention_days``
is how long the retention sweeper keeps the recordings of that user's meetings (api/privacy).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dbschema.models

revision = "0010_audit_privacy"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("pos", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", dbschema.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("meeting_id", sa.String(length=32), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_user_id", sa.String(length=32), nullable=True),
        sa.Column("actor_participant_id", sa.String(length=32), nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("target_kind", sa.String(length=16), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_audit_log_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_audit_log_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_audit_log_actor_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("pos", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_meeting_pos", "audit_log", ["meeting_id", "pos"], unique=False)
    op.create_index("ix_audit_log_user_pos", "audit_log", ["user_id", "pos"], unique=False)
    op.create_index("ix_audit_log_actor_user", "audit_log", ["actor_user_id"], unique=False)
    op.create_index("ix_audit_log_at", "audit_log", ["at"], unique=False)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("recording_retention_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("recording_retention_days")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_index("ix_audit_log_actor_user", table_name="audit_log")
    op.drop_index("ix_audit_log_user_pos", table_name="audit_log")
    op.drop_index("ix_audit_log_meeting_pos", table_name="audit_log")
    op.drop_table("audit_log")
