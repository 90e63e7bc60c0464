"""The directory use cases: the account, its extensions, phone numbers and departments.

Each public coroutine is one operation in one transaction. The API layer has already resolved
`~`, checked how far the caller reaches (domain/access.py, R14) and whether the caller holds
the operation's user permission (domain/permissions.py); what is left here is
whether the thing named exists *in the caller's account*, and the few rules of visibility and
administration that depend on the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.engine import Connection

from ringlet.clock import Clock
from ringlet.domain import sending
from ringlet.domain.directory import (
    SETTABLE_STATUSES,
    NumberQuery,
    ServiceFeature,
    service_features,
    split_name,
    visible_to,
)
from ringlet.domain.enums import (
    ExtensionStatus,
    ExtensionType,
    PhoneNumberFeature,
)
from ringlet.domain.errors import InvalidParameter, ResourceNotFound, UserPermissionMissing
from ringlet.domain.model import Account, Caller, Extension, PhoneNumber
from ringlet.domain.permissions import UserPermission
from ringlet.domain.recipients import DEPARTMENT_IN_DEPARTMENT, can_join_department
from ringlet.domain.text import check_storable
from ringlet.store import directory as store
from ringlet.store import outbox
from ringlet.store.cache import Caches
from ringlet.store.database import Database

T = TypeVar("T")


# Every user holds updateExtension's user permission (EditUserInfo) for its own contact
# details, which the API layer checks; changing an extension's status needs it at account
# scope, which only admins have. That depends on the body, so it is checked here.
_EDIT_PERMISSION = UserPermission.EDIT_USER_INFO.value


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int


@dataclass(frozen=True, slots=True)
class AccountInfo:
    account: Account
    operator: Extension | None


@dataclass(frozen=True, slots=True)
class ExtensionDetails:
    extension: Extension
    departments: list[Extension]
    # Only for the caller's own extension, as RingCentral shows them.
    service_features: list[tuple[ServiceFeature, bool]] | None


@dataclass(frozen=True, slots=True)
class CompanyNumber:
    number: PhoneNumber
    owner: Extension | None


@dataclass(frozen=True, slots=True)
class HeldNumber:
    """A number in an extension's list, with the features it has *for that extension*."""

    number: PhoneNumber
    features: frozenset[PhoneNumberFeature]
    owner: Extension | None


@dataclass(frozen=True, slots=True)
class ExtensionChanges:
    status: ExtensionStatus | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class MembershipChange:
    department_id: int
    added: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()


class DirectoryService:
    def __init__(self, db: Database, clock: Clock, caches: Caches | None = None) -> None:
        self.db = db
        self.clock = clock
        self.caches = caches or Caches(clock)

    # -- account -----------------------------------------------------------------------------

    async def account_info(self, account_id: int) -> AccountInfo:
        def work(conn: Connection) -> AccountInfo:
            account = _account(conn, account_id)
            found = store.extensions_by_numbers(
                conn, account_id, [account.operator_extension_number]
            )
            return AccountInfo(account, found.get(account.operator_extension_number))

        return await self.db.read(work)

    # -- extensions --------------------------------------------------------------------------

    async def list_extensions(
        self, account_id: int, where: store.ExtensionFilter, offset: int, limit: int
    ) -> Page[Extension]:
        def work(conn: Connection) -> Page[Extension]:
            items, total = store.list_extensions(conn, account_id, where, offset, limit)
            return Page(items, total)

        return await self.db.read(work)

    async def extension_info(self, caller: Caller, extension_id: int) -> ExtensionDetails:
        return await self.db.read(lambda conn: _details(conn, caller, extension_id))

    async def update_extension(
        self, caller: Caller, extension_id: int, changes: ExtensionChanges
    ) -> ExtensionDetails:
        """An admin changes any extension of the account; others only their own contact
        details (the API layer has refused other extensions already, R14)."""

        def work(conn: Connection) -> ExtensionDetails:
            current = _extension(conn, caller.account_id, extension_id)
            status = changes.status
            if status is not None and status is not current.status:
                if status not in SETTABLE_STATUSES:
                    raise InvalidParameter("status", value=status.value)
                if not caller.is_admin:
                    raise UserPermissionMissing(_EDIT_PERMISSION)
                if extension_id == caller.extension_id:
                    # Their own tokens would stop working at once, and with no other admin no
                    # API caller could ever enable the extension again.
                    raise InvalidParameter(
                        "status",
                        "an administrator cannot change their own status",
                        value=status.value,
                    )
                store.set_extension_status(conn, caller.account_id, extension_id, status)
            if (changes.first_name, changes.last_name, changes.email) != (None, None, None):
                name, email = _new_contact(conn, current, changes)
                store.set_extension_contact(conn, caller.account_id, extension_id, name, email)
            self.caches.invalidate()  # R8/R9 must see the new status at once
            return _details(conn, caller, extension_id)

        return await self.db.write(work)

    # -- phone numbers -----------------------------------------------------------------------

    async def account_numbers(
        self, caller: Caller, query: NumberQuery, offset: int, limit: int
    ) -> Page[CompanyNumber]:
        # An account holds few numbers next to its messages: filtering them here keeps the
        # visibility rule in one Python function rather than half of it in SQL.
        def work(conn: Connection) -> Page[CompanyNumber]:
            numbers = [
                n
                for n in store.account_phone_numbers(conn, caller.account_id)
                if visible_to(caller, n) and query.matches(n)
            ]
            page = _with_owners(conn, caller.account_id, numbers[offset : offset + limit])
            return Page(page, len(numbers))

        return await self.db.read(work)

    async def account_number(self, caller: Caller, number_id: int) -> CompanyNumber:
        def work(conn: Connection) -> CompanyNumber:
            number = store.phone_number(conn, caller.account_id, number_id)
            # A number the caller may not see is reported like one that does not exist.
            if number is None or not visible_to(caller, number):
                raise ResourceNotFound("phoneNumberId", str(number_id))
            return _with_owners(conn, caller.account_id, [number])[0]

        return await self.db.read(work)

    async def extension_numbers(
        self, caller: Caller, extension_id: int, query: NumberQuery, offset: int, limit: int
    ) -> Page[HeldNumber]:
        """R5-R7: the numbers and features come from domain.sending, the same function the
        SMS `from` check uses, so the list and the send path cannot disagree."""

        def work(conn: Connection) -> Page[HeldNumber]:
            account = _account(conn, caller.account_id)
            extension = _extension(conn, caller.account_id, extension_id)
            candidates = store.numbers_held_by(conn, caller.account_id, extension_id)
            held = [
                HeldNumber(n, f, extension if n.extension_id == extension.id else None)
                for n, f in sending.extension_numbers(extension, account, candidates)
                if query.matches(n)
            ]
            return Page(held[offset : offset + limit], len(held))

        return await self.db.read(work)

    # -- departments -------------------------------------------------------------------------

    async def department_members(
        self, account_id: int, department_id: int, offset: int, limit: int
    ) -> Page[Extension]:
        def work(conn: Connection) -> Page[Extension]:
            _department(conn, account_id, department_id, "departmentId")
            items, total = store.list_department_members(
                conn, account_id, department_id, offset, limit
            )
            return Page(items, total)

        return await self.db.read(work)

    async def assign_department_members(
        self, caller: Caller, changes: Sequence[MembershipChange]
    ) -> None:
        """All items or none: every id is checked before the first write, and the whole
        request is one transaction. Only admins get here: the API layer requires the
        operation's user permission (UserGroups, domain/permissions.py) before the body is
        read, so a non-admin learns nothing from validation errors."""

        def work(conn: Connection) -> None:
            _check_membership_changes(conn, caller.account_id, changes)
            for change in changes:
                store.change_department_members(
                    conn, change.department_id, change.added, change.removed
                )
                # Directory notifications: the department and every member who came or went.
                for extension_id in {change.department_id, *change.added, *change.removed}:
                    outbox.extension_changed(conn, caller.account_id, extension_id, "Departments")
            self.caches.invalidate()  # R10/R12 must see the new members at once

        await self.db.write(work)


# -- helpers, all inside the caller's transaction --------------------------------------------


def _account(conn: Connection, account_id: int) -> Account:
    account = store.account(conn, account_id)
    if account is None:
        raise ResourceNotFound("accountId", str(account_id))
    return account


def _extension(conn: Connection, account_id: int, extension_id: int) -> Extension:
    extension = store.extension(conn, account_id, extension_id)
    if extension is None:
        raise ResourceNotFound("extensionId", str(extension_id))
    return extension


def _department(conn: Connection, account_id: int, department_id: int, parameter: str) -> Extension:
    found = store.extension(conn, account_id, department_id)
    if found is None or found.type is not ExtensionType.DEPARTMENT:
        raise ResourceNotFound(parameter, str(department_id))
    return found


def _details(conn: Connection, caller: Caller, extension_id: int) -> ExtensionDetails:
    extension = _extension(conn, caller.account_id, extension_id)
    own = extension.id == caller.extension_id
    return ExtensionDetails(
        extension,
        store.departments_of(conn, extension.id),
        service_features(extension) if own else None,
    )


def _with_owners(
    conn: Connection, account_id: int, numbers: Sequence[PhoneNumber]
) -> list[CompanyNumber]:
    """The numbers with the extensions that hold them (one query); company numbers have none."""
    owners = store.extensions_by_ids(
        conn, account_id, [n.extension_id for n in numbers if n.extension_id is not None]
    )
    return [
        CompanyNumber(n, None if n.extension_id is None else owners.get(n.extension_id))
        for n in numbers
    ]


def _new_contact(
    conn: Connection, current: Extension, changes: ExtensionChanges
) -> tuple[str, str | None]:
    """The extension's name and email after `changes`. Emails are login names looked up
    across accounts (password grant), so two extensions may not share one."""
    for parameter, value in (
        ("contact.firstName", changes.first_name),
        ("contact.lastName", changes.last_name),
        ("contact.email", changes.email),
    ):
        if value is not None:
            check_storable(value, parameter)
    first, last = split_name(current.name)
    if changes.first_name is not None:
        first = changes.first_name.strip()
    if changes.last_name is not None:
        last = changes.last_name.strip()
    name = f"{first} {last}".strip()
    if not name:
        raise InvalidParameter("contact.firstName", "the name may not be empty")
    email = current.email
    if changes.email is not None:
        email = changes.email.strip() or None
        if email is not None:
            local, at, domain = email.partition("@")
            if not (local and at and domain):
                raise InvalidParameter("contact.email", value=changes.email)
            if set(store.extension_ids_with_email(conn, email)) - {current.id}:
                raise InvalidParameter(
                    "contact.email", "the email is in use by another extension", value=email
                )
    return name, email


def _check_membership_changes(
    conn: Connection, account_id: int, changes: Sequence[MembershipChange]
) -> None:
    """Every department is a Department of the account, every member an extension of it that
    can be queued (domain/recipients.can_join_department), and no item both
    adds and removes the same extension."""
    wanted = {i for c in changes for i in (*c.added, *c.removed)}
    known = store.extensions_by_ids(conn, account_id, wanted)
    for change in changes:
        _department(conn, account_id, change.department_id, "items.departmentId")
        for parameter, ids in (
            ("items.addedExtensionIds", change.added),
            ("items.removedExtensionIds", change.removed),
        ):
            for extension_id in ids:
                if extension_id not in known:
                    raise ResourceNotFound(parameter, str(extension_id))
        for extension_id in change.added:
            if not can_join_department(known[extension_id].type):
                raise InvalidParameter(
                    "items.addedExtensionIds",
                    DEPARTMENT_IN_DEPARTMENT,
                    value=str(extension_id),
                )
        both = set(change.added) & set(change.removed)
        if both:
            raise InvalidParameter(
                "items.removedExtensionIds",
                "an extension cannot be both added and removed in one item",
                value=str(min(both)),
            )
