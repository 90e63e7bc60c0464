"""User permissions: what the *person* logged in may do, as opposed to what the *app* may do
(`AppPermission`, checked first). RingCentral names the user permission each operation needs in
its `x-user-permission` (the route table, api/routes.py, copies it; a test checks it against the
spec) and refuses a caller without it: 403 CMN-408 naming the permission (facts 5.2).

RingCentral grants permissions through user roles. ringlet knows two: the account's admins
(`admin: true` in the fixture) hold every permission; every other extension holds what
RingCentral's standard user role grants for messaging (`STANDARD_USER`). A Department logged
in with its own credentials (R7) is a standard user too: its Pager attempts are refused by R7
(MSG-330), not by a permission.

Whether a permission reaches *another* extension's data is R14's business (domain/access.py),
and a few rules depend on the data itself (a standard user may edit its own contact details but
not its own status: services/directory.py); this module answers only "does the caller hold
this permission at all".
"""

from __future__ import annotations

from enum import StrEnum

from ringlet.domain.access import resolve_account
from ringlet.domain.errors import UserPermissionMissing
from ringlet.domain.model import Caller


class UserPermission(StrEnum):
    """The `x-user-permission` values of the operations ringlet serves (S22, and S25 for
    patchMessage), valued exactly as the spec and CMN-408's `permissionName` spell them."""

    READ_COMPANY_INFO = "ReadCompanyInfo"
    READ_EXTENSIONS = "ReadExtensions"
    EDIT_USER_INFO = "EditUserInfo"
    EDIT_USER_CREDENTIALS = "EditUserCredentials"
    READ_COMPANY_PHONE_NUMBERS = "ReadCompanyPhoneNumbers"
    READ_USER_PHONE_NUMBERS = "ReadUserPhoneNumbers"
    OUTBOUND_SMS = "OutboundSMS"
    INTERNAL_SMS = "InternalSMS"
    READ_MESSAGES = "ReadMessages"
    EDIT_MESSAGES = "EditMessages"
    READ_MESSAGE_CONTENT = "ReadMessageContent"
    USER_GROUPS = "UserGroups"  # department membership (assignMultipleDepartmentMembers)
    GROUPS = "Groups"  # call queue membership (assignMultipleCallQueueMembers)


# RingCentral's standard user role, as far as messaging goes (a decision: the facts file has no
# list of the role's permissions): a user reads the company's directory (account info,
# extensions, the numbers it may see), edits its own contact details and credentials, sends SMS
# and Pager messages, and reads, changes and deletes its own messages. Facts 5.2 shows CMN-408
# for users lacking OutboundSMS, InternalSMS, ReadMessages, EditMessages or ReadMessageContent:
# on RingCentral that takes an admin restricting the user's role; ringlet has no such roles, so
# every user holds them. Managing groups (UserGroups: departments, Groups: call queues) is an
# administrator's task and not part of the standard role.
STANDARD_USER: frozenset[UserPermission] = frozenset(
    {
        UserPermission.READ_COMPANY_INFO,
        UserPermission.READ_EXTENSIONS,
        UserPermission.EDIT_USER_INFO,
        UserPermission.EDIT_USER_CREDENTIALS,
        UserPermission.READ_COMPANY_PHONE_NUMBERS,
        UserPermission.READ_USER_PHONE_NUMBERS,
        UserPermission.OUTBOUND_SMS,
        UserPermission.INTERNAL_SMS,
        UserPermission.READ_MESSAGES,
        UserPermission.EDIT_MESSAGES,
        UserPermission.READ_MESSAGE_CONTENT,
    }
)

ADMIN: frozenset[UserPermission] = frozenset(UserPermission)


def granted(caller: Caller) -> frozenset[UserPermission]:
    """Every user permission the caller holds."""
    return ADMIN if caller.is_admin else STANDARD_USER


def everyone_holds(required: tuple[UserPermission, ...]) -> bool:
    """Whether every caller holds one of `required` (admins hold all a standard user does): the
    API layer asks once per operation and skips the check on every request where it is."""
    return not required or any(permission in STANDARD_USER for permission in required)


def holds(caller: Caller, required: tuple[UserPermission, ...]) -> bool:
    """Whether the caller holds one of `required` (the spec's `A OR B`); nothing required:
    yes."""
    if not required:
        return True
    have = granted(caller)
    return any(permission in have for permission in required)


def require(
    caller: Caller, required: tuple[UserPermission, ...], account_ref: str | None = None
) -> None:
    """403 CMN-408 naming the first of `required` unless the caller holds one of them. When the
    path names an account (`account_ref`) that is not the caller's, it is not found instead
    (R14: another account's existence never leaks, not even through a refused permission)."""
    if holds(caller, required):
        return
    if account_ref is not None:
        resolve_account(caller, account_ref)
    raise UserPermissionMissing(required[0].value)
