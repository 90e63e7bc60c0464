"""message_store_versions: a change counter per message store

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 09:00:00.000000

Stores without a row are at version 0; the first committed change creates the row at 1, so
existing databases need no backfill.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message_store_versions",
        sa.Column("extension_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("extension_id"),
    )


def downgrade() -> None:
    op.drop_table("message_store_versions")
