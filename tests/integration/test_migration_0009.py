"""Revision 0009 fills conversation_heads from the messages stored before it, on both
databases: per store, availability and conversation, the newest message by creation time, then
id (a later id may be older: imported history)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from ringlet.store import migrate
from ringlet.store.database import create_engine
from tests.support.server import fresh_database

ACCOUNT, OLIVIA, BOB = 7001, 7101, 7102

# (id, store, conversation, availability, creation_ms)
_ROWS = [
    (1, OLIVIA, 50, "Alive", 1_000),
    (2, OLIVIA, 50, "Alive", 3_000),  # the head of (Olivia, Alive, 50)
    (3, OLIVIA, 50, "Alive", 2_000),  # a later id, older
    (4, OLIVIA, 50, "Deleted", 5_000),  # the head of (Olivia, Deleted, 50)
    (5, OLIVIA, 60, "Alive", 3_000),
    (6, OLIVIA, 60, "Alive", 3_000),  # the same time as 5: the higher id is newer
    (7, BOB, 50, "Alive", 500),  # another store's copy of conversation 50
    (8, BOB, 50, "Purged", 400),
]


def test_0009_fills_the_heads_of_existing_messages(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path / "db") as url:
        engine = create_engine(url, writer=True)
        try:
            config = migrate.alembic_config()
            with engine.begin() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, "0008")
                for message_id, store, conversation, availability, creation in _ROWS:
                    conn.execute(
                        sa.text(
                            "INSERT INTO messages (id, account_id, extension_id, type, direction,"
                            " conversation_id, subject, parties, fixed_json, read_status,"
                            " availability, message_status, creation_ms, modified_ms) VALUES"
                            " (:id, :a, :e, 'SMS', 'Outbound', :c, 's', '{}', '', 'Read', :av,"
                            " 'Sent', :cms, :cms)"
                        ),
                        {
                            "id": message_id,
                            "a": ACCOUNT,
                            "e": store,
                            "c": conversation,
                            "av": availability,
                            "cms": creation,
                        },
                    )
            migrate.upgrade(engine)
            with engine.connect() as conn:
                heads = {
                    tuple(row)
                    for row in conn.execute(
                        sa.text(
                            "SELECT extension_id, availability, conversation_id, creation_ms,"
                            " message_id FROM conversation_heads"
                        )
                    )
                }
            assert heads == {
                (OLIVIA, "Alive", 50, 3_000, 2),
                (OLIVIA, "Deleted", 50, 5_000, 4),
                (OLIVIA, "Alive", 60, 3_000, 6),
                (BOB, "Alive", 50, 500, 7),
                (BOB, "Purged", 50, 400, 8),
            }
        finally:
            engine.dispose()
