"""Idempotent upserts of a validated Fixture, in the caller's transaction.

Each entry is first matched to its row (store/fixture_plans.py); a conflict is reported with
the file's path and nothing written.

The file is authoritative for what it lists: the fields of its apps, accounts and extensions,
each listed extension's phone numbers and each department's members (replaced by the file's
lists). What it does not list (other extensions, other accounts) is left alone: a file may
describe part of a server, and deleting an extension would orphan its message store.

Secrets never reach this module in a form that needs hashing here: `Secrets` (implemented by
the service with ringlet.security) turns a plain password into the hash to store, keeping the
current hash when it still matches so that an unchanged password is not re-hashed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from ringlet.domain.enums import UsageType
from ringlet.fixtures.model import ExtensionDef, Fixture
from ringlet.fixtures.problems import fixture_error
from ringlet.security import NO_SECRET
from ringlet.store import store_versions
from ringlet.store.fixture_plans import (
    AccountPlan,
    ExtensionPlan,
    Secrets,
    find_row,
    match,
    permissions_text,
)
from ringlet.store.schema import accounts, apps, department_members, extensions, phone_numbers

# Any constant: serialises loads by several servers on one PostgreSQL database (SQLite's
# writer already holds the database lock for the whole transaction).
_PG_LOCK_KEY = 0x52494E474C4554 + 1


class Kind(StrEnum):
    ACCOUNT = "account"
    EXTENSION = "extension"
    PHONE_NUMBER = "phone number"
    APP = "app"


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REMOVED = "removed"


@dataclass
class Applied:
    accounts: list[tuple[int, str | None]] = field(default_factory=list)
    tally: Counter[tuple[Kind, Outcome]] = field(default_factory=Counter)


# -- small queries ----------------------------------------------------------------------------


def lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")


def ping(conn: Connection) -> None:
    conn.execute(sa.select(sa.literal(1))).scalar_one()


def has_accounts(conn: Connection) -> bool:
    return conn.execute(sa.select(accounts.c.id).limit(1)).first() is not None


def account_exists(conn: Connection, account_id: int) -> bool:
    return (
        conn.execute(sa.select(accounts.c.id).where(accounts.c.id == account_id)).first()
        is not None
    )


# -- writing ------------------------------------------------------------------------------------


def _upsert(
    conn: Connection,
    table: sa.Table,
    row_id: int | None,
    row: RowMapping | None,
    values: dict[str, Any],
) -> Outcome:
    if row is None:
        conn.execute(
            sa.insert(table).values(values if row_id is None else {"id": row_id, **values})
        )
        return Outcome.CREATED
    changed = {k: v for k, v in values.items() if row[k] != v}
    if not changed:
        return Outcome.UNCHANGED
    conn.execute(sa.update(table).where(table.c.id == row["id"]).values(changed))
    return Outcome.UPDATED


def apply(conn: Connection, fixture: Fixture, secrets: Secrets) -> Applied:
    """Write `fixture` into the current transaction; InvalidInput (nothing kept, the caller's
    transaction rolls back) when it conflicts with what the database holds."""
    lock(conn)
    matcher, plans = match(conn, fixture)
    matcher.jwt_owners(plans, secrets)
    if matcher.problems:
        raise fixture_error(matcher.problems)
    done = Applied()
    for app in fixture.apps:
        row = find_row(conn, apps, apps.c.client_id == app.client_id)
        outcome = _upsert(
            conn,
            apps,
            None,
            row,
            {
                "client_id": app.client_id,
                "client_secret_hash": _client_secret_hash(row, app.client_secret, secrets),
                "name": app.name,
                "permissions": permissions_text(app.permissions),
            },
        )
        done.tally[Kind.APP, outcome] += 1
    _release_moving_jwts(conn, plans, secrets)
    for plan in plans:
        _apply_account(conn, plan, secrets, done)
    return done


def _client_secret_hash(row: RowMapping | None, plain: str | None, secrets: Secrets) -> str:
    if plain is None:
        return NO_SECRET  # a public client
    return secrets.hash_for(row["client_secret_hash"] if row else None, plain)


def _release_moving_jwts(conn: Connection, plans: list[AccountPlan], secrets: Secrets) -> None:
    """A JWT credential may move between extensions of the file: clear the values that change
    first, or the unique column would refuse the move half-way. The upserts compare against
    the rows as matched (before this), so they still see and write the change."""
    moving = [
        e.id
        for p in plans
        for e in p.extensions
        if e.row
        and e.row["jwt_digest"] is not None
        and e.row["jwt_digest"] != _jwt_digest(e.spec, secrets)
    ]
    if moving:
        conn.execute(
            sa.update(extensions).where(extensions.c.id.in_(moving)).values(jwt_digest=None)
        )


def _apply_account(conn: Connection, plan: AccountPlan, secrets: Secrets, done: Applied) -> None:
    spec = plan.spec
    outcome = _upsert(
        conn,
        accounts,
        plan.id,
        plan.row,
        {
            "name": spec.name,
            "main_number": spec.main_number,
            "operator_extension_number": spec.operator,
            "country": spec.country,
        },
    )
    done.tally[Kind.ACCOUNT, outcome] += 1
    done.accounts.append((plan.id, spec.main_number))

    outcomes: dict[int, Outcome] = {}
    for ext in plan.extensions:
        outcomes[ext.id] = _apply_extension(conn, plan.id, ext, secrets)

    _remove_dropped_numbers(conn, plan, done)
    for number in plan.numbers:
        outcome = _upsert(conn, phone_numbers, number.id, number.row, number.values)
        done.tally[Kind.PHONE_NUMBER, outcome] += 1

    ids_by_number = {e.spec.extension_number: e.id for e in plan.extensions}
    for ext in plan.extensions:
        wanted = {ids_by_number[m] for m in ext.spec.members}
        if _replace_members(conn, ext.id, wanted) and outcomes[ext.id] is Outcome.UNCHANGED:
            outcomes[ext.id] = Outcome.UPDATED
    done.tally.update((Kind.EXTENSION, o) for o in outcomes.values())


def _jwt_digest(spec: ExtensionDef, secrets: Secrets) -> str | None:
    return None if spec.jwt is None else secrets.digest(spec.jwt)


def _apply_extension(
    conn: Connection, account_id: int, ext: ExtensionPlan, secrets: Secrets
) -> Outcome:
    spec = ext.spec
    password_hash = None
    if spec.password is not None:
        password_hash = secrets.hash_for(
            ext.row["password_hash"] if ext.row else None, spec.password
        )
    return _upsert(
        conn,
        extensions,
        ext.id,
        ext.row,
        {
            "account_id": account_id,
            "extension_number": spec.extension_number,
            "type": spec.type.value,
            "status": spec.status.value,
            "name": spec.name,
            "email": spec.email,
            "admin": spec.admin,
            "password_hash": password_hash,
            "jwt_digest": _jwt_digest(spec, secrets),
        },
    )


def _remove_dropped_numbers(conn: Connection, plan: AccountPlan, done: Applied) -> None:
    """Numbers the file no longer lists for its extensions, and a replaced main number."""
    listed = [n.values["phone_number"] for n in plan.numbers]
    ext_ids = [e.id for e in plan.extensions]
    dropped = sa.and_(
        phone_numbers.c.account_id == plan.id,
        phone_numbers.c.phone_number.not_in(listed),
        sa.or_(
            phone_numbers.c.extension_id.in_(ext_ids),
            sa.and_(
                phone_numbers.c.extension_id.is_(None),
                phone_numbers.c.usage_type == UsageType.MAIN_COMPANY_NUMBER.value,
            ),
        ),
    )
    removed = conn.execute(sa.delete(phone_numbers).where(dropped)).rowcount
    if removed:
        done.tally[Kind.PHONE_NUMBER, Outcome.REMOVED] += removed


def _replace_members(conn: Connection, department_id: int, wanted: set[int]) -> bool:
    """Make the department's members exactly `wanted`; True if that changed anything."""
    current = {
        r[0]
        for r in conn.execute(
            sa.select(department_members.c.extension_id).where(
                department_members.c.department_id == department_id
            )
        )
    }
    if current == wanted:
        return False
    store_versions.touch(conn, current ^ wanted)  # R12, as in directory.change_department_members
    conn.execute(
        sa.delete(department_members).where(department_members.c.department_id == department_id)
    )
    if wanted:
        conn.execute(
            sa.insert(department_members),
            [{"department_id": department_id, "extension_id": m} for m in sorted(wanted)],
        )
    return True
