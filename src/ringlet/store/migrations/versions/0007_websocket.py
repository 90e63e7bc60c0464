"""ws_tokens: the tokens of POST /restapi/oauth/wstoken

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ws_tokens",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("sealed_access", sa.Text(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_index("ix_ws_tokens_expires", "ws_tokens", ["expires_ms"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ws_tokens_expires", table_name="ws_tokens")
    op.drop_table("ws_tokens")
