"""The store change counters on a real database (store/store_versions.py): bumped at commit by
exactly the changes that can alter what a store lists, and not by a transaction rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ringlet.store import directory, migrate, store_versions, threads
from ringlet.store.database import Database
from ringlet.store.schema import accounts, department_members, extensions
from tests.support.server import fresh_database

ACCOUNT = 1
OLIVIA, BOB, CAROL, DAN, QUEUE, OTHER_QUEUE = 11, 12, 13, 14, 21, 22


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[Database]:
    with fresh_database(backend, tmp_path / "db") as url:
        db = Database(url)
        migrate.upgrade(db.writer_engine)
        db.write_now(_directory)
        try:
            yield db
        finally:
            db.close()


def _directory(conn: Connection) -> None:
    conn.execute(
        sa.insert(accounts).values(
            id=ACCOUNT, name="A", main_number=None, operator_extension_number="101"
        )
    )
    people = {OLIVIA: "User", BOB: "User", CAROL: "User", DAN: "User"}
    queues = {QUEUE: "Department", OTHER_QUEUE: "Department"}
    for number, (ext_id, ext_type) in enumerate({**people, **queues}.items(), start=101):
        conn.execute(
            sa.insert(extensions).values(
                id=ext_id,
                account_id=ACCOUNT,
                extension_number=str(number),
                type=ext_type,
                status="Disabled" if ext_id == DAN else "Enabled",
                name=f"E{ext_id}",
                admin=False,
            )
        )
    conn.execute(
        sa.insert(department_members),
        [
            {"department_id": QUEUE, "extension_id": BOB},
            {"department_id": OTHER_QUEUE, "extension_id": CAROL},
            {"department_id": OTHER_QUEUE, "extension_id": DAN},
        ],
    )


def _versions(db: Database) -> dict[int, int]:
    ids = (OLIVIA, BOB, CAROL, DAN)
    return db.read_now(lambda conn: {e: store_versions.current(conn, e) for e in ids})


def test_joining_a_thread_bumps_every_new_reader_inactive_ones_too(database: Database) -> None:
    conversation = 555
    database.write_now(
        lambda conn: threads.create_thread(conn, ACCOUNT, conversation, {OLIVIA}, {QUEUE})
    )
    # A new thread changes nobody's list by itself: its copies do (messages.insert_messages).
    assert _versions(database) == {OLIVIA: 0, BOB: 0, CAROL: 0, DAN: 0}

    def join(conn: Connection) -> None:
        existing = threads.thread(conn, ACCOUNT, conversation)
        threads.add_thread_members(conn, conversation, {OLIVIA}, {QUEUE, OTHER_QUEUE}, existing)

    database.write_now(join)
    # OTHER_QUEUE's members, the disabled Dan included; Olivia and Bob were readers already.
    assert _versions(database) == {OLIVIA: 0, BOB: 0, CAROL: 1, DAN: 1}


def test_membership_changes_bump_the_members_concerned(database: Database) -> None:
    database.write_now(
        lambda conn: directory.change_department_members(conn, QUEUE, [CAROL], [BOB])
    )
    assert _versions(database) == {OLIVIA: 0, BOB: 1, CAROL: 1, DAN: 0}


def test_a_rolled_back_transaction_bumps_nothing(database: Database) -> None:
    def fails(conn: Connection) -> None:
        store_versions.touch(conn, [OLIVIA])
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        database.write_now(fails)
    database.write_now(lambda conn: store_versions.touch(conn, [BOB]))
    assert _versions(database) == {OLIVIA: 0, BOB: 1, CAROL: 0, DAN: 0}
