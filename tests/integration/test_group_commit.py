"""The store's group commit on a real database: every write of a batch keeps all of its
records or none, and a caller hears back only once its write is durable."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ringlet.store import migrate
from ringlet.store.database import Database
from ringlet.store.schema import accounts
from tests.support.server import fresh_database


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[Database]:
    with fresh_database(backend, tmp_path / "db") as url:
        db = Database(url)
        migrate.upgrade(db.writer_engine)
        db.start()
        try:
            yield db
        finally:
            db.close()


def _insert(account_id: int, fail_after: bool = False):  # type: ignore[no-untyped-def]
    def work(conn: Connection) -> int:
        conn.execute(
            sa.insert(accounts).values(
                id=account_id, name="A", main_number=None, operator_extension_number="101"
            )
        )
        if fail_after:
            raise ValueError(f"job {account_id} fails after writing")
        return account_id

    return work


def _ids(db: Database) -> set[int]:
    return set(db.read_now(lambda conn: conn.execute(sa.select(accounts.c.id)).scalars().all()))


def test_a_failing_write_in_a_batch_leaves_nothing_and_spares_the_others(
    database: Database,
) -> None:
    async def run() -> list[object]:
        jobs = [database.write(_insert(i, fail_after=(i % 3 == 0))) for i in range(1, 31)]
        return await asyncio.gather(*jobs, return_exceptions=True)

    results = asyncio.run(run())
    failed = {i for i, r in zip(range(1, 31), results, strict=True) if isinstance(r, ValueError)}
    assert failed == {i for i in range(1, 31) if i % 3 == 0}
    assert _ids(database) == set(range(1, 31)) - failed


def test_a_lone_failing_write_is_rolled_back(database: Database) -> None:
    async def run() -> None:
        await database.write(_insert(7, fail_after=True))

    with pytest.raises(ValueError):
        asyncio.run(run())
    assert _ids(database) == set()


def test_a_database_error_fails_only_its_own_write(database: Database) -> None:
    async def run() -> list[object]:
        return await asyncio.gather(
            database.write(_insert(1)),
            database.write(_insert(1)),  # duplicate key: an error from the database itself
            database.write(_insert(2)),
            return_exceptions=True,
        )

    first, duplicate, third = asyncio.run(run())
    assert first == 1 and third == 2
    assert isinstance(duplicate, sa.exc.IntegrityError)
    assert _ids(database) == {1, 2}


def test_acknowledged_writes_survive_reopening(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path / "db") as url:
        db = Database(url)
        migrate.upgrade(db.writer_engine)
        db.start()

        async def run() -> None:
            await asyncio.gather(*(db.write(_insert(i)) for i in range(1, 11)))

        asyncio.run(run())
        db.close()
        reopened = Database(url)
        try:
            assert _ids(reopened) == set(range(1, 11))
        finally:
            reopened.close()
