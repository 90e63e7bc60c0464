"""Queries over message stores and Pager threads. Account id first, always (R14)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from ringlet.domain.enums import (
    Availability,
    Direction,
    MessageStatus,
    MessageType,
    ReadStatus,
)
from ringlet.domain.model import Message, NewMessage, PagerThread, Party
from ringlet.store.schema import (
    department_members,
    messages,
    pager_thread_departments,
    pager_thread_members,
    pager_threads,
)

# -- how parties are kept: a compact JSON document per message --------------------------------


class _StoredParty(msgspec.Struct, omit_defaults=True):
    p: str | None = None  # phone number
    n: str | None = None  # extension number
    i: int | None = None  # extension id
    m: str | None = None  # name
    t: bool | None = None  # target
    s: str | None = None  # message status


class _StoredParties(msgspec.Struct):
    f: _StoredParty
    to: list[_StoredParty]


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(_StoredParties)


def _store_party(p: Party) -> _StoredParty:
    return _StoredParty(
        p=p.phone_number,
        n=p.extension_number,
        i=p.extension_id,
        m=p.name,
        t=p.target,
        s=None if p.message_status is None else p.message_status.value,
    )


def _load_party(s: _StoredParty) -> Party:
    return Party(
        phone_number=s.p,
        extension_number=s.n,
        extension_id=s.i,
        name=s.m,
        target=s.t,
        message_status=None if s.s is None else MessageStatus(s.s),
    )


def encode_parties(sender: Party, recipients: Sequence[Party]) -> str:
    stored = _StoredParties(_store_party(sender), [_store_party(r) for r in recipients])
    return _encoder.encode(stored).decode()


def _message(row: Row[tuple[Any, ...]]) -> Message:
    m = row._mapping
    parties = _decoder.decode(m["parties"])
    return Message(
        id=m["id"],
        account_id=m["account_id"],
        extension_id=m["extension_id"],
        type=MessageType(m["type"]),
        direction=Direction(m["direction"]),
        sender=_load_party(parties.f),
        recipients=tuple(_load_party(p) for p in parties.to),
        subject=m["subject"],
        conversation_id=m["conversation_id"],
        message_status=MessageStatus(m["message_status"]),
        read_status=ReadStatus(m["read_status"]),
        availability=Availability(m["availability"]),
        creation_time_ms=m["creation_ms"],
        last_modified_ms=m["modified_ms"],
        pg_to_department=m["pg_to_department"],
    )


# -- writing ------------------------------------------------------------------------------------


def insert_messages(conn: Connection, copies: Sequence[NewMessage], now_ms: int) -> list[int]:
    """Store every copy of one message; returns their ids in the same order."""
    ids: list[int] = []
    for copy in copies:
        sms = copy.type is MessageType.SMS
        to_number = copy.recipients[0].phone_number if sms and copy.recipients else None
        result = conn.execute(
            sa.insert(messages).values(
                account_id=copy.account_id,
                extension_id=copy.extension_id,
                type=copy.type.value,
                direction=copy.direction.value,
                conversation_id=copy.conversation_id,
                subject=copy.subject,
                parties=encode_parties(copy.sender, copy.recipients),
                from_number=copy.sender.phone_number if sms else None,
                to_number=to_number,
                read_status=copy.read_status.value,
                availability=Availability.ALIVE.value,
                message_status=copy.message_status.value,
                pg_to_department=copy.pg_to_department,
                creation_ms=now_ms,
                modified_ms=now_ms,
            )
        )
        pk = result.inserted_primary_key
        assert pk is not None
        ids.append(int(pk[0]))
    return ids


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
    conn.execute(
        sa.update(messages)
        .where(
            messages.c.account_id == account_id,
            messages.c.extension_id == extension_id,
            messages.c.id.in_(list(message_ids)),
        )
        .values(**values)
    )


# -- reading ------------------------------------------------------------------------------------


def _readable_by(extension_id: int) -> sa.ColumnElement[bool]:
    """R12: a Pager copy is readable only while its reader belongs to the thread: an explicit
    member, or a current member of a department the thread was addressed to."""
    explicit = (
        sa.select(sa.literal(1))
        .select_from(pager_thread_members)
        .where(
            pager_thread_members.c.conversation_id == messages.c.conversation_id,
            pager_thread_members.c.extension_id == extension_id,
        )
        .exists()
    )
    via_department = (
        sa.select(sa.literal(1))
        .select_from(
            pager_thread_departments.join(
                department_members,
                department_members.c.department_id == pager_thread_departments.c.department_id,
            )
        )
        .where(
            pager_thread_departments.c.conversation_id == messages.c.conversation_id,
            department_members.c.extension_id == extension_id,
        )
        .exists()
    )
    return sa.or_(messages.c.type != MessageType.PAGER.value, explicit, via_department)


def get_messages(
    conn: Connection, account_id: int, extension_id: int, message_ids: Sequence[int]
) -> dict[int, Message]:
    """The caller-visible copies among `message_ids` in one extension's store."""
    rows = conn.execute(
        sa.select(messages).where(
            messages.c.account_id == account_id,
            messages.c.extension_id == extension_id,
            messages.c.id.in_(list(message_ids)),
            _readable_by(extension_id),
        )
    )
    return {row.id: _message(row) for row in rows}


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


def _conditions(account_id: int, extension_id: int, f: MessageFilter) -> list[Any]:
    c: list[Any] = [
        messages.c.account_id == account_id,
        messages.c.extension_id == extension_id,
    ]
    if f.availability:
        c.append(messages.c.availability.in_([a.value for a in f.availability]))
    if f.conversation_ids:
        c.append(messages.c.conversation_id.in_(list(f.conversation_ids)))
    if f.date_from_ms is not None:
        c.append(messages.c.creation_ms >= f.date_from_ms)
    if f.date_to_ms is not None:
        c.append(messages.c.creation_ms < f.date_to_ms)
    if f.directions:
        c.append(messages.c.direction.in_([d.value for d in f.directions]))
    if f.types:
        c.append(messages.c.type.in_([t.value for t in f.types]))
    if f.read_statuses:
        c.append(messages.c.read_status.in_([r.value for r in f.read_statuses]))
    if f.phone_number is not None:
        c.append(
            sa.or_(
                messages.c.from_number == f.phone_number, messages.c.to_number == f.phone_number
            )
        )
    if f.modified_since_ms is not None:
        c.append(messages.c.modified_ms >= f.modified_since_ms)
    c.append(_readable_by(extension_id))
    return c


def list_messages(
    conn: Connection,
    account_id: int,
    extension_id: int,
    f: MessageFilter,
    offset: int,
    limit: int,
    *,
    count: bool = True,
    order_by_modified: bool = False,
) -> tuple[list[Message], int]:
    """One page of an extension's messages, newest first, and the total that match."""
    conditions = _conditions(account_id, extension_id, f)
    if f.distinct_conversations:
        newest = (
            sa.select(sa.func.max(messages.c.id))
            .where(*conditions)
            .group_by(messages.c.conversation_id)
        )
        conditions = [messages.c.id.in_(newest)]
    total = -1
    if count:
        total = conn.execute(
            sa.select(sa.func.count()).select_from(messages).where(*conditions)
        ).scalar_one()
    key = messages.c.modified_ms if order_by_modified else messages.c.creation_ms
    rows = conn.execute(
        sa.select(messages)
        .where(*conditions)
        .order_by(key.desc(), messages.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [_message(r) for r in rows], total


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


# -- Pager threads (R12) ------------------------------------------------------------------------


def create_thread(
    conn: Connection,
    account_id: int,
    conversation_id: int,
    member_ids: Iterable[int],
    department_ids: Iterable[int],
) -> None:
    conn.execute(
        sa.insert(pager_threads).values(conversation_id=conversation_id, account_id=account_id)
    )
    add_thread_members(conn, conversation_id, member_ids, department_ids, existing=None)


def add_thread_members(
    conn: Connection,
    conversation_id: int,
    member_ids: Iterable[int],
    department_ids: Iterable[int],
    existing: PagerThread | None,
) -> None:
    known_members = existing.member_extension_ids if existing else frozenset()
    known_departments = existing.department_ids if existing else frozenset()
    members = [
        {"conversation_id": conversation_id, "extension_id": e}
        for e in sorted(set(member_ids) - known_members)
    ]
    departments = [
        {"conversation_id": conversation_id, "department_id": d}
        for d in sorted(set(department_ids) - known_departments)
    ]
    if members:
        conn.execute(sa.insert(pager_thread_members), members)
    if departments:
        conn.execute(sa.insert(pager_thread_departments), departments)


def thread(conn: Connection, account_id: int, conversation_id: int) -> PagerThread | None:
    found = conn.execute(
        sa.select(pager_threads.c.conversation_id).where(
            pager_threads.c.account_id == account_id,
            pager_threads.c.conversation_id == conversation_id,
        )
    ).first()
    if found is None:
        return None
    members = conn.execute(
        sa.select(pager_thread_members.c.extension_id).where(
            pager_thread_members.c.conversation_id == conversation_id
        )
    )
    departments = conn.execute(
        sa.select(pager_thread_departments.c.department_id).where(
            pager_thread_departments.c.conversation_id == conversation_id
        )
    )
    return PagerThread(
        conversation_id=conversation_id,
        account_id=account_id,
        member_extension_ids=frozenset(r[0] for r in members),
        department_ids=frozenset(r[0] for r in departments),
    )


# -- message-store queries added for the store and sync services --------------------------------


def message_ids_matching(
    conn: Connection, account_id: int, extension_id: int, f: MessageFilter
) -> list[int]:
    """The ids of every message of one extension's store that `f` selects (R12 applies), for
    writes that act on a whole selection (deleting conversations)."""
    rows = conn.execute(sa.select(messages.c.id).where(*_conditions(account_id, extension_id, f)))
    return [int(r[0]) for r in rows]
