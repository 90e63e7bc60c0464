"""Idempotent upserts of a validated Fixture, in the caller's transaction.

Matching: an entry with an id is the row with that id; an entry without one is the row with
its natural key (account: mainNumber; extension: account + extensionNumber; phone number: the
number; app: clientId), else a new row with an id derived from that key (fixtures/ids.py).
A row that matches but belongs elsewhere (another account, another id) is a conflict, reported
with the file's path and nothing written.

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
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from ringlet.domain.enums import AppPermission, PhoneNumberFeature, UsageType
from ringlet.fixtures.ids import derived_id
from ringlet.fixtures.model import AccountDef, ExtensionDef, Fixture
from ringlet.fixtures.problems import Problem, fixture_error, join
from ringlet.security import NO_SECRET
from ringlet.store import store_versions
from ringlet.store.schema import accounts, apps, department_members, extensions, phone_numbers

# Any constant: serialises loads by several servers on one PostgreSQL database (SQLite's
# writer already holds the database lock for the whole transaction).
_PG_LOCK_KEY = 0x52494E474C4554 + 1
# The main number is always an SMS sender for the operator (R6); stored so the account's
# phone-number list shows it so as well.
_MAIN_NUMBER_FEATURES = frozenset({PhoneNumberFeature.CALLER_ID, PhoneNumberFeature.SMS_SENDER})
_MAX_ATTEMPTS = 64


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


class Secrets(Protocol):
    def hash_for(self, current_hash: str | None, plain: str) -> str:
        """The hash to store for `plain`: `current_hash` itself if it matches."""

    def digest(self, token: str) -> str:
        """The SHA-256 digest stored for a JWT credential."""


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


def _row(conn: Connection, table: sa.Table, *where: sa.ColumnElement[bool]) -> RowMapping | None:
    return conn.execute(sa.select(table).where(*where)).mappings().first()


def _features(values: Iterable[PhoneNumberFeature]) -> str:
    """Space-separated, in the enum's order: one spelling per set, so equal sets compare equal."""
    chosen = set(values)
    return " ".join(f.value for f in PhoneNumberFeature if f in chosen)


def _permissions(values: Iterable[AppPermission]) -> str:
    chosen = set(values)
    return " ".join(p.value for p in AppPermission if p in chosen)


# -- matching -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _NumberPlan:
    path: str
    id: int
    row: RowMapping | None
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _ExtensionPlan:
    spec: ExtensionDef
    id: int
    row: RowMapping | None


@dataclass(frozen=True, slots=True)
class _AccountPlan:
    spec: AccountDef
    id: int
    row: RowMapping | None
    extensions: tuple[_ExtensionPlan, ...]
    numbers: tuple[_NumberPlan, ...]


class _Matcher:
    """Finds the row of each entry (reads only), collecting conflicts as Problems."""

    def __init__(self, conn: Connection, fixture: Fixture) -> None:
        self.conn = conn
        self.problems: list[Problem] = []
        # Ids the file gives explicitly: a derived id must not take one of them.
        self.taken: dict[str, set[int]] = {
            "account": {a.id for a in fixture.accounts if a.id is not None},
            "extension": {e.id for a in fixture.accounts for e in a.extensions if e.id is not None},
            "phone-number": {
                n.id
                for a in fixture.accounts
                for e in a.extensions
                for n in e.phone_numbers
                if n.id is not None
            },
        }

    def conflict(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def free_id(self, kind: str, table: sa.Table, *key: str | int) -> int:
        for attempt in range(_MAX_ATTEMPTS):
            candidate = derived_id(kind, *key, attempt=attempt)
            if candidate in self.taken[kind] or _row(self.conn, table, table.c.id == candidate):
                continue
            self.taken[kind].add(candidate)
            return candidate
        raise RuntimeError(f"no free {kind} id for {key}")  # 2**-(64*30): not in this universe

    def account(self, spec: AccountDef) -> _AccountPlan:
        row = None
        if spec.id is not None:
            account_id = spec.id
            row = _row(self.conn, accounts, accounts.c.id == spec.id)
        else:
            assert spec.main_number is not None  # validate.py requires one of them
            row = _row(self.conn, accounts, accounts.c.main_number == spec.main_number)
            account_id = row["id"] if row else self.free_id("account", accounts, spec.main_number)
        exts = tuple(self.extension(account_id, e) for e in spec.extensions)
        numbers = [
            self.number(
                account_id,
                join(n.path, "phoneNumber"),
                n.id,
                n.phone_number,
                {
                    "extension_id": ext.id,
                    "usage_type": n.usage_type.value,
                    "features": _features(n.features),
                },
            )
            for ext in exts
            for n in ext.spec.phone_numbers
        ]
        if spec.main_number is not None:
            numbers.append(
                self.number(
                    account_id,
                    join(spec.path, "mainNumber"),
                    None,
                    spec.main_number,
                    {
                        "extension_id": None,
                        "usage_type": UsageType.MAIN_COMPANY_NUMBER.value,
                        "features": _features(_MAIN_NUMBER_FEATURES),
                    },
                )
            )
        return _AccountPlan(spec, account_id, row, exts, tuple(numbers))

    def extension(self, account_id: int, spec: ExtensionDef) -> _ExtensionPlan:
        by_key = _row(
            self.conn,
            extensions,
            extensions.c.account_id == account_id,
            extensions.c.extension_number == spec.extension_number,
        )
        if spec.id is None:
            if by_key:
                return _ExtensionPlan(spec, by_key["id"], by_key)
            new_id = self.free_id("extension", extensions, account_id, spec.extension_number)
            return _ExtensionPlan(spec, new_id, None)
        by_id = _row(self.conn, extensions, extensions.c.id == spec.id)
        if by_id and by_id["account_id"] != account_id:
            self.conflict(
                join(spec.path, "id"),
                f"{spec.id} is already extension {by_id['extension_number']!r} of "
                f"account {by_id['account_id']}",
            )
        elif by_key and by_key["id"] != spec.id:
            self.conflict(
                join(spec.path, "id"),
                f"extension {spec.extension_number!r} of this account already has "
                f"id {by_key['id']}",
            )
        return _ExtensionPlan(spec, spec.id, by_id)

    def number(
        self, account_id: int, path: str, number_id: int | None, number: str, values: dict[str, Any]
    ) -> _NumberPlan:
        values = {"account_id": account_id, "phone_number": number, **values}
        by_number = _row(self.conn, phone_numbers, phone_numbers.c.phone_number == number)
        if by_number and by_number["account_id"] != account_id:
            self.conflict(path, f"{number!r} already belongs to account {by_number['account_id']}")
        if number_id is None:
            if by_number:
                return _NumberPlan(path, by_number["id"], by_number, values)
            new_id = self.free_id("phone-number", phone_numbers, number)
            return _NumberPlan(path, new_id, None, values)
        by_id = _row(self.conn, phone_numbers, phone_numbers.c.id == number_id)
        id_path = path.rsplit(".", 1)[0] + ".id"
        if by_id and by_id["account_id"] != account_id:
            self.conflict(
                id_path, f"{number_id} is already a phone number of account {by_id['account_id']}"
            )
        elif by_number and by_number["id"] != number_id:
            self.conflict(id_path, f"{number!r} already has id {by_number['id']}")
        return _NumberPlan(path, number_id, by_id, values)

    def jwt_owners(self, plans: list[_AccountPlan], secrets: Secrets) -> None:
        """A JWT credential identifies its extension server-wide (the column is unique)."""
        mine = {e.id for p in plans for e in p.extensions}
        for plan in plans:
            for ext in plan.extensions:
                if ext.spec.jwt is None:
                    continue
                owner = _row(
                    self.conn, extensions, extensions.c.jwt_digest == secrets.digest(ext.spec.jwt)
                )
                if owner and owner["id"] not in mine:
                    self.conflict(
                        join(ext.spec.path, "credentials.jwt"),
                        f"is already the JWT credential of extension "
                        f"{owner['extension_number']!r} of account "
                        f"{owner['account_id']}",
                    )


def _match(conn: Connection, fixture: Fixture) -> tuple[_Matcher, list[_AccountPlan]]:
    matcher = _Matcher(conn, fixture)
    return matcher, [matcher.account(a) for a in fixture.accounts]


def secret_needs(conn: Connection, fixture: Fixture) -> list[tuple[str | None, str]]:
    """The (current hash, plain) pairs `apply` will ask `Secrets.hash_for` about, so that the
    slow hashing can be done before the write transaction, not inside it."""
    _, plans = _match(conn, fixture)
    needs: list[tuple[str | None, str]] = []
    for app in fixture.apps:
        if app.client_secret is not None:
            row = _row(conn, apps, apps.c.client_id == app.client_id)
            needs.append((row["client_secret_hash"] if row else None, app.client_secret))
    for plan in plans:
        for ext in plan.extensions:
            if ext.spec.password is not None:
                current = ext.row["password_hash"] if ext.row else None
                needs.append((current, ext.spec.password))
    return needs


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
    matcher, plans = _match(conn, fixture)
    matcher.jwt_owners(plans, secrets)
    if matcher.problems:
        raise fixture_error(matcher.problems)
    done = Applied()
    for app in fixture.apps:
        row = _row(conn, apps, apps.c.client_id == app.client_id)
        outcome = _upsert(
            conn,
            apps,
            None,
            row,
            {
                "client_id": app.client_id,
                "client_secret_hash": _client_secret_hash(row, app.client_secret, secrets),
                "name": app.name,
                "permissions": _permissions(app.permissions),
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


def _release_moving_jwts(conn: Connection, plans: list[_AccountPlan], secrets: Secrets) -> None:
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


def _apply_account(conn: Connection, plan: _AccountPlan, secrets: Secrets, done: Applied) -> None:
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
    conn: Connection, account_id: int, ext: _ExtensionPlan, secrets: Secrets
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


def _remove_dropped_numbers(conn: Connection, plan: _AccountPlan, done: Applied) -> None:
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
