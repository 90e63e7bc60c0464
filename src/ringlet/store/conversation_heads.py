"""The newest message of each conversation in each store, per availability (the
`conversation_heads` table): what a distinctConversations list reads, so that its cost follows
its page and not the number of messages in its window.

Without it, the list walked the window newest first, asking of each message whether its
conversation had a newer one: a store with one busy conversation (an app texting a handset all
day) made every distinctConversations list visit all of that conversation's messages in the
window. The memory soak showed it (bench/README.md, "Memory soak"): 61 ms, then 564 ms five
minutes later, on a store of a million messages.

Kept by the writes themselves. A write that stores a message, or changes the availability of
messages, names the (store, availability, conversation) keys it may have changed (`touch`,
`touch_all_availabilities`), and just before the transaction commits each key's head is
recomputed from `messages` (one index seek on ix_messages_conversation), in key order. Reading
the table rather than applying the new rows keeps the heads right when a batch's job was rolled
back to its savepoint, when one transaction changes a conversation several times, and whatever
order a multi-row update visited its rows in.

Order of the commit's work (database.py installs the hooks): the store counters are bumped
first (store_versions: sorted row locks on PostgreSQL), then the heads. Every key names a store
whose counter the same transaction bumps, so two transactions that would write one head row
have already been put in order by that store's counter: no deadlock, and on PostgreSQL the
second recomputes after the first committed (each statement reads what is committed when it
starts).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from ringlet.domain.enums import Availability
from ringlet.store import store_versions

_KEYS: Final = "ringlet.conversation_heads"
_ALL_AVAILABILITIES: Final = tuple(a.value for a in Availability)

# One key: (extension_id, availability, conversation_id).
Key = tuple[int, str, int]

_NEWEST = (
    "SELECT extension_id, availability, conversation_id, creation_ms, id FROM messages "
    "WHERE extension_id = {e} AND conversation_id = {c} AND availability = {a} "
    "ORDER BY creation_ms DESC, id DESC LIMIT 1"
)
_UPSERT = (
    " ON CONFLICT (extension_id, availability, conversation_id) DO UPDATE SET "
    "creation_ms = excluded.creation_ms, message_id = excluded.message_id"
)
_INTO = (
    "INSERT INTO conversation_heads "
    "(extension_id, availability, conversation_id, creation_ms, message_id) "
)
_SQLITE_SET = _INTO + _NEWEST.format(e="?", c="?", a="?") + _UPSERT
# A key none of whose messages is left in that availability (all deleted, or restored).
_SQLITE_DROP = (
    "DELETE FROM conversation_heads WHERE extension_id = ? AND availability = ? "
    "AND conversation_id = ? AND NOT EXISTS (SELECT 1 FROM messages WHERE extension_id = ? "
    "AND conversation_id = ? AND availability = ?)"
)
_PG_KEYS = "unnest(%(e)s::bigint[], %(a)s::varchar[], %(c)s::bigint[]) AS k(e, a, c)"
_PG_SET = (
    _INTO
    + "SELECT m.extension_id, m.availability, m.conversation_id, m.creation_ms, m.id FROM "
    + _PG_KEYS
    + " CROSS JOIN LATERAL ("
    + _NEWEST.format(e="k.e", c="k.c", a="k.a")
    + ") AS m ORDER BY 1, 2, 3"
    + _UPSERT
    + " WHERE (conversation_heads.creation_ms, conversation_heads.message_id) "
    "IS DISTINCT FROM (excluded.creation_ms, excluded.message_id)"
)
_PG_DROP = (
    "DELETE FROM conversation_heads AS h USING "
    + _PG_KEYS
    + " WHERE h.extension_id = k.e AND h.availability = k.a AND h.conversation_id = k.c "
    "AND NOT EXISTS (SELECT 1 FROM messages WHERE extension_id = k.e "
    "AND conversation_id = k.c AND availability = k.a)"
)


def _pending(conn: Connection) -> tuple[set[Key], set[Key]]:
    """(keys that gained messages, keys that may have lost some) of the transaction."""
    pending: tuple[set[Key], set[Key]] | None = conn.info.get(_KEYS)
    if pending is None:
        pending = conn.info[_KEYS] = (set(), set())
    return pending


def touch(conn: Connection, keys: Iterable[Key]) -> None:
    """Messages were stored under these keys by the transaction in progress on `conn`."""
    keys = set(keys)
    _pending(conn)[0].update(keys)
    store_versions.touch(conn, {key[0] for key in keys})


def touch_all_availabilities(
    conn: Connection, extension_id: int, conversation_ids: Iterable[int]
) -> None:
    """Messages of these conversations of one store changed availability (from any to any)."""
    keys = {(extension_id, a, c) for c in set(conversation_ids) for a in _ALL_AVAILABILITIES}
    _pending(conn)[1].update(keys)
    store_versions.touch(conn, (extension_id,))


def _recompute(conn: Connection) -> None:
    pending: tuple[set[Key], set[Key]] | None = conn.info.pop(_KEYS, None)
    if not pending or not (pending[0] or pending[1]):
        return
    grown, changed = pending
    every = sorted(grown | changed)
    shrunk = sorted(changed)
    cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "postgresql":
            if shrunk:
                cursor.execute(_PG_DROP, _arrays(shrunk))
            cursor.execute(_PG_SET, _arrays(every))
        else:
            if shrunk:
                cursor.executemany(_SQLITE_DROP, [(e, a, c, e, c, a) for e, a, c in shrunk])
            cursor.executemany(_SQLITE_SET, [(e, c, a) for e, a, c in every])
    finally:
        cursor.close()


def _arrays(keys: list[Key]) -> dict[str, list[Any]]:
    return {
        "e": [key[0] for key in keys],
        "a": [key[1] for key in keys],
        "c": [key[2] for key in keys],
    }


def _forget(conn: Connection) -> None:
    conn.info.pop(_KEYS, None)


def install(engine: Engine) -> None:
    """Recompute the touched heads as part of every commit on `engine` (the writer's), after
    store_versions' bump (install that first)."""
    event.listen(engine, "commit", _recompute)
    event.listen(engine, "rollback", _forget)
