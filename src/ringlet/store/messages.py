"""Queries over message stores: storing the copies of a message, changing them, reading them
by id and listing them by filter. Account id first, always (R14). Pager threads are in
threads.py, the encoding of a message's parties in parties.py."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from ringlet.domain.enums import (
    Availability,
    Direction,
    MessageStatus,
    MessageType,
    ReadStatus,
)
from ringlet.domain.model import Message, NewMessage
from ringlet.message_json import StoredRecord, fixed_members
from ringlet.store import conversation_heads, outbox, store_versions
from ringlet.store.parties import decode_parties, encode_parties
from ringlet.store.raw_sql import columns_of, insert_sql, unnest_insert_sql
from ringlet.store.schema import (
    conversation_heads as conversation_heads_table,
)
from ringlet.store.schema import (
    department_members,
    messages,
    pager_thread_departments,
    pager_thread_members,
)

# -- rows to Message -------------------------------------------------------------------------


def message_from_row(row: Row[tuple[Any, ...]]) -> Message:
    m = row._mapping
    sender, recipients = decode_parties(m["parties"])
    return Message(
        id=m["id"],
        account_id=m["account_id"],
        extension_id=m["extension_id"],
        type=MessageType(m["type"]),
        direction=Direction(m["direction"]),
        sender=sender,
        recipients=recipients,
        subject=m["subject"],
        conversation_id=m["conversation_id"],
        message_status=MessageStatus(m["message_status"]),
        read_status=ReadStatus(m["read_status"]),
        availability=Availability(m["availability"]),
        creation_time_ms=m["creation_ms"],
        last_modified_ms=m["modified_ms"],
        pg_to_department=m["pg_to_department"],
        delivery_error_code=m["delivery_error_code"],
        sms_delivery_ms=m["sms_delivery_ms"],
    )


# -- writing ------------------------------------------------------------------------------------

# The columns every insert writes, in the order of `_insert_row`.
_INSERT_COLUMNS = (
    "account_id",
    "extension_id",
    "type",
    "direction",
    "conversation_id",
    "subject",
    "parties",
    "fixed_json",
    "from_number",
    "to_number",
    "read_status",
    "availability",
    "message_status",
    "pg_to_department",
    "creation_ms",
    "modified_ms",
)
_EXTENSION = _INSERT_COLUMNS.index("extension_id")
_CONVERSATION = _INSERT_COLUMNS.index("conversation_id")
_AVAILABILITY = _INSERT_COLUMNS.index("availability")
_ALIVE = Availability.ALIVE.value
# Their PostgreSQL types, for the arrays of a fan-out's one statement.
_PG_TYPES = (
    "bigint",
    "bigint",
    "text",
    "text",
    "bigint",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "boolean",
    "bigint",
    "bigint",
)


def _insert_row(
    copy: NewMessage, now_ms: int, encoded: tuple[str, str] | None = None
) -> tuple[Any, ...]:
    """The row of `copy`; `encoded`: its parties and fixed JSON, when already built."""
    return history_row(copy, Availability.ALIVE, now_ms, now_ms, encoded)


def history_row(
    copy: NewMessage,
    availability: Availability,
    creation_ms: int,
    modified_ms: int,
    encoded: tuple[str, str] | None = None,
) -> tuple[Any, ...]:
    """The row of one copy as `insert_messages` writes it, for a copy whose times and
    availability are its own (an imported message: `insert_history`)."""
    sms = copy.type is MessageType.SMS
    parties, fixed_json = encoded or (
        encode_parties(copy.sender, copy.recipients),
        fixed_members(copy, creation_ms),
    )
    return (
        copy.account_id,
        copy.extension_id,
        copy.type.value,
        copy.direction.value,
        copy.conversation_id,
        copy.subject,
        parties,
        fixed_json,
        copy.sender.phone_number if sms else None,
        copy.recipients[0].phone_number if sms and copy.recipients else None,
        copy.read_status.value,
        availability.value,
        copy.message_status.value,
        copy.pg_to_department,
        creation_ms,
        modified_ms,
    )


# A message with more copies than this (a Pager to a department, R10) builds their rows first
# (most of them alike) and stores them in one statement: one per copy would be most of the
# send (a round trip each on PostgreSQL).
_SINGLE_ROW_COPIES = 2


def insert_messages(conn: Connection, copies: Sequence[NewMessage], now_ms: int) -> list[int]:
    """Store every copy of one message, inside the caller's transaction; returns their ids in
    the same order: one row per statement for a send's one or two copies, one statement for a
    fan-out's many, each way with each id known to belong to its copy."""
    # Plain SQL on the DBAPI cursor: this runs for every send (store/raw_sql.py).
    sql = insert_sql(conn.dialect.paramstyle, "messages", _INSERT_COLUMNS, returning="id")
    sql_plain = insert_sql(conn.dialect.paramstyle, "messages", _INSERT_COLUMNS)
    many = len(copies) > _SINGLE_ROW_COPIES
    rows = _fan_out_rows(copies, now_ms) if many else [_insert_row(c, now_ms) for c in copies]
    cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        ids = []
        stores = {copy.extension_id for copy in copies}
        conversation_heads.touch(
            conn, {(c.extension_id, _ALIVE, c.conversation_id) for c in copies}
        )
        if many and conn.dialect.name == "postgresql" and len(stores) == len(copies):
            # One statement for every copy (store/raw_sql.py: unnest_insert_sql); each store
            # holds one copy of the message, so the store names the id of each.
            cursor.execute(
                unnest_insert_sql("messages", _INSERT_COLUMNS, _PG_TYPES, "id, extension_id"),
                columns_of(rows, len(_INSERT_COLUMNS)),
            )
            by_store = {int(store): int(message_id) for message_id, store in cursor.fetchall()}
            ids = [by_store[copy.extension_id] for copy in copies]
        elif many and conn.dialect.name == "postgresql":
            # psycopg: the statement prepared once, the rows pipelined (one round trip), and a
            # result set per row, in order.
            cursor.executemany(sql, rows, returning=True)
            while True:
                row = cursor.fetchone()
                assert row is not None  # RETURNING yields the inserted row
                ids.append(int(row[0]))
                if not cursor.nextset():
                    break
        elif many:
            # SQLite: one executemany (sqlite3 steps the rows in C). It returns no rows, but a
            # rowid table without AUTOINCREMENT numbers each new row one past the largest rowid:
            # the copies are numbered in order after the largest id before them, which only
            # this transaction (the one writer) can have moved.
            cursor.execute("SELECT max(id) FROM messages")
            before = int(cursor.fetchone()[0] or 0)
            cursor.executemany(sql_plain, rows)
            cursor.execute("SELECT last_insert_rowid()")
            last = int(cursor.fetchone()[0])
            if last != before + len(rows):
                raise RuntimeError(f"copies numbered {before + 1}..{last}, not consecutively")
            ids = list(range(before + 1, last + 1))
        else:  # sqlite3 returns no rows from executemany, and has no round trips to save
            for values in rows:
                cursor.execute(sql, values)
                row = cursor.fetchone()
                assert row is not None
                ids.append(int(row[0]))
        assert len(ids) == len(copies)
        outbox.new_messages(
            conn,
            (
                (c.account_id, c.extension_id, c.type.value, c.direction.value, message_id)
                for c, message_id in zip(copies, ids, strict=True)
            ),
        )
        return ids
    finally:
        cursor.close()


def _fan_out_rows(copies: Sequence[NewMessage], now_ms: int) -> list[tuple[Any, ...]]:
    """`_insert_row` of each copy. A fan-out's inbound copies differ only in their store: their
    encoded parties and fixed JSON (which do not depend on the store) are built once."""
    encoded: dict[tuple[Any, ...], tuple[str, str]] = {}
    rows = []
    for copy in copies:
        # The parties by identity: the copies of one send share them (hashing a thousand
        # tuples of parties cost more than the rest of the key); copies alike but for distinct
        # objects are merely encoded again.
        key = (
            copy.type,
            copy.direction,
            id(copy.sender),
            id(copy.recipients),
            copy.conversation_id,
            copy.pg_to_department,
        )
        parts = encoded.get(key)
        if parts is None:
            parts = encoded[key] = (
                encode_parties(copy.sender, copy.recipients),
                fixed_members(copy, now_ms),
            )
        rows.append(_insert_row(copy, now_ms, parts))
    return rows


def insert_history(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Store copies built by `history_row`, many to a statement, inside the caller's
    transaction: the bulk import of message history (services/history_import.py). Their
    stores are touched (store_versions) by the caller; no notification is recorded: history
    is not news, and clients learn of it through message-sync (lastModifiedTime) or a list."""
    if not rows:
        return
    sql = insert_sql(conn.dialect.paramstyle, "messages", _INSERT_COLUMNS)
    conversation_heads.touch(
        conn, {(row[_EXTENSION], row[_AVAILABILITY], row[_CONVERSATION]) for row in rows}
    )
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


def update_messages(
    conn: Connection,
    account_id: int,
    extension_id: int,
    message_ids: Sequence[int],
    now_ms: int,
    *,
    read_status: ReadStatus | None = None,
    availability: Availability | None = None,
) -> None:
    values: dict[str, Any] = {"modified_ms": now_ms}
    if read_status is not None:
        values["read_status"] = read_status.value
    if availability is not None:
        values["availability"] = availability.value
    store_versions.touch(conn, (extension_id,))
    changed = conn.execute(
        sa.update(messages)
        .where(
            messages.c.account_id == account_id,
            messages.c.extension_id == extension_id,
            messages.c.id.in_(list(message_ids)),
        )
        .values(**values)
        .returning(messages.c.type, messages.c.direction, messages.c.conversation_id)
    ).all()
    if availability is not None:
        conversation_heads.touch_all_availabilities(
            conn, extension_id, (int(r[2]) for r in changed)
        )
    outbox.updated_messages(conn, account_id, extension_id, [(r[0], r[1]) for r in changed])


def set_delivery_status(
    conn: Connection,
    account_id: int,
    message_id: int,
    status: MessageStatus,
    error_code: str | None,
    delivery_time_ms: int | None,
    now_ms: int,
) -> int | None:
    """The carrier's news about an outbound SMS copy: its status, the gateway's error code and
    the delivery receipt's time. A change of the copy like any other: lastModifiedTime moves (so
    ISync reports it) and its store's counter is touched. Returns the copy's extension id, or
    None when the copy is gone (purged copies keep their row, so: never, in practice)."""
    row = conn.execute(
        sa.update(messages)
        .where(messages.c.account_id == account_id, messages.c.id == message_id)
        .values(
            message_status=status.value,
            delivery_error_code=error_code,
            sms_delivery_ms=delivery_time_ms,
            modified_ms=now_ms,
        )
        .returning(messages.c.extension_id, messages.c.type, messages.c.direction)
    ).first()
    if row is None:
        return None
    extension_id = int(row[0])
    store_versions.touch(conn, (extension_id,))
    outbox.message_changed(conn, account_id, extension_id, row[1], row[2])
    return extension_id


# -- reading ------------------------------------------------------------------------------------
#
# Filters are built from named bind parameters (`_Params`), so that one filter *shape* (which
# conditions, how many values each) is always the same statement: the list compiles each shape
# once and runs it on a plain DBAPI cursor (`list_records`), the other queries hand the values
# to SQLAlchemy.


class _Params:
    """Bind parameters of one query and their values."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def bind(self, name: str, value: Any) -> sa.BindParameter[Any]:
        self.values[name] = value
        return sa.bindparam(name)

    def binds(self, name: str, values: Sequence[Any]) -> list[sa.BindParameter[Any]]:
        # One parameter per value rather than an expanding IN: the SQL text then depends only
        # on how many values there are, and can be compiled once.
        return [self.bind(f"{name}_{i}", v) for i, v in enumerate(values)]


def _readable_by(
    p: _Params, extension_id: int, t: sa.FromClause = messages
) -> sa.ColumnElement[bool]:
    """R12: a Pager copy is readable only while its reader belongs to the thread: an explicit
    member, or a current member of a department the thread was addressed to.

    The type test comes first and the thread tests are correlated EXISTS, so the filter
    neither forces a scan nor stops the list from walking ix_messages_store and stopping at its
    limit (EXPLAIN on both databases): SQLite runs the EXISTS only for the Pager rows visited;
    PostgreSQL either does the same or, when it expects many, hashes the reader's threads once
    per query."""
    reader = p.bind("reader", extension_id)
    explicit = sa.exists().where(
        pager_thread_members.c.conversation_id == t.c.conversation_id,
        pager_thread_members.c.extension_id == reader,
    )
    via_department = sa.exists().where(
        pager_thread_departments.c.conversation_id == t.c.conversation_id,
        department_members.c.department_id == pager_thread_departments.c.department_id,
        department_members.c.extension_id == reader,
    )
    return sa.or_(t.c.type != p.bind("pager", MessageType.PAGER.value), explicit, via_department)


def get_messages(
    conn: Connection, account_id: int, extension_id: int, message_ids: Sequence[int]
) -> dict[int, Message]:
    """The caller-visible copies among `message_ids` in one extension's store."""
    p = _Params()
    rows = conn.execute(
        sa.select(messages).where(
            messages.c.account_id == p.bind("account_id", account_id),
            messages.c.extension_id == p.bind("extension_id", extension_id),
            messages.c.id.in_(p.binds("id", list(message_ids))),
            _readable_by(p, extension_id),
        ),
        p.values,
    )
    return {row.id: message_from_row(row) for row in rows}


@dataclass(frozen=True, slots=True)
class MessageFilter:
    availability: Sequence[Availability] = (Availability.ALIVE,)
    conversation_ids: Sequence[int] = ()
    date_from_ms: int | None = None
    date_to_ms: int | None = None
    directions: Sequence[Direction] = ()
    types: Sequence[MessageType] = ()
    read_statuses: Sequence[ReadStatus] = ()
    phone_number: str | None = None
    distinct_conversations: bool = False
    modified_since_ms: int | None = None

    def without_date_from(self) -> tuple[Any, ...]:
        """Every field but `date_from_ms`: what identifies a list whose window may slide
        (services/page_memo.py)."""
        return tuple(getattr(self, name) for name in _ALL_BUT_DATE_FROM)


_ALL_BUT_DATE_FROM = tuple(
    f.name for f in dataclasses.fields(MessageFilter) if f.name != "date_from_ms"
)


def _conditions(
    p: _Params, account_id: int, extension_id: int, f: MessageFilter, t: sa.FromClause = messages
) -> list[Any]:
    """The WHERE of a filter, on `messages` or an alias of it. Every value is bound through
    `p`, and every value-dependent choice in here must show in `_shape`, or two filters would
    share a compiled statement."""
    m = t.c
    c: list[Any] = [
        m.account_id == p.bind("account_id", account_id),
        m.extension_id == p.bind("extension_id", extension_id),
    ]
    if f.availability:
        c.append(m.availability.in_(p.binds("av", [a.value for a in f.availability])))
    if f.conversation_ids:
        c.append(m.conversation_id.in_(p.binds("conv", list(f.conversation_ids))))
    if f.date_from_ms is not None:
        c.append(m.creation_ms >= p.bind("date_from", f.date_from_ms))
    if f.date_to_ms is not None:
        c.append(m.creation_ms < p.bind("date_to", f.date_to_ms))
    if f.directions:
        c.append(m.direction.in_(p.binds("dir", [d.value for d in f.directions])))
    if f.types:
        c.append(m.type.in_(p.binds("type", [t.value for t in f.types])))
    if f.read_statuses:
        c.append(m.read_status.in_(p.binds("read", [r.value for r in f.read_statuses])))
    if f.phone_number is not None:
        number = p.bind("phone", f.phone_number)
        c.append(sa.or_(m.from_number == number, m.to_number == number))
    if f.modified_since_ms is not None:
        c.append(m.modified_ms >= p.bind("modified_since", f.modified_since_ms))
    c.append(_readable_by(p, extension_id, t))
    if f.distinct_conversations and t is messages:
        # The newest message (by creation time, then id) of each conversation among those
        # selected: a selected message of which no newer one of its conversation is selected.
        # The list walks its window newest first and stops at its page, each message asking
        # ix_messages_conversation, from its own place on, for a newer one: the window is no
        # longer grouped whole, whatever the number of its conversations (bench/scale.py).
        newer = messages.alias("newer")
        same = dataclasses.replace(f, distinct_conversations=False)
        c.append(
            ~sa.exists().where(
                *_conditions(p, account_id, extension_id, same, newer),
                newer.c.conversation_id == messages.c.conversation_id,
                sa.tuple_(newer.c.creation_ms, newer.c.id)
                > sa.tuple_(messages.c.creation_ms, messages.c.id),
            )
        )
    return c


def _filter_values(account_id: int, extension_id: int, f: MessageFilter) -> dict[str, Any]:
    """The values `_conditions` binds, by name, without building the statement: what the list
    needs once the statement of the filter's shape is compiled (`list_records` checks, when it
    compiles a shape, that both agree)."""
    values: dict[str, Any] = {"account_id": account_id, "extension_id": extension_id}
    for i, a in enumerate(f.availability):
        values[f"av_{i}"] = a.value
    for i, conversation_id in enumerate(f.conversation_ids):
        values[f"conv_{i}"] = conversation_id
    if f.date_from_ms is not None:
        values["date_from"] = f.date_from_ms
    if f.date_to_ms is not None:
        values["date_to"] = f.date_to_ms
    for i, d in enumerate(f.directions):
        values[f"dir_{i}"] = d.value
    for i, t in enumerate(f.types):
        values[f"type_{i}"] = t.value
    for i, r in enumerate(f.read_statuses):
        values[f"read_{i}"] = r.value
    if f.phone_number is not None:
        values["phone"] = f.phone_number
    if f.modified_since_ms is not None:
        values["modified_since"] = f.modified_since_ms
    values["reader"] = extension_id
    values["pager"] = MessageType.PAGER.value
    return values


def _shape(f: MessageFilter, order_by_modified: bool) -> tuple[Any, ...]:
    return (
        len(f.availability),
        len(f.conversation_ids),
        f.date_from_ms is not None,
        f.date_to_ms is not None,
        len(f.directions),
        len(f.types),
        len(f.read_statuses),
        f.phone_number is not None,
        f.distinct_conversations,
        f.modified_since_ms is not None,
        order_by_modified,
    )


def is_small_read(f: MessageFilter, offset: int, limit: int) -> bool:
    """Whether `list_records` visits about as many rows as it returns: the list's default shape
    (one availability, a creation-time window, newest first), which walks ix_messages_store
    and stops at offset + limit, and the same with one conversation or one read status. Every
    other filter is checked row by row off the index (or, several availabilities, sorts), so it
    may visit the whole store. Only R12 can make this walk longer: Pager rows of threads the
    reader has left are visited and skipped."""
    # One conversation, or one read status, walks its own index in the list's order as the
    # default shape walks ix_messages_store (ix_messages_conversation, ix_messages_unread).
    one_key = len(f.conversation_ids) + len(f.read_statuses) <= 1
    if offset + limit <= SMALL_READ_ROWS and reads_heads(f, order_by_modified=False):
        return True  # the walk of conversation_heads stops at its page as well
    return (
        offset + limit <= SMALL_READ_ROWS
        and len(f.availability) == 1
        and one_key
        and not (f.directions or f.types)
        and f.phone_number is None
        and not f.distinct_conversations
        and f.modified_since_ms is None
    )


def reads_heads(f: MessageFilter, *, order_by_modified: bool) -> bool:
    """Whether a distinctConversations list reads conversation_heads (the newest message of
    each conversation of one availability) rather than walking its window: the list's usual
    shape, one availability and perhaps a dateFrom. With any other condition the newest
    message of a conversation among those selected need not be its head."""
    return (
        f.distinct_conversations
        and not order_by_modified
        and len(f.availability) == 1
        and not (f.conversation_ids or f.directions or f.types or f.read_statuses)
        and f.phone_number is None
        and f.date_to_ms is None
        and f.modified_since_ms is None
    )


def _heads_statement(
    p: _Params, account_id: int, extension_id: int, f: MessageFilter
) -> sa.Select[Any]:
    """The distinctConversations list of `reads_heads`: the store's heads of the availability,
    newest first (ix_conversation_heads_newest, in the list's order), each joined to its
    message; R12 is a condition on the conversation, so it filters heads as it filters rows.
    It binds exactly what `_conditions` binds for the same filter."""
    h = conversation_heads_table.c
    conditions: list[Any] = [
        messages.c.account_id == p.bind("account_id", account_id),
        h.extension_id == p.bind("extension_id", extension_id),
        h.availability == p.binds("av", [a.value for a in f.availability])[0],
    ]
    if f.date_from_ms is not None:
        conditions.append(h.creation_ms >= p.bind("date_from", f.date_from_ms))
    conditions.append(_readable_by(p, extension_id))
    return (
        sa.select(*_RECORD_COLUMNS)
        .select_from(conversation_heads_table.join(messages, messages.c.id == h.message_id))
        .where(*conditions)
        .order_by(h.creation_ms.desc(), h.message_id.desc())
    )


# A page of at most 1000 records, and the one more row read to know whether more follow.
SMALL_READ_ROWS = 1001

# What a record needs at read time (message_json.StoredRecord), in that order.
_RECORD_COLUMNS = (
    messages.c.id,
    messages.c.fixed_json,
    messages.c.subject,
    messages.c.read_status,
    messages.c.availability,
    messages.c.message_status,
    messages.c.modified_ms,
    messages.c.creation_ms,
    messages.c.delivery_error_code,
    messages.c.sms_delivery_ms,
)

# (dialect, driver, shape) -> (SQL text, parameter names in order, or None for named style)
_compiled: dict[tuple[Any, ...], tuple[str, list[str] | None]] = {}
_compiled_lock = threading.Lock()


def list_records(
    conn: Connection,
    account_id: int,
    extension_id: int,
    f: MessageFilter,
    offset: int,
    limit: int,
    *,
    order_by_modified: bool = False,
) -> list[StoredRecord]:
    """Up to `limit` records of one extension's store from `offset`, newest first (by creation,
    or by last change). Nothing is counted: callers ask for one more row than they show to learn
    whether more follow.

    The hot path of the list (`_fetch`). With the default filter it walks ix_messages_store
    backwards (extension, availability, creation time, id) and stops after `limit` rows."""
    values = _filter_values(account_id, extension_id, f)
    values["offset"] = offset
    values["limit"] = limit

    def build(p: _Params) -> sa.Select[Any]:
        if reads_heads(f, order_by_modified=order_by_modified):
            statement = _heads_statement(p, account_id, extension_id, f)
        else:
            order_key = messages.c.modified_ms if order_by_modified else messages.c.creation_ms
            statement = (
                sa.select(*_RECORD_COLUMNS)
                .where(*_conditions(p, account_id, extension_id, f))
                .order_by(order_key.desc(), messages.c.id.desc())
            )
        p.values.update(offset=offset, limit=limit)
        return statement.limit(sa.bindparam("limit", type_=sa.Integer)).offset(
            sa.bindparam("offset", type_=sa.Integer)
        )

    rows = _fetch(conn, ("list", *_shape(f, order_by_modified)), build, values)
    return cast(list[StoredRecord], rows)


def get_records(
    conn: Connection, account_id: int, extension_id: int, message_ids: Sequence[int]
) -> dict[int, StoredRecord]:
    """The caller-visible copies among `message_ids` in one extension's store, as records
    (read by id): `get_messages` without building a Message, on `_fetch`'s path."""
    ids = list(message_ids)
    if not ids:
        return {}
    values: dict[str, Any] = {"account_id": account_id, "extension_id": extension_id}
    values.update((f"id_{i}", message_id) for i, message_id in enumerate(ids))
    values.update(reader=extension_id, pager=MessageType.PAGER.value)

    def build(p: _Params) -> sa.Select[Any]:
        return sa.select(*_RECORD_COLUMNS).where(
            messages.c.account_id == p.bind("account_id", account_id),
            messages.c.extension_id == p.bind("extension_id", extension_id),
            messages.c.id.in_(p.binds("id", ids)),
            _readable_by(p, extension_id),
        )

    rows = _fetch(conn, ("by_id", len(ids)), build, values)
    return {row[0]: cast(StoredRecord, row) for row in rows}


def _fetch(
    conn: Connection,
    shape: tuple[Any, ...],
    build: Callable[[_Params], sa.Select[Any]],
    values: dict[str, Any],
) -> list[tuple[Any, ...]]:
    """Run the statement of one query shape on the connection's DBAPI cursor, whose plain
    tuples are the records as they are rendered. `build` makes the statement, binding through
    its `_Params`; it runs once per shape (and dialect), when the shape is first met, and must
    bind exactly `values` (checked then): every later call passes only the values."""
    dialect = conn.dialect
    key = (dialect.name, dialect.driver, shape)
    compiled = _compiled.get(key)
    if compiled is None:
        p = _Params()
        statement = build(p)
        if p.values != values:  # a filter added to one of the two and not the other
            raise AssertionError(f"the values disagree with the statement's: {values}")
        done = statement.compile(dialect=dialect)
        names = list(done.positiontup) if done.positional and done.positiontup else None
        compiled = (done.string, names)
        with _compiled_lock:
            _compiled[key] = compiled
    sql, names = compiled
    parameters: Any = values if names is None else [values[n] for n in names]
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, parameters)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return cast(list[tuple[Any, ...]], rows)


def conversation_of_message(conn: Connection, account_id: int, message_id: int) -> int | None:
    """The conversation of any copy of a message in the account (`replyOn`, R12)."""
    row = conn.execute(
        sa.select(messages.c.conversation_id, messages.c.type).where(
            messages.c.account_id == account_id, messages.c.id == message_id
        )
    ).first()
    if row is None or row.type != MessageType.PAGER.value:
        return None
    return int(row.conversation_id)


# -- message-store queries added for the store and sync services --------------------------------


def message_ids_matching(
    conn: Connection, account_id: int, extension_id: int, f: MessageFilter
) -> list[int]:
    """The ids of every message of one extension's store that `f` selects (R12 applies), for
    writes that act on a whole selection (deleting conversations)."""
    p = _Params()
    conditions = _conditions(p, account_id, extension_id, f)
    rows = conn.execute(sa.select(messages.c.id).where(*conditions), p.values)
    return [int(r[0]) for r in rows]
