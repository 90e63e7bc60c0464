"""OAuth sessions, and the look-ups that open one.

A session is one login of one extension through one app. It holds the SHA-256 digests of its
current access and refresh tokens (never the tokens): a refresh replaces both, so an old token
simply stops matching any row, and a revoke deletes the row.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from ringlet.domain.enums import AppPermission
from ringlet.domain.model import INACTIVE_STATUSES, Extension
from ringlet.domain.phone_numbers import DEFAULT_COUNTRY
from ringlet.store.directory import EXTENSION_COLUMNS, extension_from_mapping, parse_permissions
from ringlet.store.schema import accounts, apps, extensions, phone_numbers, sessions

# -- sessions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionTokens:
    """The digests and lifetimes of a session's current token pair."""

    access_digest: str
    refresh_digest: str
    access_expires_ms: int
    refresh_expires_ms: int
    scope: str
    endpoint_id: str


@dataclass(frozen=True, slots=True)
class StoredSession:
    id: int
    app_id: int
    account_id: int
    extension_id: int
    refresh_expires_ms: int
    endpoint_id: str


def insert_session(
    conn: Connection, app_id: int, account_id: int, extension_id: int, tokens: SessionTokens
) -> int:
    result = conn.execute(
        sa.insert(sessions).values(
            app_id=app_id,
            account_id=account_id,
            extension_id=extension_id,
            access_digest=tokens.access_digest,
            refresh_digest=tokens.refresh_digest,
            access_expires_ms=tokens.access_expires_ms,
            refresh_expires_ms=tokens.refresh_expires_ms,
            scope=tokens.scope,
            endpoint_id=tokens.endpoint_id,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def session_by_refresh_digest(conn: Connection, refresh_digest: str) -> StoredSession | None:
    row = conn.execute(
        sa.select(
            sessions.c.id,
            sessions.c.app_id,
            sessions.c.account_id,
            sessions.c.extension_id,
            sessions.c.refresh_expires_ms,
            sessions.c.endpoint_id,
        ).where(sessions.c.refresh_digest == refresh_digest)
    ).first()
    if row is None:
        return None
    m = row._mapping
    return StoredSession(
        id=m["id"],
        app_id=m["app_id"],
        account_id=m["account_id"],
        extension_id=m["extension_id"],
        refresh_expires_ms=m["refresh_expires_ms"],
        endpoint_id=m["endpoint_id"],
    )


def rotate_session(
    conn: Connection, session_id: int, old_refresh_digest: str, tokens: SessionTokens
) -> bool:
    """Replace the session's token pair, if its refresh token is still `old_refresh_digest`.

    The condition makes the refresh single-use even when two servers share a PostgreSQL
    database and refresh the same token at once: the second UPDATE matches no row."""
    result = conn.execute(
        sa.update(sessions)
        .where(sessions.c.id == session_id, sessions.c.refresh_digest == old_refresh_digest)
        .values(
            access_digest=tokens.access_digest,
            refresh_digest=tokens.refresh_digest,
            access_expires_ms=tokens.access_expires_ms,
            refresh_expires_ms=tokens.refresh_expires_ms,
            scope=tokens.scope,
            endpoint_id=tokens.endpoint_id,
        )
    )
    return result.rowcount == 1


def delete_session_by_token(conn: Connection, token_digest: str, app_id: int) -> int:
    """End the session that `token_digest` (its access or its refresh token) belongs to,
    if the app `app_id` opened it. Returns how many sessions ended (0 or 1)."""
    result = conn.execute(
        sa.delete(sessions).where(
            sa.or_(
                sessions.c.access_digest == token_digest,
                sessions.c.refresh_digest == token_digest,
            ),
            sessions.c.app_id == app_id,
        )
    )
    return result.rowcount


def delete_expired_sessions(conn: Connection, before_ms: int) -> int:
    """Forget sessions whose refresh token expired before `before_ms`."""
    result = conn.execute(sa.delete(sessions).where(sessions.c.refresh_expires_ms < before_ms))
    return result.rowcount


# -- authenticating a request ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccessGrant:
    """What an access token grants: everything a `Caller` needs, in one row."""

    account_id: int
    extension_id: int
    app_id: int
    access_expires_ms: int
    app_permissions: frozenset[AppPermission]
    admin: bool
    extension_active: bool
    country: str


# Built once: this runs on every API request. Four unique-index lookups (the access digest,
# then the extension's, the app's and the account's primary keys).
_ACCESS_QUERY = (
    sa.select(
        sessions.c.account_id,
        sessions.c.extension_id,
        sessions.c.app_id,
        sessions.c.access_expires_ms,
        apps.c.permissions,
        extensions.c.admin,
        extensions.c.status,
        accounts.c.country,
    )
    .select_from(sessions)
    .join(extensions, extensions.c.id == sessions.c.extension_id)
    .join(apps, apps.c.id == sessions.c.app_id)
    .join(accounts, accounts.c.id == sessions.c.account_id)
    .where(sessions.c.access_digest == sa.bindparam("digest"))
)

_INACTIVE = frozenset(status.value for status in INACTIVE_STATUSES)


def access_grant(conn: Connection, access_digest: str) -> AccessGrant | None:
    row = conn.execute(_ACCESS_QUERY, {"digest": access_digest}).first()
    if row is None:
        return None
    m = row._mapping
    return AccessGrant(
        account_id=m["account_id"],
        extension_id=m["extension_id"],
        app_id=m["app_id"],
        access_expires_ms=m["access_expires_ms"],
        app_permissions=parse_permissions(m["permissions"]),
        admin=bool(m["admin"]),
        extension_active=m["status"] not in _INACTIVE,
        country=m["country"],
    )


# -- who a password grant names ------------------------------------------------------------------


def account_countries(conn: Connection) -> list[str]:
    """The countries of the server's accounts, the default one first (most servers hold one)."""
    found = {row[0] for row in conn.execute(sa.select(accounts.c.country).distinct())}
    return sorted(found, key=lambda c: (c != DEFAULT_COUNTRY, c)) or [DEFAULT_COUNTRY]


@dataclass(frozen=True, slots=True)
class LoginTarget:
    """An extension a password grant may log in to, with its password hash."""

    extension: Extension
    password_hash: str | None


_TARGET_COLUMNS = (*EXTENSION_COLUMNS, extensions.c.password_hash)


def _target(m: RowMapping) -> LoginTarget:
    return LoginTarget(extension_from_mapping(m), m["password_hash"])


def _by_number(conn: Connection, account_id: int, extension_number: str) -> LoginTarget | None:
    row = conn.execute(
        sa.select(*_TARGET_COLUMNS).where(
            extensions.c.account_id == account_id,
            extensions.c.extension_number == extension_number,
        )
    ).first()
    return None if row is None else _target(row._mapping)


def _by_id(conn: Connection, extension_id: int) -> LoginTarget | None:
    row = conn.execute(sa.select(*_TARGET_COLUMNS).where(extensions.c.id == extension_id)).first()
    return None if row is None else _target(row._mapping)


def login_targets_by_phone(
    conn: Connection, number: str, extension_number: str | None
) -> list[LoginTarget]:
    """The extension that a phone-number `username` (E.164) and an optional `extension` name.

    The number names an account and a default extension: the account's main (or another
    company-level) number defaults to the operator extension, "the main company
    administrator"; a direct number to its owner. `extension` picks another extension of the
    same account; the password checked is always that of the extension picked."""
    account_id: int | None = None
    default_number: str | None = None
    owner_id: int | None = None
    main = conn.execute(
        sa.select(accounts.c.id, accounts.c.operator_extension_number).where(
            accounts.c.main_number == number
        )
    ).first()
    if main is not None:
        account_id, default_number = main[0], main[1]
    else:
        held = conn.execute(
            sa.select(
                phone_numbers.c.account_id,
                phone_numbers.c.extension_id,
                accounts.c.operator_extension_number,
            )
            .join(accounts, accounts.c.id == phone_numbers.c.account_id)
            .where(phone_numbers.c.phone_number == number)
        ).first()
        if held is None:
            return []
        account_id, owner_id, default_number = held[0], held[1], held[2]
    if extension_number is not None:
        target = _by_number(conn, account_id, extension_number)
    elif owner_id is not None:
        target = _by_id(conn, owner_id)
    else:
        target = _by_number(conn, account_id, str(default_number))
    return [] if target is None else [target]


def login_targets_by_email(
    conn: Connection, email: str, extension_number: str | None, limit: int = 5
) -> list[LoginTarget]:
    """The extensions that an email `username` (case-insensitive) and an optional `extension`
    name: the email's owner, or with `extension` that extension of the owner's account, as for
    a direct number. Emails need not be unique across accounts, so there may be several (at
    most `limit`); the caller keeps the one whose password matches."""
    owners = [
        _target(r._mapping)
        for r in conn.execute(
            sa.select(*_TARGET_COLUMNS)
            .where(sa.func.lower(extensions.c.email) == email.lower())
            .order_by(extensions.c.id)
            .limit(limit)
        )
    ]
    if extension_number is None:
        return owners
    picked = (_by_number(conn, o.extension.account_id, extension_number) for o in owners)
    return [t for t in picked if t is not None]
