"""accounts.country: the country an account's numbers are read in

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:00:00.000000

ISO 3166-1 alpha-2 (domain/phone_numbers.py). Existing accounts are in the United States, the
country every number was read in before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country", sa.String(2), nullable=False, server_default="US"))


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("country")
