"""A change counter per message store, shared by every process on the database.

Whatever can change what an extension's store lists — a message stored in it, a readStatus or
availability change, a change of department membership or of a thread's members (R12 decides
which Pager threads a reader still reads) — `touch`es the store inside its transaction. The
counters of every store touched are bumped once, just before that transaction commits, in
ascending order of extension id: a group commit of 50 sends between two extensions bumps two
rows, and on PostgreSQL two transactions never take the counters' row locks in opposite orders
(no deadlock). A job whose savepoint is rolled back still bumps its stores: one more bump only
costs a memo miss.

A reader takes `current` *before* it reads a page: a page read after a later commit is then
filed under the older version and merely missed next time, never served as newer than it is.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

_TOUCHED = "ringlet.touched_stores"
# Up to this many stores touched (a send between two extensions), one statement each.
_ONE_BY_ONE = 2
_BUMP_MANY_PG = (
    "INSERT INTO message_store_versions (extension_id, version) "
    "SELECT extension_id, 1 FROM unnest(%b::bigint[]) AS touched(extension_id) "
    "ORDER BY extension_id "
    "ON CONFLICT (extension_id) DO UPDATE SET version = message_store_versions.version + 1"
)


def touch(conn: Connection, extension_ids: Iterable[int]) -> None:
    """Mark these stores changed by the transaction in progress on `conn`."""
    touched: set[int] | None = conn.info.get(_TOUCHED)
    if touched is None:
        touched = conn.info[_TOUCHED] = set()
    touched.update(extension_ids)


@functools.cache
def _sql(paramstyle: str) -> tuple[str, str]:
    mark = "?" if paramstyle == "qmark" else "%s"
    bump = (
        f"INSERT INTO message_store_versions (extension_id, version) VALUES ({mark}, 1) "
        "ON CONFLICT (extension_id) DO UPDATE SET version = message_store_versions.version + 1"
    )
    read = f"SELECT version FROM message_store_versions WHERE extension_id = {mark}"
    return bump, read


def current(conn: Connection, extension_id: int) -> int:
    """The store's counter as committed (0: never changed). On the DBAPI cursor: the list asks
    on every request."""
    cursor: Any = conn.connection.cursor()
    try:
        cursor.execute(_sql(conn.dialect.paramstyle)[1], (extension_id,))
        row = cursor.fetchone()
    finally:
        cursor.close()
    return 0 if row is None else int(row[0])


def _bump_touched(conn: Connection) -> None:
    touched: set[int] | None = conn.info.pop(_TOUCHED, None)
    if not touched:
        return
    cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        bump = _sql(conn.dialect.paramstyle)[0]
        if len(touched) <= _ONE_BY_ONE:
            for extension_id in sorted(touched):
                cursor.execute(bump, (extension_id,))
        elif conn.dialect.name == "postgresql":
            # A fan-out (a Pager to a department): one statement over the sorted ids, whose
            # rows PostgreSQL takes in that order, rather than one statement per store.
            cursor.execute(_BUMP_MANY_PG, (sorted(touched),))
        else:
            # A fan-out on SQLite: one batch, still in ascending order.
            cursor.executemany(bump, [(extension_id,) for extension_id in sorted(touched)])
    finally:
        cursor.close()


def _forget_touched(conn: Connection) -> None:
    conn.info.pop(_TOUCHED, None)


def install(engine: Engine) -> None:
    """Bump the touched stores' counters as part of every commit on `engine` (the writer's)."""
    event.listen(engine, "commit", _bump_touched)
    event.listen(engine, "rollback", _forget_touched)
