"""User permissions on plain objects (domain/permissions.py): who holds what, and the refusal."""

from __future__ import annotations

import pytest

from ringlet.domain.errors import ResourceNotFound, UserPermissionMissing
from ringlet.domain.model import Caller
from ringlet.domain.permissions import (
    ADMIN,
    STANDARD_USER,
    UserPermission,
    granted,
    holds,
    require,
)

U = UserPermission
USER = Caller(account_id=1, extension_id=102, app_id=7, app_permissions=frozenset(), is_admin=False)
ADMIN_CALLER = Caller(
    account_id=1, extension_id=101, app_id=7, app_permissions=frozenset(), is_admin=True
)


def test_admins_hold_every_permission() -> None:
    assert granted(ADMIN_CALLER) == ADMIN == frozenset(UserPermission)


def test_standard_users_hold_the_messaging_permissions() -> None:
    assert granted(USER) == STANDARD_USER
    assert {
        U.OUTBOUND_SMS,
        U.INTERNAL_SMS,
        U.READ_MESSAGES,
        U.EDIT_MESSAGES,
        U.READ_MESSAGE_CONTENT,
        U.READ_COMPANY_INFO,
        U.READ_EXTENSIONS,
        U.READ_USER_PHONE_NUMBERS,
        U.READ_COMPANY_PHONE_NUMBERS,
        U.EDIT_USER_INFO,
    } <= STANDARD_USER
    admin_only = ADMIN - STANDARD_USER
    assert admin_only == {U.USER_GROUPS, U.GROUPS}


def test_one_of_several_is_enough() -> None:
    assert holds(USER, (U.EDIT_USER_INFO, U.EDIT_USER_CREDENTIALS))
    assert holds(USER, (U.USER_GROUPS, U.READ_MESSAGES))
    assert holds(USER, ())
    assert not holds(USER, (U.USER_GROUPS, U.GROUPS))


def test_refusal_names_the_first_permission() -> None:
    with pytest.raises(UserPermissionMissing) as caught:
        require(USER, (U.USER_GROUPS, U.GROUPS))
    assert caught.value.error_code == "CMN-408"
    assert caught.value.permission_name == "UserGroups"
    assert caught.value.message == (
        "In order to call this API endpoint, user needs to have [UserGroups] permission for "
        "requested resource."
    )
    require(ADMIN_CALLER, (U.USER_GROUPS,))


@pytest.mark.parametrize("ref", ["~", "1"])
def test_refusal_in_own_account(ref: str) -> None:
    with pytest.raises(UserPermissionMissing):
        require(USER, (U.USER_GROUPS,), ref)


@pytest.mark.parametrize("ref", ["2", "acme"])
def test_another_account_is_not_found_before_any_permission(ref: str) -> None:
    with pytest.raises(ResourceNotFound) as caught:
        require(USER, (U.USER_GROUPS,), ref)
    assert caught.value.parameter_name == "accountId"
    require(USER, (U.READ_MESSAGES,), ref)  # held: R14 is left to the handler, as before
