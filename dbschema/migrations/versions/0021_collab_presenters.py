"""hosts can let presenters draw on a locked document: collab_documents.presenters

Revision ID: 0021_collab_presenters
Revises: 0020_collab_changes

``presenters``: while ``locked``, people sharing their screen may change the document too (issue 17: "hosts can
limit drawing to hosts and presenters, or lock the board"). One column with a server default: an ALTER TABLE ADD
COLUMN on SQLite, no batch rebuild.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_collab_presenters"
down_revision = "0020_collab_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("collab_documents", sa.Column("presenters", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("collab_documents") as batch:
        batch.drop_column("presenters")
