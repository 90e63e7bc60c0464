"""Queries over subscriptions and the WebHook delivery journal. Every query that serves a
caller is scoped to the subscription's owner: account, extension and app."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ringlet.store.raw_sql import insert_sql
from ringlet.store.schema import notification_attempts, subscriptions

ACTIVE = "Active"
BLACKLISTED = "Blacklisted"
WEBHOOK = "WebHook"
WEBSOCKET = "WebSocket"


class Disabled(msgspec.Struct, frozen=True, omit_defaults=True):
    filter: str
    reason: str
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Owner:
    account_id: int
    extension_id: int
    app_id: int


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    owner: Owner
    transport: str
    address: str | None
    verification_token: str | None
    token_header: str | None
    ws_session_id: str | None
    event_filters: tuple[str, ...]
    disabled_filters: tuple[Disabled, ...]
    status: str
    creation_ms: int
    expiration_ms: int
    blacklisted_ms: int | None
    blacklisted_reason: str | None
    delivered_through: int
    failures: int
    next_attempt_ms: int


_filters = msgspec.json.Decoder(list[str])
_disabled = msgspec.json.Decoder(list[Disabled])
_encode = msgspec.json.Encoder().encode


def _subscription(m: Any) -> Subscription:
    return Subscription(
        id=m["id"],
        owner=Owner(m["account_id"], m["extension_id"], m["app_id"]),
        transport=m["transport"],
        address=m["address"],
        verification_token=m["verification_token"],
        token_header=m["token_header"],
        ws_session_id=m["ws_session_id"],
        event_filters=tuple(_filters.decode(m["event_filters"])),
        disabled_filters=tuple(_disabled.decode(m["disabled_filters"])),
        status=m["status"],
        creation_ms=m["creation_ms"],
        expiration_ms=m["expiration_ms"],
        blacklisted_ms=m["blacklisted_ms"],
        blacklisted_reason=m["blacklisted_reason"],
        delivered_through=m["delivered_through"],
        failures=m["failures"],
        next_attempt_ms=m["next_attempt_ms"],
    )


def _owned(owner: Owner) -> list[sa.ColumnElement[bool]]:
    return [
        subscriptions.c.account_id == owner.account_id,
        subscriptions.c.extension_id == owner.extension_id,
        subscriptions.c.app_id == owner.app_id,
    ]


def insert(conn: Connection, s: Subscription, lease_owner: str | None, lease_until_ms: int) -> None:
    conn.execute(
        sa.insert(subscriptions).values(
            id=s.id,
            account_id=s.owner.account_id,
            extension_id=s.owner.extension_id,
            app_id=s.owner.app_id,
            transport=s.transport,
            address=s.address,
            verification_token=s.verification_token,
            token_header=s.token_header,
            ws_session_id=s.ws_session_id,
            event_filters=_encode(list(s.event_filters)).decode(),
            disabled_filters=_encode(list(s.disabled_filters)).decode(),
            status=s.status,
            creation_ms=s.creation_ms,
            expiration_ms=s.expiration_ms,
            blacklisted_ms=None,
            blacklisted_reason=None,
            delivered_through=s.delivered_through,
            failures=0,
            next_attempt_ms=0,
            lease_owner=lease_owner,
            lease_until_ms=lease_until_ms,
        )
    )


def get(conn: Connection, owner: Owner, subscription_id: str) -> Subscription | None:
    row = (
        conn.execute(
            sa.select(subscriptions).where(subscriptions.c.id == subscription_id, *_owned(owner))
        )
        .mappings()
        .first()
    )
    return None if row is None else _subscription(row)


def by_id(conn: Connection, subscription_id: str) -> Subscription | None:
    row = (
        conn.execute(sa.select(subscriptions).where(subscriptions.c.id == subscription_id))
        .mappings()
        .first()
    )
    return None if row is None else _subscription(row)


def listed(conn: Connection, owner: Owner, now_ms: int) -> list[Subscription]:
    """The owner's subscriptions that have not expired, oldest first."""
    rows = conn.execute(
        sa.select(subscriptions)
        .where(*_owned(owner), subscriptions.c.expiration_ms > now_ms)
        .order_by(subscriptions.c.creation_ms, subscriptions.c.id)
    ).mappings()
    return [_subscription(r) for r in rows]


def by_session(conn: Connection, ws_session_id: str) -> list[Subscription]:
    rows = conn.execute(
        sa.select(subscriptions).where(subscriptions.c.ws_session_id == ws_session_id)
    ).mappings()
    return [_subscription(r) for r in rows]


def set_filters(
    conn: Connection,
    subscription_id: str,
    filters: Sequence[str],
    disabled: Sequence[Disabled],
    expiration_ms: int,
) -> None:
    conn.execute(
        sa.update(subscriptions)
        .where(subscriptions.c.id == subscription_id)
        .values(
            event_filters=_encode(list(filters)).decode(),
            disabled_filters=_encode(list(disabled)).decode(),
            expiration_ms=expiration_ms,
        )
    )


def set_expiration(conn: Connection, subscription_id: str, expiration_ms: int) -> None:
    conn.execute(
        sa.update(subscriptions)
        .where(subscriptions.c.id == subscription_id)
        .values(expiration_ms=expiration_ms)
    )


def delete(conn: Connection, subscription_ids: Iterable[str]) -> None:
    ids = list(subscription_ids)
    if ids:
        conn.execute(
            sa.delete(notification_attempts).where(notification_attempts.c.subscription_id.in_(ids))
        )
        conn.execute(sa.delete(subscriptions).where(subscriptions.c.id.in_(ids)))


def websocket_subscriptions(conn: Connection, account_ids: Iterable[int]) -> list[Subscription]:
    """The live WebSocket subscriptions of these accounts (the candidates for an event; such a
    subscription lives as long as its session does)."""
    rows = conn.execute(
        sa.select(subscriptions).where(
            subscriptions.c.account_id.in_(list(account_ids)),
            subscriptions.c.status == ACTIVE,
            subscriptions.c.transport == WEBSOCKET,
        )
    ).mappings()
    return [_subscription(row) for row in rows]


# -- WebHook leases: which process delivers which subscription -------------------------------


def _claimable_by(me: str, now_ms: int) -> sa.ColumnElement[bool]:
    """Live WebHook subscriptions whose lease is `me`'s, free, or lapsed."""
    return sa.and_(
        subscriptions.c.transport == WEBHOOK,
        subscriptions.c.status == ACTIVE,
        subscriptions.c.expiration_ms > now_ms,
        sa.or_(
            subscriptions.c.lease_owner == me,
            subscriptions.c.lease_owner.is_(None),
            subscriptions.c.lease_until_ms < now_ms,
        ),
    )


def claim(conn: Connection, me: str, now_ms: int, until_ms: int) -> list[Subscription]:
    """Take every live WebHook subscription whose lease is free or lapsed, and extend the
    leases already held: returns those held now."""
    conn.execute(
        sa.update(subscriptions)
        .where(_claimable_by(me, now_ms))
        .values(lease_owner=me, lease_until_ms=until_ms)
    )
    rows = conn.execute(
        sa.select(subscriptions).where(
            subscriptions.c.lease_owner == me,
            subscriptions.c.status == ACTIVE,
            subscriptions.c.lease_until_ms == until_ms,
        )
    ).mappings()
    return [_subscription(r) for r in rows]


def claimable(conn: Connection, me: str, now_ms: int) -> bool:
    """Whether `claim` would change anything: a read first, so that an idle server does not
    write every second."""
    found = conn.execute(
        sa.select(subscriptions.c.id).where(_claimable_by(me, now_ms)).limit(1)
    ).first()
    return found is not None


def save_progress(
    conn: Connection,
    me: str,
    subscription_id: str,
    delivered_through: int,
    failures: int,
    next_attempt_ms: int,
) -> bool:
    """Record how far a subscription's delivery got; False if this process lost its lease."""
    done = conn.execute(
        sa.update(subscriptions)
        .where(subscriptions.c.id == subscription_id, subscriptions.c.lease_owner == me)
        .values(
            delivered_through=delivered_through,
            failures=failures,
            next_attempt_ms=next_attempt_ms,
        )
    )
    return bool(done.rowcount)


def blacklist(conn: Connection, subscription_id: str, now_ms: int, reason: str) -> None:
    conn.execute(
        sa.update(subscriptions)
        .where(subscriptions.c.id == subscription_id)
        .values(
            status=BLACKLISTED,
            blacklisted_ms=now_ms,
            blacklisted_reason=reason,
            lease_owner=None,
            lease_until_ms=0,
        )
    )


def release(conn: Connection, me: str) -> None:
    conn.execute(
        sa.update(subscriptions)
        .where(subscriptions.c.lease_owner == me)
        .values(lease_owner=None, lease_until_ms=0)
    )


def lowest_cursor(conn: Connection, now_ms: int) -> int | None:
    """The oldest event a WebHook subscription still has to be told of. One past its expiration
    is told of nothing more (claim), so it holds no event back: else one left to expire would
    keep every event from being pruned, for ever."""
    value = conn.execute(
        sa.select(sa.func.min(subscriptions.c.delivered_through)).where(
            subscriptions.c.transport == WEBHOOK,
            subscriptions.c.status == ACTIVE,
            subscriptions.c.expiration_ms > now_ms,
        )
    ).scalar()
    return None if value is None else int(value)


# -- the journal ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attempt:
    subscription_id: str
    event_id: int | None
    uuid: str
    attempt_ms: int
    status_code: int | None
    latency_ms: int
    error: str | None
    redelivery: bool
    envelope: bytes
    id: int = 0


_ATTEMPT_COLUMNS = (
    "subscription_id",
    "event_id",
    "uuid",
    "attempt_ms",
    "status_code",
    "latency_ms",
    "error",
    "redelivery",
    "envelope",
)


def add_attempts(conn: Connection, attempts: Sequence[Attempt]) -> None:
    """Journal attempts, in one statement on the DBAPI cursor: a delivery process under load
    records thousands a second, inside the write lock the servers' sends wait for."""
    if not attempts:
        return
    cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(
            insert_sql(conn.dialect.paramstyle, "notification_attempts", _ATTEMPT_COLUMNS),
            [
                (
                    a.subscription_id,
                    a.event_id,
                    a.uuid,
                    a.attempt_ms,
                    a.status_code,
                    a.latency_ms,
                    a.error,
                    a.redelivery,
                    a.envelope.decode(),
                )
                for a in attempts
            ],
        )
    finally:
        cursor.close()


def _attempt(m: Any) -> Attempt:
    return Attempt(
        id=m["id"],
        subscription_id=m["subscription_id"],
        event_id=m["event_id"],
        uuid=m["uuid"],
        attempt_ms=m["attempt_ms"],
        status_code=m["status_code"],
        latency_ms=m["latency_ms"],
        error=m["error"],
        redelivery=m["redelivery"],
        envelope=m["envelope"].encode(),
    )


def attempts(conn: Connection, subscription_id: str, limit: int) -> list[Attempt]:
    """The newest `limit` attempts of a subscription, oldest first."""
    rows = conn.execute(
        sa.select(notification_attempts)
        .where(notification_attempts.c.subscription_id == subscription_id)
        .order_by(notification_attempts.c.id.desc())
        .limit(limit)
    ).mappings()
    return [_attempt(r) for r in reversed(list(rows))]


def attempt(conn: Connection, subscription_id: str, attempt_id: int) -> Attempt | None:
    row = (
        conn.execute(
            sa.select(notification_attempts).where(
                notification_attempts.c.subscription_id == subscription_id,
                notification_attempts.c.id == attempt_id,
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else _attempt(row)


def prune_attempts(conn: Connection, before_ms: int) -> None:
    conn.execute(
        sa.delete(notification_attempts).where(notification_attempts.c.attempt_ms < before_ms)
    )


def clear_attempts(conn: Connection) -> None:
    conn.execute(sa.delete(notification_attempts))


def skip_to(conn: Connection, event_id: int) -> None:
    """Every subscription past every event up to `event_id` (after a reset)."""
    conn.execute(
        sa.update(subscriptions)
        .where(subscriptions.c.delivered_through < event_id)
        .values(delivered_through=event_id, failures=0, next_attempt_ms=0)
    )
