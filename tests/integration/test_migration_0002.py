"""Revision 0002 renders the fixed part of the messages stored before it (messages.fixed_json),
on both databases, exactly as the code renders it for new messages."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from ringlet.domain.enums import Direction, MessageStatus, MessageType, ReadStatus
from ringlet.domain.model import Party
from ringlet.message_json import stored_record
from ringlet.store import messages, migrate, parties
from ringlet.store.database import create_engine
from tests.support.server import fresh_database

ACCOUNT, OWNER = 7001, 7101

_ROWS = [
    # (id, type, direction, subject, parties, availability, pg_to_department)
    (
        1,
        MessageType.SMS,
        Direction.OUTBOUND,
        'Grüße "quoted"\nline 👋',
        parties.encode_parties(
            Party(phone_number="+16505550100", name='O\'Neil "Bob"'),
            (Party(phone_number="+16505550101"),),
        ),
        "Alive",
        None,
    ),
    (
        2,
        MessageType.PAGER,
        Direction.INBOUND,
        "pager",
        parties.encode_parties(
            Party(extension_number="101", extension_id=7100, name="Olivia"),
            (
                Party(extension_number="101", extension_id=7100, name="Olivia"),
                Party(extension_number="201", extension_id=7201, name="Queue", target=True),
                Party(
                    extension_number="102",
                    extension_id=OWNER,
                    message_status=MessageStatus.RECEIVED,
                ),
            ),
        ),
        "Purged",
        True,
    ),
]


def _conversation(message_id: int) -> int:
    return 4_500_000_000_000_000 + message_id


def test_0002_fills_fixed_json_of_existing_messages(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path / "db") as url:
        engine = create_engine(url, writer=True)
        try:
            config = migrate.alembic_config()
            with engine.begin() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, "0001")
                # R12: the Pager copy is readable by its owner only as a member of its thread.
                conn.execute(
                    sa.text(
                        "INSERT INTO accounts (id, name, operator_extension_number)"
                        " VALUES (:a, 'Acme', '101')"
                    ),
                    {"a": ACCOUNT},
                )
                conn.execute(
                    sa.text("INSERT INTO pager_threads VALUES (:c, :a)"),
                    {"c": _conversation(2), "a": ACCOUNT},
                )
                conn.execute(
                    sa.text("INSERT INTO pager_thread_members VALUES (:c, :e)"),
                    {"c": _conversation(2), "e": OWNER},
                )
                for message_id, kind, direction, subject, parties, availability, pg in _ROWS:
                    conn.execute(
                        sa.text(
                            "INSERT INTO messages (id, account_id, extension_id, type, direction,"
                            " conversation_id, subject, parties, read_status, availability,"
                            " message_status, pg_to_department, creation_ms, modified_ms)"
                            " VALUES (:id, :a, :e, :t, :d, :c, :s, :p, :r, :av, :ms, :pg,"
                            " :cms, :mms)"
                        ),
                        {
                            "id": message_id,
                            "a": ACCOUNT,
                            "e": OWNER,
                            "t": kind.value,
                            "d": direction.value,
                            "c": _conversation(message_id),
                            "s": subject,
                            "p": parties,
                            "r": ReadStatus.UNREAD.value,
                            "av": availability,
                            "ms": MessageStatus.RECEIVED.value,
                            "pg": pg,
                            "cms": 1_700_000_000_123 + message_id,
                            "mms": 1_700_000_000_999,
                        },
                    )
            migrate.upgrade(engine)
            with engine.connect() as conn:
                stored = {
                    r.id: r.fixed_json
                    for r in conn.execute(sa.text("SELECT id, fixed_json FROM messages"))
                }
                found = messages.get_messages(conn, ACCOUNT, OWNER, [1, 2])
            assert sorted(stored) == sorted(found) == [1, 2]
            for message_id, message in found.items():
                # What 0002 stored is what a stored message renders to today.
                assert stored[message_id] == stored_record(message)[1]
            assert '"pgToDepartment":true' in stored[2]
            assert '"smsSendingAttemptsCount":1' in stored[1]
        finally:
            engine.dispose()
