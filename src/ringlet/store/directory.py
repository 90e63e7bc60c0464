"""Queries over the directory: apps, accounts, extensions, phone numbers, departments.

Every function that reads an account's data takes the account id first: no query here can
wander into another account by accident (R14).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row, RowMapping

from ringlet.domain.enums import (
    AppPermission,
    ExtensionStatus,
    ExtensionType,
    PhoneNumberFeature,
    UsageType,
)
from ringlet.domain.model import Account, App, Extension, PhoneNumber
from ringlet.store import outbox, store_versions
from ringlet.store.schema import accounts, apps, department_members, extensions, phone_numbers


@lru_cache(maxsize=256)
def parse_permissions(text: str) -> frozenset[AppPermission]:
    """The app's space-separated permissions. Names this server does not know are skipped
    rather than failing every request of the app. Few distinct values exist, so it is cached."""
    known = {p.value for p in AppPermission}
    return frozenset(AppPermission(p) for p in text.split() if p in known)


def _app(row: Row[tuple[object, ...]]) -> App:
    m = row._mapping
    return App(
        id=m["id"],
        client_id=m["client_id"],
        name=m["name"],
        permissions=parse_permissions(m["permissions"]),
    )


def account_from_row(row: Row[tuple[object, ...]]) -> Account:
    m = row._mapping
    return Account(
        id=m["id"],
        name=m["name"],
        main_number=m["main_number"],
        operator_extension_number=m["operator_extension_number"],
        country=m["country"],
    )


def _extension(row: Row[tuple[object, ...]]) -> Extension:
    return extension_from_mapping(row._mapping)


def extension_from_mapping(m: RowMapping) -> Extension:
    """An Extension from a row holding the extension columns (other queries reuse it)."""
    return Extension(
        id=m["id"],
        account_id=m["account_id"],
        extension_number=m["extension_number"],
        type=ExtensionType(m["type"]),
        status=ExtensionStatus(m["status"]),
        name=m["name"],
        email=m["email"],
        admin=bool(m["admin"]),
    )


def _phone_number(row: Row[tuple[object, ...]]) -> PhoneNumber:
    m = row._mapping
    return PhoneNumber(
        id=m["id"],
        account_id=m["account_id"],
        extension_id=m["extension_id"],
        phone_number=m["phone_number"],
        usage_type=UsageType(m["usage_type"]),
        features=frozenset(PhoneNumberFeature(f) for f in m["features"].split()),
    )


# The columns `extension_from_mapping` reads; other modules select them too.
EXTENSION_COLUMNS = [
    extensions.c.id,
    extensions.c.account_id,
    extensions.c.extension_number,
    extensions.c.type,
    extensions.c.status,
    extensions.c.name,
    extensions.c.email,
    extensions.c.admin,
]


@dataclass(frozen=True, slots=True)
class AppCredentials:
    app: App
    client_secret_hash: str


def app_by_client_id(conn: Connection, client_id: str) -> AppCredentials | None:
    row = conn.execute(sa.select(apps).where(apps.c.client_id == client_id)).first()
    if row is None:
        return None
    return AppCredentials(_app(row), row._mapping["client_secret_hash"])


def app_by_id(conn: Connection, app_id: int) -> App | None:
    row = conn.execute(sa.select(apps).where(apps.c.id == app_id)).first()
    return None if row is None else _app(row)


def account(conn: Connection, account_id: int) -> Account | None:
    row = conn.execute(sa.select(accounts).where(accounts.c.id == account_id)).first()
    return None if row is None else account_from_row(row)


def extension(conn: Connection, account_id: int, extension_id: int) -> Extension | None:
    row = conn.execute(
        sa.select(*EXTENSION_COLUMNS).where(
            extensions.c.account_id == account_id, extensions.c.id == extension_id
        )
    ).first()
    return None if row is None else _extension(row)


def extensions_by_ids(
    conn: Connection, account_id: int, extension_ids: Iterable[int]
) -> dict[int, Extension]:
    ids = list(set(extension_ids))
    if not ids:
        return {}
    rows = conn.execute(
        sa.select(*EXTENSION_COLUMNS).where(
            extensions.c.account_id == account_id, extensions.c.id.in_(ids)
        )
    )
    return {row.id: _extension(row) for row in rows}


def extensions_by_numbers(
    conn: Connection, account_id: int, numbers: Iterable[str]
) -> dict[str, Extension]:
    wanted = list(set(numbers))
    if not wanted:
        return {}
    rows = conn.execute(
        sa.select(*EXTENSION_COLUMNS).where(
            extensions.c.account_id == account_id, extensions.c.extension_number.in_(wanted)
        )
    )
    return {row.extension_number: _extension(row) for row in rows}


def extension_numbers_in_account(conn: Connection, account_id: int) -> frozenset[str]:
    rows = conn.execute(
        sa.select(extensions.c.extension_number).where(extensions.c.account_id == account_id)
    )
    return frozenset(r[0] for r in rows)


@dataclass(frozen=True, slots=True)
class ExtensionFilter:
    extension_number: str | None = None
    email: str | None = None
    statuses: Sequence[str] = ()
    types: Sequence[str] = ()


def list_extensions(
    conn: Connection, account_id: int, where: ExtensionFilter, offset: int, limit: int
) -> tuple[list[Extension], int]:
    conditions = [extensions.c.account_id == account_id]
    if where.extension_number is not None:
        conditions.append(extensions.c.extension_number == where.extension_number)
    if where.email is not None:
        conditions.append(sa.func.lower(extensions.c.email) == where.email.lower())
    if where.statuses:
        conditions.append(extensions.c.status.in_(list(where.statuses)))
    if where.types:
        conditions.append(extensions.c.type.in_(list(where.types)))
    total = conn.execute(
        sa.select(sa.func.count()).select_from(extensions).where(*conditions)
    ).scalar_one()
    rows = conn.execute(
        sa.select(*EXTENSION_COLUMNS)
        .where(*conditions)
        .order_by(extensions.c.extension_number, extensions.c.id)
        .offset(offset)
        .limit(limit)
    )
    return [_extension(r) for r in rows], total


def extension_by_jwt_digest(conn: Connection, digest: str) -> Extension | None:
    row = conn.execute(
        sa.select(*EXTENSION_COLUMNS).where(extensions.c.jwt_digest == digest)
    ).first()
    return None if row is None else _extension(row)


def account_phone_numbers(conn: Connection, account_id: int) -> list[PhoneNumber]:
    rows = conn.execute(
        sa.select(phone_numbers)
        .where(phone_numbers.c.account_id == account_id)
        .order_by(phone_numbers.c.id)
    )
    return [_phone_number(r) for r in rows]


def phone_number(conn: Connection, account_id: int, number_id: int) -> PhoneNumber | None:
    row = conn.execute(
        sa.select(phone_numbers).where(
            phone_numbers.c.account_id == account_id, phone_numbers.c.id == number_id
        )
    ).first()
    return None if row is None else _phone_number(row)


def numbers_held_by(conn: Connection, account_id: int, extension_id: int) -> list[PhoneNumber]:
    """The extension's own numbers and the account's main number: the candidates that
    `domain.sending.extension_numbers` chooses from."""
    rows = conn.execute(
        sa.select(phone_numbers)
        .where(
            phone_numbers.c.account_id == account_id,
            sa.or_(
                phone_numbers.c.extension_id == extension_id,
                phone_numbers.c.usage_type == UsageType.MAIN_COMPANY_NUMBER.value,
            ),
        )
        .order_by(phone_numbers.c.id)
    )
    return [_phone_number(r) for r in rows]


@dataclass(frozen=True, slots=True)
class NumberOwner:
    """Who receives SMS sent to a number on this server: its extension, or for the main
    company number the account's operator (R6)."""

    number: PhoneNumber
    extension: Extension | None


def number_owner(conn: Connection, number: str) -> NumberOwner | None:
    row = conn.execute(sa.select(phone_numbers).where(phone_numbers.c.phone_number == number))
    found = row.first()
    if found is None:
        return None
    held = _phone_number(found)
    if held.extension_id is not None:
        return NumberOwner(held, extension(conn, held.account_id, held.extension_id))
    if held.usage_type is UsageType.MAIN_COMPANY_NUMBER:
        acct = account(conn, held.account_id)
        if acct is not None:
            ext = conn.execute(
                sa.select(*EXTENSION_COLUMNS).where(
                    extensions.c.account_id == acct.id,
                    extensions.c.extension_number == acct.operator_extension_number,
                )
            ).first()
            return NumberOwner(held, None if ext is None else _extension(ext))
    return NumberOwner(held, None)


def department_members_of(
    conn: Connection, account_id: int, department_ids: Iterable[int]
) -> dict[int, list[Extension]]:
    ids = list(set(department_ids))
    result: dict[int, list[Extension]] = {d: [] for d in ids}
    if not ids:
        return result
    rows = conn.execute(
        sa.select(department_members.c.department_id, *EXTENSION_COLUMNS)
        .join(extensions, extensions.c.id == department_members.c.extension_id)
        .where(
            extensions.c.account_id == account_id,
            department_members.c.department_id.in_(ids),
        )
        .order_by(extensions.c.extension_number)
    )
    for row in rows:
        result[row._mapping["department_id"]].append(_extension(row))
    return result


def departments_of(conn: Connection, extension_id: int) -> list[Extension]:
    rows = conn.execute(
        sa.select(*EXTENSION_COLUMNS)
        .join(department_members, extensions.c.id == department_members.c.department_id)
        .where(department_members.c.extension_id == extension_id)
        .order_by(extensions.c.extension_number)
    )
    return [_extension(r) for r in rows]


def set_extension_status(
    conn: Connection, account_id: int, extension_id: int, status: ExtensionStatus
) -> None:
    conn.execute(
        sa.update(extensions)
        .where(extensions.c.account_id == account_id, extensions.c.id == extension_id)
        .values(status=status.value)
    )
    outbox.extension_changed(conn, account_id, extension_id, "ExtensionStatus")


def change_department_members(
    conn: Connection, department_id: int, added: Iterable[int], removed: Iterable[int]
) -> None:
    removed_ids = list(set(removed))
    added_ids = set(added)
    # R12: the members' reach into the department's Pager threads changes with membership.
    store_versions.touch(conn, added_ids | set(removed_ids))
    if removed_ids:
        conn.execute(
            sa.delete(department_members).where(
                department_members.c.department_id == department_id,
                department_members.c.extension_id.in_(removed_ids),
            )
        )
    present = {
        r[0]
        for r in conn.execute(
            sa.select(department_members.c.extension_id).where(
                department_members.c.department_id == department_id
            )
        )
    }
    new = [{"department_id": department_id, "extension_id": e} for e in sorted(added_ids - present)]
    if new:
        conn.execute(sa.insert(department_members), new)


# -- directory operations (accounts, extensions, departments) ------------------------------


def list_department_members(
    conn: Connection, account_id: int, department_id: int, offset: int, limit: int
) -> tuple[list[Extension], int]:
    """One page of a department's members, in extension-number order, and their count."""
    conditions = [
        extensions.c.account_id == account_id,
        department_members.c.department_id == department_id,
    ]
    joined = extensions.join(
        department_members, extensions.c.id == department_members.c.extension_id
    )
    total = conn.execute(
        sa.select(sa.func.count()).select_from(joined).where(*conditions)
    ).scalar_one()
    rows = conn.execute(
        sa.select(*EXTENSION_COLUMNS)
        .select_from(joined)
        .where(*conditions)
        .order_by(extensions.c.extension_number, extensions.c.id)
        .offset(offset)
        .limit(limit)
    )
    return [_extension(r) for r in rows], total


def extension_ids_with_email(conn: Connection, email: str) -> list[int]:
    """Extensions of any account that log in with `email` (emails are global login names)."""
    rows = conn.execute(
        sa.select(extensions.c.id).where(sa.func.lower(extensions.c.email) == email.lower())
    )
    return [r[0] for r in rows]


def set_extension_contact(
    conn: Connection, account_id: int, extension_id: int, name: str, email: str | None
) -> None:
    conn.execute(
        sa.update(extensions)
        .where(extensions.c.account_id == account_id, extensions.c.id == extension_id)
        .values(name=name, email=email)
    )
    outbox.extension_changed(conn, account_id, extension_id, "ExtensionInfo")
