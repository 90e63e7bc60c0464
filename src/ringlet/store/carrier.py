"""Queries of the carrier side: the outbox of SMS waiting for the carrier, the handsets'
records, and the carrier rules. Every function takes the caller's Connection (the service owns
the transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ringlet.domain.enums import MessageStatus
from ringlet.store.raw_sql import insert_sql
from ringlet.store.schema import (
    carrier_outbox,
    carrier_rules,
    handset_messages,
    message_store_versions,
    messages,
    pager_thread_departments,
    pager_thread_members,
    pager_threads,
)

STAGE_SUBMIT = "submit"  # to be handed to the gateway
STAGE_REPORT = "report"  # handed on; the simulator's delivery receipt is due


@dataclass(frozen=True, slots=True)
class OutboxJob:
    id: int
    account_id: int
    extension_id: int
    message_id: int
    from_number: str
    to_number: str
    text: str
    stage: str
    attempts: int
    lease_ms: int


@dataclass(frozen=True, slots=True)
class HandsetRecord:
    id: int
    handset: str
    direction: str  # the handset's point of view: Inbound = it received the message
    from_number: str
    to_number: str
    text: str
    status: str
    message_id: int | None
    creation_ms: int


@dataclass(frozen=True, slots=True)
class HandsetSummary:
    phone_number: str
    message_count: int
    last_message_ms: int


@dataclass(frozen=True, slots=True)
class CarrierRule:
    id: int
    to_number: str
    status: MessageStatus
    error_code: str | None


# -- the outbox ---------------------------------------------------------------------------------


_ENQUEUE_COLUMNS = (
    "account_id",
    "extension_id",
    "message_id",
    "from_number",
    "to_number",
    "text",
    "stage",
    "due_ms",
    "attempts",
)


def enqueue(
    conn: Connection,
    *,
    account_id: int,
    extension_id: int,
    message_id: int,
    from_number: str,
    to_number: str,
    text: str,
    due_ms: int,
) -> None:
    """Record, inside the send's transaction, that the carrier must carry this SMS. On the
    DBAPI cursor, as the send's own inserts (store/messages.py): it runs on the writer thread
    for every SMS to a handset."""
    values = (account_id, extension_id, message_id, from_number, to_number, text, STAGE_SUBMIT)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(
            insert_sql(conn.dialect.paramstyle, "carrier_outbox", _ENQUEUE_COLUMNS),
            (*values, due_ms, 0),
        )
    finally:
        cursor.close()


def claim_due(conn: Connection, now_ms: int, lease_ms: int, limit: int) -> list[OutboxJob]:
    """Take up to `limit` due jobs that nobody holds (or whose holder's lease ran out) and
    lease them until `lease_ms`. Runs in a write transaction: on SQLite writers take turns, on
    PostgreSQL the rows are locked and other processes skip them (SKIP LOCKED), so no two
    processes claim one job."""
    free = sa.or_(carrier_outbox.c.lease_ms.is_(None), carrier_outbox.c.lease_ms < now_ms)
    rows = conn.execute(
        sa.select(carrier_outbox)
        .where(carrier_outbox.c.due_ms <= now_ms, free)
        .order_by(carrier_outbox.c.due_ms, carrier_outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    conn.execute(
        sa.update(carrier_outbox)
        .where(carrier_outbox.c.id.in_(ids))
        .values(lease_ms=lease_ms, attempts=carrier_outbox.c.attempts + 1)
    )
    return [
        OutboxJob(
            id=r.id,
            account_id=r.account_id,
            extension_id=r.extension_id,
            message_id=r.message_id,
            from_number=r.from_number,
            to_number=r.to_number,
            text=r.text,
            stage=r.stage,
            attempts=r.attempts + 1,
            lease_ms=lease_ms,
        )
        for r in rows
    ]


def still_held(conn: Connection, job: OutboxJob) -> bool:
    """Whether the job is still ours: present with the lease we took (not taken over by another
    process after our lease ran out)."""
    row = conn.execute(
        sa.select(carrier_outbox.c.id).where(
            carrier_outbox.c.id == job.id, carrier_outbox.c.lease_ms == job.lease_ms
        )
    ).first()
    return row is not None


def finish(conn: Connection, job_id: int) -> None:
    conn.execute(sa.delete(carrier_outbox).where(carrier_outbox.c.id == job_id))


def reschedule(conn: Connection, job_id: int, stage: str, due_ms: int) -> None:
    conn.execute(
        sa.update(carrier_outbox)
        .where(carrier_outbox.c.id == job_id)
        .values(stage=stage, due_ms=due_ms, lease_ms=None)
    )


def next_due_ms(conn: Connection) -> int | None:
    """When the earliest job falls due (None: the outbox is empty)."""
    value = conn.execute(sa.select(sa.func.min(carrier_outbox.c.due_ms))).scalar()
    return None if value is None else int(value)


@dataclass(frozen=True, slots=True)
class OutboundSms:
    """An outbound SMS copy to a handset, as a delivery report finds it."""

    account_id: int
    message_id: int
    from_number: str
    to_number: str
    text: str
    status: MessageStatus


def outbound_sms(conn: Connection, message_id: int) -> OutboundSms | None:
    row = conn.execute(
        sa.select(
            messages.c.account_id,
            messages.c.from_number,
            messages.c.to_number,
            messages.c.subject,
            messages.c.message_status,
        ).where(
            messages.c.id == message_id,
            messages.c.type == "SMS",
            messages.c.direction == "Outbound",
        )
    ).first()
    if row is None or row.from_number is None or row.to_number is None:
        return None
    return OutboundSms(
        account_id=row.account_id,
        message_id=message_id,
        from_number=row.from_number,
        to_number=row.to_number,
        text=row.subject,
        status=MessageStatus(row.message_status),
    )


# -- handset records ------------------------------------------------------------------------------


def add_handset_record(
    conn: Connection,
    *,
    handset: str,
    direction: str,
    from_number: str,
    to_number: str,
    text: str,
    status: MessageStatus,
    message_id: int | None,
    now_ms: int,
) -> HandsetRecord:
    values: dict[str, Any] = {
        "handset": handset,
        "direction": direction,
        "from_number": from_number,
        "to_number": to_number,
        "text": text,
        "status": status.value,
        "message_id": message_id,
        "creation_ms": now_ms,
    }
    new_id = conn.execute(
        sa.insert(handset_messages).values(**values).returning(handset_messages.c.id)
    ).scalar_one()
    return HandsetRecord(
        id=int(new_id),
        handset=handset,
        direction=direction,
        from_number=from_number,
        to_number=to_number,
        text=text,
        status=status.value,
        message_id=message_id,
        creation_ms=now_ms,
    )


def _record(row: Any) -> HandsetRecord:
    return HandsetRecord(
        id=row.id,
        handset=row.handset,
        direction=row.direction,
        from_number=row.from_number,
        to_number=row.to_number,
        text=row.text,
        status=row.status,
        message_id=row.message_id,
        creation_ms=row.creation_ms,
    )


# A handset's page: enough for any test, bounded so that one request stays small.
MAX_RECORDS = 1000


def handset_records(conn: Connection, handset: str, since_id: int) -> list[HandsetRecord]:
    """The handset's records after `since_id`, oldest first."""
    rows = conn.execute(
        sa.select(handset_messages)
        .where(handset_messages.c.handset == handset, handset_messages.c.id > since_id)
        .order_by(handset_messages.c.id)
        .limit(MAX_RECORDS)
    )
    return [_record(r) for r in rows]


def handsets(conn: Connection) -> list[HandsetSummary]:
    rows = conn.execute(
        sa.select(
            handset_messages.c.handset,
            sa.func.count().label("n"),
            sa.func.max(handset_messages.c.creation_ms).label("last"),
        )
        .group_by(handset_messages.c.handset)
        .order_by(handset_messages.c.handset)
    )
    return [HandsetSummary(r.handset, int(r.n), int(r.last)) for r in rows]


def recent_handset_records(conn: Connection, limit: int = MAX_RECORDS) -> list[HandsetRecord]:
    """The newest records of every handset, oldest first (the web inbox)."""
    rows = conn.execute(
        sa.select(handset_messages).order_by(handset_messages.c.id.desc()).limit(limit)
    ).all()
    return [_record(r) for r in reversed(rows)]


# -- rules ------------------------------------------------------------------------------------


def rule_count(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(carrier_rules)).scalar_one())


def add_rule(
    conn: Connection, to_number: str, status: MessageStatus, error_code: str | None
) -> CarrierRule:
    new_id = conn.execute(
        sa.insert(carrier_rules)
        .values(to_number=to_number, status=status.value, error_code=error_code)
        .returning(carrier_rules.c.id)
    ).scalar_one()
    return CarrierRule(int(new_id), to_number, status, error_code)


def _rule(row: Any) -> CarrierRule:
    return CarrierRule(row.id, row.to_number, MessageStatus(row.status), row.error_code)


def rules(conn: Connection) -> list[CarrierRule]:
    return [_rule(r) for r in conn.execute(sa.select(carrier_rules).order_by(carrier_rules.c.id))]


def rule_for(conn: Connection, to_number: str) -> CarrierRule | None:
    """The newest rule for the number: a later rule overrides an earlier one."""
    row = conn.execute(
        sa.select(carrier_rules)
        .where(carrier_rules.c.to_number == to_number)
        .order_by(carrier_rules.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _rule(row)


def delete_rule(conn: Connection, rule_id: int) -> bool:
    result = conn.execute(sa.delete(carrier_rules).where(carrier_rules.c.id == rule_id))
    return bool(result.rowcount)


# -- reset ------------------------------------------------------------------------------------

_CLEARED: Sequence[sa.Table] = (
    carrier_outbox,
    handset_messages,
    carrier_rules,
    messages,
    pager_thread_members,
    pager_thread_departments,
    pager_threads,
)


def reset(conn: Connection) -> None:
    """Remove every message, Pager thread, handset record, queued SMS and rule. The stores'
    change counters move on rather than back to zero: a page memoised before the reset must
    never match a counter value reached after it."""
    for table in _CLEARED:
        conn.execute(sa.delete(table))
    conn.execute(
        sa.update(message_store_versions).values(version=message_store_versions.c.version + 1)
    )
