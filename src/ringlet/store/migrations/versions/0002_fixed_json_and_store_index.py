"""messages.fixed_json (the pre-encoded fixed part of each record) and id in ix_messages_store

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 10:00:00.000000

Existing messages get their fixed part rendered here, by the function that renders it for new
ones (ringlet/message_json.fixed_members), so that the column can be NOT NULL and reading never
needs a second way to render a record.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ringlet.message_json import fixed_members
from ringlet.store.parties import StoredFixedPart

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The table as this revision knows it, independent of what schema.py says later.
_messages = sa.table(
    "messages",
    sa.column("id", sa.BigInteger()),
    sa.column("type", sa.String()),
    sa.column("direction", sa.String()),
    sa.column("conversation_id", sa.BigInteger()),
    sa.column("parties", sa.Text()),
    sa.column("pg_to_department", sa.Boolean()),
    sa.column("creation_ms", sa.BigInteger()),
    sa.column("fixed_json", sa.Text()),
)
_BATCH = 2000


def _fill_fixed_json(conn: sa.Connection) -> None:
    m = _messages.c
    update = (
        sa.update(_messages)
        .where(m.id == sa.bindparam("b_id"))
        .values(fixed_json=sa.bindparam("b_fixed"))
    )
    last_id = -1
    while True:
        rows = conn.execute(
            sa.select(
                m.id,
                m.type,
                m.direction,
                m.parties,
                m.conversation_id,
                m.pg_to_department,
                m.creation_ms,
            )
            .where(m.id > last_id, m.fixed_json.is_(None))
            .order_by(m.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        conn.execute(
            update,
            [
                {
                    "b_id": r.id,
                    "b_fixed": fixed_members(
                        StoredFixedPart.of_row(
                            r.type, r.direction, r.parties, r.conversation_id, r.pg_to_department
                        ),
                        r.creation_ms,
                    ),
                }
                for r in rows
            ],
        )
        last_id = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fixed_json", sa.Text(), nullable=True))
    _fill_fixed_json(op.get_bind())
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.alter_column("fixed_json", existing_type=sa.Text(), nullable=False)
        batch_op.drop_index("ix_messages_store")
        batch_op.create_index(
            "ix_messages_store",
            ["extension_id", "availability", "creation_ms", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_store")
        batch_op.create_index(
            "ix_messages_store", ["extension_id", "availability", "creation_ms"], unique=False
        )
        batch_op.drop_column("fixed_json")
