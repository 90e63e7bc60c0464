"""The notification outbox: what a committed change must be notified of, written by the
change's own transaction.

A change records what it did (`new_messages`, `updated_messages`, `extension_changed`) on the
connection; just before the transaction commits, the records are folded into ONE row per
changed store (or directory entry) and inserted. The send path thus pays one small insert per
store it touches, whatever the number of subscribers: fan-out to subscriptions happens later,
outside the transaction (notify/dispatcher.py).

Rows are numbered in commit order, so that a reader that has seen every id up to N has seen
every event committed before N's: on SQLite one process writes at a time; on PostgreSQL the
inserting transaction first takes a transaction-scoped advisory lock, held until its COMMIT, so
no later-numbered event commits before an earlier one. The same transaction sends
`NOTIFY ringlet_outbox` (delivered at commit) to wake the other processes' dispatchers.

A job of a group commit whose savepoint is rolled back drops its own records
(`mark`/`rollback_to`, called by store/database.py): no notification of something undone.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from ringlet.store.raw_sql import columns_of, insert_sql, unnest_insert_sql
from ringlet.store.schema import notification_events

CHANNEL = "ringlet_outbox"
# Any constant: the advisory lock that orders the outbox's ids by commit (PostgreSQL).
_ORDER_LOCK = 0x72696E67
_RECORDS = "ringlet.outbox"
WROTE = "ringlet.outbox_wrote"

STORE = "store"
EXTENSION = "extension"

# What a commit tells the dispatchers (the payload of the wake-up, wakeup.py): new events, a
# subscription created, changed or deleted (its deliverer re-reads it at once), or a reset
# (every dispatcher forgets the events it holds in memory).
EVENTS = "e"
SUBSCRIPTIONS = "s"
RESET = "r"
_SIGNALS = "ringlet.outbox_signals"


def _records(conn: Connection) -> list[tuple[Any, ...]]:
    records: list[tuple[Any, ...]] | None = conn.info.get(_RECORDS)
    if records is None:
        records = conn.info[_RECORDS] = []
    return records


def new_messages(conn: Connection, copies: Iterable[tuple[int, int, str, str, int]]) -> None:
    """Copies stored: (account_id, extension_id, type, direction, message_id) each."""
    _records(conn).extend(("new", *copy) for copy in copies)


def updated_messages(
    conn: Connection, account_id: int, extension_id: int, changed: Iterable[tuple[str, str]]
) -> None:
    """Messages of one store changed (readStatus, availability, messageStatus): one
    (type, direction) per message changed."""
    records = _records(conn)
    records.extend(("updated", account_id, extension_id, t, d, 0) for t, d in changed)


def message_changed(
    conn: Connection, account_id: int, extension_id: int, message_type: str, direction: str
) -> None:
    """One message of a store changed: the single call for a write path that knows what it
    changed, such as an outbound SMS's delivery status."""
    updated_messages(conn, account_id, extension_id, [(message_type, direction)])


def extension_changed(conn: Connection, account_id: int, extension_id: int, hint: str) -> None:
    """A directory entry changed (hint: RingCentral's name of what changed)."""
    _records(conn).append(("extension", account_id, extension_id, hint))


def signal(conn: Connection, kind: str) -> None:
    """Tell every dispatcher `kind` (SUBSCRIPTIONS, RESET) once this transaction commits. A
    signal of a job rolled back is still sent: a wake-up that finds nothing costs one read."""
    signals: set[str] | None = conn.info.get(_SIGNALS)
    if signals is None:
        signals = conn.info[_SIGNALS] = set()
    signals.add(kind)


def mark(conn: Connection) -> int:
    records: list[tuple[Any, ...]] | None = conn.info.get(_RECORDS)
    return 0 if records is None else len(records)


def rollback_to(conn: Connection, position: int) -> None:
    records: list[tuple[Any, ...]] | None = conn.info.get(_RECORDS)
    if records is not None:
        del records[position:]


# -- the rows -----------------------------------------------------------------------------------


class Change(msgspec.Struct, array_like=True, frozen=True):
    """What happened to messages of one type and direction in one store."""

    type: str
    direction: str
    new_ids: list[int]
    updated: int


class StorePayload(msgspec.Struct, frozen=True):
    changes: list[Change]


class ExtensionPayload(msgspec.Struct, frozen=True):
    hints: list[str]


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    account_id: int
    extension_id: int
    kind: str
    created_ms: int
    changes: tuple[Change, ...] = ()
    hints: tuple[str, ...] = ()


_encoder = msgspec.json.Encoder()


@functools.cache
def _one_new(message_type: str, direction: str) -> tuple[str, str]:
    """The encoded StorePayload of one new message of this type and direction, split where its
    id goes."""
    marker = "-1"
    payload = _encoder.encode(StorePayload([Change(message_type, direction, [-1], 0)])).decode()
    prefix, suffix = payload.split(marker)
    return prefix, suffix


def _fold(records: Sequence[tuple[Any, ...]]) -> list[tuple[int, int, str, str]]:
    stores: dict[tuple[int, int], dict[tuple[str, str], tuple[list[int], list[int]]]] = {}
    entries: dict[tuple[int, int], list[str]] = {}
    for record in records:
        if record[0] == "extension":
            _, account_id, extension_id, hint = record
            hints = entries.setdefault((account_id, extension_id), [])
            if hint not in hints:
                hints.append(hint)
            continue
        what, account_id, extension_id, message_type, direction, message_id = record
        by_kind = stores.setdefault((account_id, extension_id), {})
        new, updated = by_kind.setdefault((message_type, direction), ([], [0]))
        if what == "new":
            new.append(message_id)
        else:
            updated[0] += 1
    rows = []
    for (account_id, extension_id), by_kind in stores.items():
        if len(by_kind) == 1:
            ((t, d), (new, updated)) = next(iter(by_kind.items()))
            if len(new) == 1 and not updated[0]:
                # One new message, the usual case of a copy (a fan-out has a thousand).
                prefix, suffix = _one_new(t, d)
                rows.append((account_id, extension_id, STORE, f"{prefix}{new[0]}{suffix}"))
                continue
        changes = [
            Change(t, d, new, updated[0]) for (t, d), (new, updated) in sorted(by_kind.items())
        ]
        payload = _encoder.encode(StorePayload(changes)).decode()
        rows.append((account_id, extension_id, STORE, payload))
    for (account_id, extension_id), hints in entries.items():
        rows.append(
            (account_id, extension_id, EXTENSION, _encoder.encode(ExtensionPayload(hints)).decode())
        )
    return rows


_EVENT_COLUMNS = ("account_id", "extension_id", "kind", "payload", "created_ms")
_ONE_BY_ONE = 2
_EVENT_PG_TYPES = ("bigint", "bigint", "text", "text", "bigint")


def _write(conn: Connection, now_ms: int) -> None:
    records: list[tuple[Any, ...]] | None = conn.info.pop(_RECORDS, None)
    kinds: set[str] = conn.info.pop(_SIGNALS, None) or set()
    rows = _fold(records) if records else []
    if rows:
        kinds.add(EVENTS)
    if not kinds:
        return
    postgresql = conn.dialect.name == "postgresql"
    cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if rows:
            if postgresql:
                cursor.execute(f"SELECT pg_advisory_xact_lock({_ORDER_LOCK})")
            values = [(a, e, k, p, now_ms) for a, e, k, p in rows]
            if postgresql and len(rows) > _ONE_BY_ONE:
                # A fan-out: one statement for every event (store/raw_sql.py).
                sql = unnest_insert_sql("notification_events", _EVENT_COLUMNS, _EVENT_PG_TYPES)
                cursor.execute(sql, columns_of(values, len(_EVENT_COLUMNS)))
            else:
                sql = insert_sql(conn.dialect.paramstyle, "notification_events", _EVENT_COLUMNS)
                cursor.executemany(sql, values)
        if postgresql:
            # Delivered at COMMIT, to every process LISTENing, on any host.
            for kind in sorted(kinds):
                cursor.execute(f"NOTIFY {CHANNEL}, '{kind}'")
    finally:
        cursor.close()
    conn.info[WROTE] = frozenset(kinds)


def _forget(conn: Connection) -> None:
    conn.info.pop(_RECORDS, None)
    conn.info.pop(_SIGNALS, None)


def install(engine: Engine, clock: Any) -> None:
    """Write the outbox rows as part of every commit on `engine` (the writer's)."""

    def on_commit(conn: Connection) -> None:
        _write(conn, clock())

    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", _forget)


# -- reading --------------------------------------------------------------------------------


_store_decoder = msgspec.json.Decoder(StorePayload)
_extension_decoder = msgspec.json.Decoder(ExtensionPayload)


def events_after(conn: Connection, after_id: int, limit: int) -> list[Event]:
    rows = conn.execute(
        sa.select(notification_events)
        .where(notification_events.c.id > after_id)
        .order_by(notification_events.c.id)
        .limit(limit)
    )
    return _events(rows)


def events_concerning(
    conn: Connection,
    after_id: int,
    through_id: int,
    *,
    stores: Sequence[tuple[int, int]],
    extensions: Sequence[tuple[int, int]],
    accounts: Sequence[int],
    limit: int,
) -> list[Event]:
    """The events after `after_id` through `through_id` of these stores, of these directory
    entries and of every directory entry of these accounts (each an (account_id,
    extension_id) but `accounts`): what one subscription's filters concern, selected by the
    database rather than read and walked (a Pager to a department is an event per member)."""
    t = notification_events.c
    wanted: list[sa.ColumnElement[bool]] = []
    by_account: dict[int, list[int]] = {}
    for account_id, extension_id in stores:
        by_account.setdefault(account_id, []).append(extension_id)
    for account_id, extension_ids in by_account.items():
        wanted.append(
            sa.and_(t.account_id == account_id, t.kind == STORE, t.extension_id.in_(extension_ids))
        )
    for account_id, extension_id in extensions:
        wanted.append(
            sa.and_(t.account_id == account_id, t.kind != STORE, t.extension_id == extension_id)
        )
    for account_id in accounts:
        wanted.append(sa.and_(t.account_id == account_id, t.kind != STORE))
    if not wanted:
        return []
    rows = conn.execute(
        sa.select(notification_events)
        .where(t.id > after_id, t.id <= through_id, sa.or_(*wanted))
        .order_by(t.id)
        .limit(limit)
    )
    return _events(rows)


def _events(rows: Iterable[Any]) -> list[Event]:
    found = []
    for r in rows:
        if r.kind == STORE:
            changes = tuple(_store_decoder.decode(r.payload).changes)
            found.append(Event(r.id, r.account_id, r.extension_id, r.kind, r.created_ms, changes))
        else:
            hints = tuple(_extension_decoder.decode(r.payload).hints)
            found.append(
                Event(r.id, r.account_id, r.extension_id, r.kind, r.created_ms, hints=hints)
            )
    return found


def last_id(conn: Connection) -> int:
    value = conn.execute(sa.select(sa.func.max(notification_events.c.id))).scalar()
    return int(value or 0)


def prune(conn: Connection, before_id: int, before_ms: int) -> None:
    """Forget events every subscription is past, once they are old enough."""
    conn.execute(
        sa.delete(notification_events).where(
            notification_events.c.id <= before_id, notification_events.c.created_ms < before_ms
        )
    )


def clear(conn: Connection) -> None:
    conn.execute(sa.delete(notification_events))
