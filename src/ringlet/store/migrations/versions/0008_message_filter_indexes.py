"""Indexes for the message list's filters on large stores

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:30:00.000000

Measured with bench/scale.py and EXPLAIN on a store of 100,000 messages (bench/README.md,
"Large stores"):

- `ix_messages_conversation` gains availability, creation time and id: a conversationId list
  walks its own page backwards (it walked the whole 24-hour window of the store), and deleting
  a conversation finds its Alive messages in the index.
  It also answers distinctConversations' question, whether a conversation has a newer message
  than the one at hand (store/messages.py).
- `ix_messages_unread` (new): readStatus=Unread walks only unread messages (it walked the
  window until it had found a page of them).

Tried and dropped: conversation id, type and account id appended to `ix_messages_store`, so
that distinctConversations could group the window from the index alone. SQLite, which keeps no
statistics here, then preferred that covering index for deleting a conversation, and scanned a
whole store for it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONVERSATION = ["extension_id", "conversation_id"]


def upgrade() -> None:
    op.drop_index("ix_messages_conversation", table_name="messages")
    op.create_index(
        "ix_messages_conversation",
        "messages",
        [*_CONVERSATION, "availability", "creation_ms", "id"],
        unique=False,
    )
    op.create_index(
        "ix_messages_unread",
        "messages",
        ["extension_id", "read_status", "availability", "creation_ms", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_unread", table_name="messages")
    op.drop_index("ix_messages_conversation", table_name="messages")
    op.create_index("ix_messages_conversation", "messages", _CONVERSATION, unique=False)
