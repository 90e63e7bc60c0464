"""notifications: subscriptions, the outbox, the WebHook delivery journal

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 14:40:00.000000

New tables only: nothing to backfill.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("extension_id", sa.BigInteger(), nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("transport", sa.String(16), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("verification_token", sa.String(64), nullable=True),
        sa.Column("token_header", sa.String(32), nullable=True),
        sa.Column("ws_session_id", sa.String(64), nullable=True),
        sa.Column("event_filters", sa.Text(), nullable=False),
        sa.Column("disabled_filters", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("creation_ms", sa.BigInteger(), nullable=False),
        sa.Column("expiration_ms", sa.BigInteger(), nullable=False),
        sa.Column("blacklisted_ms", sa.BigInteger(), nullable=True),
        sa.Column("blacklisted_reason", sa.Text(), nullable=True),
        sa.Column("delivered_through", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_ms", sa.BigInteger(), nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_subscriptions_owner", "subscriptions", ["extension_id", "app_id"])
    op.create_index("ix_subscriptions_account", "subscriptions", ["account_id"])
    op.create_table(
        "notification_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("extension_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "notification_attempts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.String(36), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("uuid", sa.String(64), nullable=False),
        sa.Column("attempt_ms", sa.BigInteger(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("redelivery", sa.Boolean(), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_notification_attempts_subscription",
        "notification_attempts",
        ["subscription_id", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_notification_attempts_subscription", table_name="notification_attempts")
    op.drop_table("notification_attempts")
    op.drop_table("notification_events")
    op.drop_index("ix_subscriptions_account", table_name="subscriptions")
    op.drop_index("ix_subscriptions_owner", table_name="subscriptions")
    op.drop_table("subscriptions")
