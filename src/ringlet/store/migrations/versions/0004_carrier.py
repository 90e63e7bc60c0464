"""carrier: delivery status columns, the carrier outbox, handset records, carrier rules

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 14:40:00.000000

The new message columns are nullable: existing messages have no delivery receipt.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("delivery_error_code", sa.String(16), nullable=True))
        batch.add_column(sa.Column("sms_delivery_ms", sa.BigInteger(), nullable=True))
    op.create_table(
        "carrier_outbox",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("extension_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("from_number", sa.String(32), nullable=False),
        sa.Column("to_number", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("due_ms", sa.BigInteger(), nullable=False),
        sa.Column("lease_ms", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_carrier_outbox_due", "carrier_outbox", ["due_ms"])
    op.create_table(
        "handset_messages",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("handset", sa.String(32), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("from_number", sa.String(32), nullable=False),
        sa.Column("to_number", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("creation_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handset_messages_handset", "handset_messages", ["handset", "id"])
    op.create_table(
        "carrier_rules",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("to_number", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_code", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_carrier_rules_to", "carrier_rules", ["to_number"])


def downgrade() -> None:
    op.drop_table("carrier_rules")
    op.drop_table("handset_messages")
    op.drop_table("carrier_outbox")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("sms_delivery_ms")
        batch.drop_column("delivery_error_code")
