"""conversation_heads: the newest message of each conversation in each store, per availability

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 02:00:00.000000

distinctConversations walked its window newest first, asking of each message whether its
conversation had a newer one, so one busy conversation made every such list visit all of that
conversation's messages in the window (bench/README.md, "Memory soak"). The list now walks
this table instead (store/conversation_heads.py keeps it at each commit). Filled here from
the messages already stored: one pass over them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each (store, availability, conversation)'s newest message, by creation time, then id.
_FILL = (
    "INSERT INTO conversation_heads "
    "(extension_id, availability, conversation_id, creation_ms, message_id) "
    "SELECT extension_id, availability, conversation_id, creation_ms, id FROM ("
    "SELECT extension_id, availability, conversation_id, creation_ms, id, row_number() OVER ("
    "PARTITION BY extension_id, availability, conversation_id "
    "ORDER BY creation_ms DESC, id DESC) AS newest FROM messages) AS ranked WHERE newest = 1"
)


def upgrade() -> None:
    op.create_table(
        "conversation_heads",
        sa.Column("extension_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("availability", sa.String(length=16), nullable=False),
        sa.Column("conversation_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("creation_ms", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("extension_id", "availability", "conversation_id"),
    )
    op.create_index(
        "ix_conversation_heads_newest",
        "conversation_heads",
        ["extension_id", "availability", "creation_ms", "message_id"],
        unique=False,
    )
    op.execute(_FILL)


def downgrade() -> None:
    op.drop_index("ix_conversation_heads_newest", table_name="conversation_heads")
    op.drop_table("conversation_heads")
