"""safer meetings: guest identity, guest waiting room, local-recording consent, sealed passcodes

Revision ID: 0011
Revises: 0010_audit_privacy

``participants.client_id`` / ``client_addr`` bind guests to the client (and, hashed, the address) they joined
from, so a blocked guest cannot come back under a new name; ``meetings.guest_waiting_room`` makes guests wait
for admission; ``allow_local_recording`` and ``participants.local_recording_granted`` say who may record
locally; ``passcode_sealed`` keeps the passcode readable for hosts and invite links.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010_audit_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(sa.Column("guest_waiting_room", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("allow_local_recording", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("passcode_sealed", sa.String(255), nullable=True))
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("client_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("client_addr", sa.String(32), nullable=True))
        batch.add_column(sa.Column("local_recording_granted", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("recording_locally", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index("ix_participants_meeting_client", ["meeting_id", "client_id"])


def downgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.drop_index("ix_participants_meeting_client")
        batch.drop_column("recording_locally")
        batch.drop_column("local_recording_granted")
        batch.drop_column("client_addr")
        batch.drop_column("client_id")
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("passcode_sealed")
        batch.drop_column("allow_local_recording")
        batch.drop_column("guest_waiting_room")
