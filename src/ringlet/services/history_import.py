"""Importing message history (`ringlet import-messages FILE`): a JSON Lines file, one stored
copy of a message per line, written into the message stores it names.

Each line is one copy in one extension's store, as a RingCentral message-store record is: the
history of a user migrating to ringlet, or a large store for a benchmark. The format is in
README.md ("Importing message history"). Every line is read and checked before the next, and
the whole file is one transaction: a bad line (its number named in the error) or any other
failure leaves the database as it was. Rows go to the store many at a time
(`store.messages.insert_history`), with what a send would give them:

- their own ids (the database's, in file order), the parties and fixed JSON part a send stores
  (`history_row`), `from_number`/`to_number` for the phoneNumber filter;
- R13: an SMS's conversationId is the one its two numbers give (a later send between them joins
  it); R12: a Pager copy belongs to a thread, with its sender and recipients as members (a
  Department recipient as a department of the thread), created or joined by the import, and
  the store's owner must be one of them, or the copy could never be read;
- lastModifiedTime is the time of the import: message-sync reports the new copies to a client
  that synced before (an ISync over more than its limit asks for a full sync instead);
- every store written is touched (store_versions), so pages memoised by running servers are
  dropped.

No notification is sent for imported copies: they are history, not news.

On SQLite the import holds the database's write lock until it commits: a running server's
writes wait for it (a million copies take about a minute).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ringlet.clock import Clock, parse_iso, system_clock
from ringlet.domain.enums import (
    Availability,
    Direction,
    ExtensionType,
    MessageStatus,
    MessageType,
    ReadStatus,
    UsageType,
)
from ringlet.domain.errors import RingletError
from ringlet.domain.ids import parse_id
from ringlet.domain.model import Account, Extension, NewMessage, PagerThread, Party
from ringlet.domain.phone_numbers import parse_number
from ringlet.domain.text import check_storable, check_text
from ringlet.domain.threads import (
    MAX_CONVERSATION_ID,
    new_pager_conversation_id,
    sms_conversation_id,
)
from ringlet.store import directory, store_versions, threads
from ringlet.store import messages as store
from ringlet.store.database import Database
from ringlet.store.schema import accounts, extensions, pager_threads, phone_numbers

# Rows handed to the database per statement.
BATCH_ROWS = 5000
# SQLite's page cache for the import's connection while it runs (KiB).
_SQLITE_CACHE_KIB = 1 << 20


class ImportFailed(RingletError):
    """A line that cannot be imported (`line` its number, from 1), or a file that cannot be
    read (`line` None). Nothing of the file was written."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.line = line


class _Party(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    phone_number: str | None = None
    extension_number: str | None = None
    name: str | None = None


class _Line(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    account: str | int
    extension: str
    type: MessageType
    direction: Direction
    from_: _Party = msgspec.field(name="from")
    to: list[_Party] = msgspec.field(default_factory=list)
    text: str = ""
    creation_time: str = ""
    read_status: ReadStatus | None = None
    message_status: MessageStatus | None = None
    availability: Availability = Availability.ALIVE
    conversation_id: int | str | None = None
    pg_to_department: bool = False


_decoder = msgspec.json.Decoder(_Line)


@dataclass
class _Thread:
    account_id: int
    members: set[int] = field(default_factory=set)
    departments: set[int] = field(default_factory=set)
    existing: PagerThread | None = None


@dataclass(frozen=True, slots=True)
class ImportReport:
    messages: int
    # (account id, extension number) -> copies imported into that store
    stores: dict[tuple[int, str], int]
    threads_created: int

    def summary(self) -> str:
        stores = ", ".join(
            f"{number} ({count:,})" for (_, number), count in sorted(self.stores.items())
        )
        return (
            f"{self.messages:,} messages into {len(self.stores)} message store(s)"
            + (f": extension {stores}" if stores else "")
            + (
                f"; {self.threads_created:,} Pager conversation(s) created"
                if self.threads_created
                else ""
            )
        )


def _number_names(conn: Connection) -> dict[str, str]:
    """Every phone number on the server and the name of the extension it reaches."""
    operator = sa.and_(
        extensions.c.account_id == accounts.c.id,
        extensions.c.extension_number == accounts.c.operator_extension_number,
    )
    names: dict[str, str] = {}
    held = sa.select(phone_numbers.c.phone_number, extensions.c.name).join(
        extensions, extensions.c.id == phone_numbers.c.extension_id
    )
    main = (
        sa.select(phone_numbers.c.phone_number, extensions.c.name)
        .join(accounts, accounts.c.id == phone_numbers.c.account_id)
        .join(extensions, operator)
        .where(
            phone_numbers.c.extension_id.is_(None),
            phone_numbers.c.usage_type == UsageType.MAIN_COMPANY_NUMBER.value,
        )
    )
    for query in (held, main):
        names.update((str(number), str(name)) for number, name in conn.execute(query))
    return names


class _Importer:
    """The state of one import, inside its transaction: the directory as looked up so far, and
    the Pager threads met."""

    def __init__(
        self, conn: Connection, now_ms: int, new_conversation_id: Callable[[], int]
    ) -> None:
        self.conn = conn
        self.now_ms = now_ms
        self.new_conversation_id = new_conversation_id
        self.accounts: dict[str | int, Account] = {}
        self.extensions: dict[tuple[int, str], Extension | None] = {}
        self.number_names: dict[str, str] | None = None
        self.threads: dict[int, _Thread] = {}
        # Pager copies without a conversationId: one conversation per set of participants.
        self.by_participants: dict[tuple[int, frozenset[int]], int] = {}
        self.stores: dict[tuple[int, str], int] = {}
        self.touched: set[int] = set()

    # -- the directory, memoised for the file ---------------------------------------------------

    def account(self, key: str | int) -> Account:
        found = self.accounts.get(key)
        if found is not None:
            return found
        query = sa.select(accounts.c.id)
        number = parse_id(key)
        if number is not None:
            query = query.where(accounts.c.id == number)
        elif isinstance(key, str) and key.startswith("+"):
            query = query.where(accounts.c.main_number == key)
        else:
            raise ValueError(f"account: {key!r} is neither an account id nor a main number (+...)")
        row = self.conn.execute(query).first()
        account = None if row is None else directory.account(self.conn, int(row[0]))
        if account is None:
            raise ValueError(f"account: no account {key!r} on this server")
        self.accounts[key] = account
        return account

    def extension(self, account: Account, number: str) -> Extension | None:
        key = (account.id, number)
        if key not in self.extensions:
            found = directory.extensions_by_numbers(self.conn, account.id, [number])
            self.extensions[key] = found.get(number)
        return self.extensions[key]

    def _require_extension(self, account: Account, number: str | None, where: str) -> Extension:
        if not number:
            raise ValueError(f"{where}.extensionNumber: required for a Pager message")
        ext = self.extension(account, number)
        if ext is None:
            raise ValueError(f"{where}.extensionNumber: no extension {number!r} in the account")
        return ext

    def _number_name(self, number: str) -> str | None:
        """The name a send would give this number: its owner's on this server (R6: the
        operator's for a main number), or none. Every number of the server is read at once, on
        the first SMS: one query rather than one for each remote number of the file."""
        if self.number_names is None:
            self.number_names = _number_names(self.conn)
        return self.number_names.get(number)

    # -- one line ---------------------------------------------------------------------------------

    def row(self, line: _Line) -> tuple[Any, ...]:
        account = self.account(line.account)
        owner = self.extension(account, line.extension)
        if owner is None:
            raise ValueError(f"extension: no extension {line.extension!r} in account {account.id}")
        check_text(line.text, line.type)
        if not line.creation_time:
            raise ValueError("creationTime: required")
        try:
            creation_ms = parse_iso(line.creation_time)
        except (ValueError, OverflowError):
            raise ValueError(
                f"creationTime: {line.creation_time[:40]!r} is not an ISO 8601 time"
            ) from None
        for where, p in (("from", line.from_), *((f"to[{i}]", p) for i, p in enumerate(line.to))):
            if p.name is not None:
                check_storable(p.name, f"{where}.name")
        if not line.to:
            raise ValueError("to: at least one recipient is required")
        if line.type is MessageType.SMS:
            sender, recipients, conversation_id = self._sms(account, line)
        else:
            sender, recipients, conversation_id = self._pager(account, owner, line)
        inbound = line.direction is Direction.INBOUND
        copy = NewMessage(
            account_id=account.id,
            extension_id=owner.id,
            type=line.type,
            direction=line.direction,
            sender=sender,
            recipients=recipients,
            subject=line.text,
            conversation_id=conversation_id,
            message_status=line.message_status
            or (MessageStatus.RECEIVED if inbound else MessageStatus.SENT),
            read_status=line.read_status or (ReadStatus.UNREAD if inbound else ReadStatus.READ),
            pg_to_department=line.pg_to_department if line.type is MessageType.PAGER else None,
        )
        store_key = (account.id, owner.extension_number)
        self.stores[store_key] = self.stores.get(store_key, 0) + 1
        self.touched.add(owner.id)
        return store.history_row(copy, line.availability, creation_ms, self.now_ms)

    def _sms(self, account: Account, line: _Line) -> tuple[Party, tuple[Party, ...], int]:
        if len(line.to) != 1:
            raise ValueError("to: an SMS has exactly one recipient (R4: peer to peer)")
        ends = []
        for where, p in (("from", line.from_), ("to[0]", line.to[0])):
            if not p.phone_number:
                raise ValueError(f"{where}.phoneNumber: required for an SMS")
            try:
                number = parse_number(p.phone_number, f"{where}.phoneNumber", account.country)
            except RingletError:
                raise ValueError(
                    f"{where}.phoneNumber: {p.phone_number[:40]!r} is not a phone number"
                ) from None
            ends.append(Party(phone_number=number, name=p.name or self._number_name(number)))
        conversation_id = sms_conversation_id(
            ends[0].phone_number or "", ends[1].phone_number or ""
        )
        if line.conversation_id is not None and parse_id(line.conversation_id) != conversation_id:
            raise ValueError(
                "conversationId: an SMS conversation is the one of its two numbers (R13), "
                f"{conversation_id} here; leave conversationId out of SMS lines"
            )
        return ends[0], (ends[1],), conversation_id

    def _pager(
        self, account: Account, owner: Extension, line: _Line
    ) -> tuple[Party, tuple[Party, ...], int]:
        sender = self._require_extension(account, line.from_.extension_number, "from")
        addressed = [
            self._require_extension(account, p.extension_number, f"to[{i}]")
            for i, p in enumerate(line.to)
        ]
        members = {sender.id} | {e.id for e in addressed if e.type is not ExtensionType.DEPARTMENT}
        departments = {e.id for e in addressed if e.type is ExtensionType.DEPARTMENT}
        if owner.id not in members and not self._in_departments(account, owner, departments):
            raise ValueError(
                f"extension: {owner.extension_number} is neither the sender nor a recipient of "
                "this Pager message (R12: it could never read it)"
            )
        outbound = owner.id == sender.id
        if outbound != (line.direction is Direction.OUTBOUND):
            raise ValueError(
                "direction: the sender's copy of a Pager message is Outbound, a recipient's Inbound"
            )
        conversation_id = self._thread(account, line.conversation_id, members, departments)

        def party(ext: Extension, given: _Party) -> Party:
            return Party(
                extension_number=ext.extension_number,
                extension_id=ext.id,
                name=given.name or ext.name,
            )

        to = tuple(party(e, p) for e, p in zip(addressed, line.to, strict=True))
        return party(sender, line.from_), to, conversation_id

    def _in_departments(self, account: Account, owner: Extension, departments: set[int]) -> bool:
        if not departments:
            return False
        current = directory.department_members_of(self.conn, account.id, departments)
        return any(owner.id == e.id for members in current.values() for e in members)

    def _thread(
        self, account: Account, given: int | str | None, members: set[int], departments: set[int]
    ) -> int:
        if given is None:
            key = (account.id, frozenset(members | departments))
            conversation_id = self.by_participants.get(key)
            if conversation_id is None:
                conversation_id = self.new_conversation_id()
                while self._existing_thread(conversation_id) is not None:
                    conversation_id = self.new_conversation_id()
                self.by_participants[key] = conversation_id
        else:
            number = parse_id(given)
            if number is None or number > MAX_CONVERSATION_ID:
                raise ValueError(
                    f"conversationId: {str(given)[:40]!r} is not an id below 2**53 "
                    "(JavaScript clients read larger ones wrong); leave it out for a new one"
                )
            conversation_id = number
        thread = self.threads.get(conversation_id)
        if thread is None:
            existing = self._existing_thread(conversation_id)
            if existing is not None and existing.account_id != account.id:
                raise ValueError(
                    f"conversationId: {conversation_id} is a conversation of another account"
                )
            thread = self.threads[conversation_id] = _Thread(account.id, existing=existing)
        elif thread.account_id != account.id:
            raise ValueError(
                f"conversationId: {conversation_id} is a conversation of another account"
            )
        thread.members |= members
        thread.departments |= departments
        return conversation_id

    def _existing_thread(self, conversation_id: int) -> PagerThread | None:
        row = self.conn.execute(
            sa.select(pager_threads.c.account_id).where(
                pager_threads.c.conversation_id == conversation_id
            )
        ).first()
        return None if row is None else threads.thread(self.conn, int(row[0]), conversation_id)

    def finish(self) -> int:
        """Create or complete the Pager threads met; touch the stores written. Returns how
        many threads were created."""
        created = 0
        for conversation_id, t in sorted(self.threads.items()):
            if t.existing is None:
                threads.create_thread(
                    self.conn, t.account_id, conversation_id, t.members, t.departments
                )
                created += 1
            else:
                threads.add_thread_members(
                    self.conn, conversation_id, t.members, t.departments, t.existing
                )
        store_versions.touch(self.conn, self.touched)
        return created


def import_lines(
    conn: Connection,
    lines: Iterable[bytes],
    clock: Clock = system_clock,
    new_conversation_id: Callable[[], int] = new_pager_conversation_id,
) -> ImportReport:
    """Import every line, inside the caller's transaction (which must be rolled back if this
    raises ImportFailed)."""
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        # Room for the transaction's pages in memory until it commits: a smaller cache spills
        # them to the WAL, and rewrites them there, as the indexes grow.
        cache = int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
        conn.exec_driver_sql(f"PRAGMA cache_size=-{_SQLITE_CACHE_KIB}")
    try:
        return _import(conn, lines, clock, new_conversation_id)
    finally:
        if sqlite:
            conn.exec_driver_sql(f"PRAGMA cache_size={cache}")


def _import(
    conn: Connection, lines: Iterable[bytes], clock: Clock, new_conversation_id: Callable[[], int]
) -> ImportReport:
    importer = _Importer(conn, clock(), new_conversation_id)
    batch: list[tuple[Any, ...]] = []
    count = 0
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            line = _decoder.decode(raw)
            batch.append(importer.row(line))
        except msgspec.ValidationError as exc:
            raise ImportFailed(number, str(exc)) from None
        except msgspec.DecodeError as exc:
            raise ImportFailed(number, f"not a JSON object: {exc}") from None
        except ValueError as exc:
            raise ImportFailed(number, str(exc)) from None
        except RingletError as exc:
            raise ImportFailed(number, exc.message) from None
        if len(batch) >= BATCH_ROWS:
            store.insert_history(conn, batch)
            count += len(batch)
            batch = []
    store.insert_history(conn, batch)
    count += len(batch)
    created = importer.finish()
    if conn.dialect.name == "postgresql" and count:
        # The planner's statistics, for the first lists after a large import (autovacuum would
        # only gather them later).
        conn.exec_driver_sql("ANALYZE messages")
    return ImportReport(count, dict(importer.stores), created)


def import_file(db: Database, path: Path, clock: Clock = system_clock) -> ImportReport:
    """Import a JSON Lines file in one transaction: all of it, or (ImportFailed) nothing."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ImportFailed(None, f"cannot read it: {exc.strerror or exc}") from None
    with handle:
        return db.write_now(lambda conn: import_lines(conn, handle, clock))
