"""recordings: processing lease

Revision ID: 0009
Revises: 0008

``lease_until`` is how long the API process that claimed a recording for processing holds it; it renews the
lease while it works. A recording still "processing" past its lease was left by a process that died, and is
claimed again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dbschema.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("lease_until", dbschema.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.drop_column("lease_until")
