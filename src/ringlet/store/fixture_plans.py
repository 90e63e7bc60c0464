"""Matching a validated Fixture against the database (reads only), for store/provisioning.py.

An entry with an id is the row with that id; an entry without one is the row with its natural
key (account: mainNumber; extension: account + extensionNumber; phone number: the number; app:
clientId), else a new row with an id derived from that key (fixtures/ids.py). A row that
matches but belongs elsewhere (another account, another id) is a conflict, collected as a
Problem with the file's path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from ringlet.domain.enums import AppPermission, PhoneNumberFeature, UsageType
from ringlet.fixtures.ids import derived_id
from ringlet.fixtures.model import AccountDef, ExtensionDef, Fixture
from ringlet.fixtures.problems import Problem, join
from ringlet.store.schema import accounts, apps, extensions, phone_numbers

# The main number is always an SMS sender for the operator (R6); stored so the account's
# phone-number list shows it so as well.
_MAIN_NUMBER_FEATURES = frozenset({PhoneNumberFeature.CALLER_ID, PhoneNumberFeature.SMS_SENDER})
_MAX_ATTEMPTS = 64


class Secrets(Protocol):
    def hash_for(self, current_hash: str | None, plain: str) -> str:
        """The hash to store for `plain`: `current_hash` itself if it matches."""

    def digest(self, token: str) -> str:
        """The SHA-256 digest stored for a JWT credential."""


def find_row(
    conn: Connection, table: sa.Table, *where: sa.ColumnElement[bool]
) -> RowMapping | None:
    return conn.execute(sa.select(table).where(*where)).mappings().first()


def features_text(values: Iterable[PhoneNumberFeature]) -> str:
    """Space-separated, in the enum's order: one spelling per set, so equal sets compare equal."""
    chosen = set(values)
    return " ".join(f.value for f in PhoneNumberFeature if f in chosen)


def permissions_text(values: Iterable[AppPermission]) -> str:
    chosen = set(values)
    return " ".join(p.value for p in AppPermission if p in chosen)


@dataclass(frozen=True, slots=True)
class NumberPlan:
    path: str
    id: int
    row: RowMapping | None
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ExtensionPlan:
    spec: ExtensionDef
    id: int
    row: RowMapping | None


@dataclass(frozen=True, slots=True)
class AccountPlan:
    spec: AccountDef
    id: int
    row: RowMapping | None
    extensions: tuple[ExtensionPlan, ...]
    numbers: tuple[NumberPlan, ...]


class Matcher:
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
            if candidate in self.taken[kind] or find_row(self.conn, table, table.c.id == candidate):
                continue
            self.taken[kind].add(candidate)
            return candidate
        raise RuntimeError(f"no free {kind} id for {key}")  # 2**-(64*30): not in this universe

    def account(self, spec: AccountDef) -> AccountPlan:
        row = None
        if spec.id is not None:
            account_id = spec.id
            row = find_row(self.conn, accounts, accounts.c.id == spec.id)
        else:
            assert spec.main_number is not None  # validate.py requires one of them
            row = find_row(self.conn, accounts, accounts.c.main_number == spec.main_number)
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
                    "features": features_text(n.features),
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
                        "features": features_text(_MAIN_NUMBER_FEATURES),
                    },
                )
            )
        return AccountPlan(spec, account_id, row, exts, tuple(numbers))

    def extension(self, account_id: int, spec: ExtensionDef) -> ExtensionPlan:
        by_key = find_row(
            self.conn,
            extensions,
            extensions.c.account_id == account_id,
            extensions.c.extension_number == spec.extension_number,
        )
        if spec.id is None:
            if by_key:
                return ExtensionPlan(spec, by_key["id"], by_key)
            new_id = self.free_id("extension", extensions, account_id, spec.extension_number)
            return ExtensionPlan(spec, new_id, None)
        by_id = find_row(self.conn, extensions, extensions.c.id == spec.id)
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
        return ExtensionPlan(spec, spec.id, by_id)

    def number(
        self, account_id: int, path: str, number_id: int | None, number: str, values: dict[str, Any]
    ) -> NumberPlan:
        values = {"account_id": account_id, "phone_number": number, **values}
        by_number = find_row(self.conn, phone_numbers, phone_numbers.c.phone_number == number)
        if by_number and by_number["account_id"] != account_id:
            self.conflict(path, f"{number!r} already belongs to account {by_number['account_id']}")
        if number_id is None:
            if by_number:
                return NumberPlan(path, by_number["id"], by_number, values)
            new_id = self.free_id("phone-number", phone_numbers, number)
            return NumberPlan(path, new_id, None, values)
        by_id = find_row(self.conn, phone_numbers, phone_numbers.c.id == number_id)
        id_path = path.rsplit(".", 1)[0] + ".id"
        if by_id and by_id["account_id"] != account_id:
            self.conflict(
                id_path, f"{number_id} is already a phone number of account {by_id['account_id']}"
            )
        elif by_number and by_number["id"] != number_id:
            self.conflict(id_path, f"{number!r} already has id {by_number['id']}")
        return NumberPlan(path, number_id, by_id, values)

    def jwt_owners(self, plans: list[AccountPlan], secrets: Secrets) -> None:
        """A JWT credential identifies its extension server-wide (the column is unique)."""
        mine = {e.id for p in plans for e in p.extensions}
        for plan in plans:
            for ext in plan.extensions:
                if ext.spec.jwt is None:
                    continue
                owner = find_row(
                    self.conn, extensions, extensions.c.jwt_digest == secrets.digest(ext.spec.jwt)
                )
                if owner and owner["id"] not in mine:
                    self.conflict(
                        join(ext.spec.path, "credentials.jwt"),
                        f"is already the JWT credential of extension "
                        f"{owner['extension_number']!r} of account "
                        f"{owner['account_id']}",
                    )


def match(conn: Connection, fixture: Fixture) -> tuple[Matcher, list[AccountPlan]]:
    matcher = Matcher(conn, fixture)
    return matcher, [matcher.account(a) for a in fixture.accounts]


def secret_needs(conn: Connection, fixture: Fixture) -> list[tuple[str | None, str]]:
    """The (current hash, plain) pairs `apply` will ask `Secrets.hash_for` about, so that the
    slow hashing can be done before the write transaction, not inside it."""
    _, plans = match(conn, fixture)
    needs: list[tuple[str | None, str]] = []
    for app in fixture.apps:
        if app.client_secret is not None:
            row = find_row(conn, apps, apps.c.client_id == app.client_id)
            needs.append((row["client_secret_hash"] if row else None, app.client_secret))
    for plan in plans:
        for ext in plan.extensions:
            if ext.spec.password is not None:
                current = ext.row["password_hash"] if ext.row else None
                needs.append((current, ext.spec.password))
    return needs
