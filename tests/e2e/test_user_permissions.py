"""User permissions end to end (domain/permissions.py; facts 5.2): every operation requires the
`x-user-permission` of the spec; admins hold them all, other users those of RingCentral's
standard role. A refusal is 403 CMN-408 naming the permission, before the body is read.

The route table drives the first tests: every operation is called as a standard user and as an
admin, so a permission added to the table is tested without a new test.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ringlet.api.routes import OPERATIONS, Operation
from ringlet.domain.enums import AppPermission
from ringlet.domain.permissions import STANDARD_USER
from tests.e2e.messaging import send_pager, send_sms
from tests.support.client import ApiClient
from tests.support.fixtures import ProvisionedAccount

pytestmark = pytest.mark.usefixtures("server")

ACCOUNT = "/restapi/v1.0/account/~"
BULK_ASSIGN = f"{ACCOUNT}/department/bulk-assign"
CHECKED = [op for op in OPERATIONS if op.user_permission]


def _members(client: ApiClient, account: ProvisionedAccount) -> list[str]:
    response = client.get(f"{ACCOUNT}/department/{account.ext('201').id}/members")
    assert response.status_code == 200, response.text
    return [m["extensionNumber"] for m in response.json()["records"]]


def _call(client: ApiClient, account: ProvisionedAccount, op: Operation) -> httpx.Response:
    """`op` on the caller's own account and extension, with ids and a body that need not be
    right: only whether the permission check let it through matters here."""
    path = op.path.format(
        accountId="~",
        extensionId="~",
        messageId="1",
        attachmentId="1",
        phoneNumberId="1",
        departmentId=str(account.ext("201").id),
    )
    body: dict[str, Any] | None = {
        "updateExtension": {"contact": {"firstName": "Still"}},
        "createSMSMessage": {"text": "hi", "to": [{"phoneNumber": account.handset()}]},
        "createInternalTextMessage": {"text": "hi", "to": [{"extensionNumber": "103"}]},
        "updateMessage": {"readStatus": "Read"},
        "patchMessage": {"readStatus": "Read"},
        "assignMultipleDepartmentMembers": {"items": []},
    }.get(op.operation_id)
    return client.request(op.method, path, json=body)


def _refused(response: httpx.Response, permission: str) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["errorCode"] == "CMN-408"
    assert body["permissionName"] == permission
    assert body["errors"][0]["permissionName"] == permission
    assert body["message"] == (
        f"In order to call this API endpoint, user needs to have [{permission}] permission "
        "for requested resource."
    )


def _not_refused(response: httpx.Response) -> None:
    """Past authentication and both permission checks (what the handler then said is its own
    business: an unknown message id is 404, a filter delete without a conversation 400...)."""
    assert response.status_code not in (401, 500), response.text
    if response.status_code == 403:
        assert response.json()["errorCode"] not in ("CMN-401", "CMN-408"), response.text


@pytest.mark.parametrize("op", CHECKED, ids=lambda op: op.operation_id)
def test_standard_user_per_route_table(account, client_for, op: Operation) -> None:
    bob = client_for(account, "102")
    response = _call(bob, account, op)
    if set(op.user_permission) & STANDARD_USER:
        _not_refused(response)
    else:
        _refused(response, op.user_permission[0].value)


@pytest.mark.parametrize("op", CHECKED, ids=lambda op: op.operation_id)
def test_admin_holds_every_permission(account, client_for, op: Operation) -> None:
    _not_refused(_call(client_for(account, "101"), account, op))


def test_standard_user_cannot_assign_department_members(account, client_for) -> None:
    bob = client_for(account, "102")
    item = {
        "departmentId": str(account.ext("201").id),
        "removedExtensionIds": [str(account.ext("103").id)],
    }
    _refused(bob.post(BULK_ASSIGN, json={"items": [item]}), "UserGroups")
    assert _members(bob, account) == ["102", "103", "104"]


def test_refusal_comes_before_the_body_is_read(account, client_for) -> None:
    bob = client_for(account, "102")
    malformed = bob.post(BULK_ASSIGN, content=b"{items:", headers={"Content-Type": "text/csv"})
    _refused(malformed, "UserGroups")


def test_another_account_is_not_found_rather_than_refused(account, new_account, client_for) -> None:
    other = new_account()
    bob = client_for(account, "102")
    response = bob.post(f"/restapi/v1.0/account/{other.id}/department/bulk-assign", json={})
    assert response.status_code == 404, response.text
    assert response.json()["errorCode"] == "CMN-102"
    assert response.json()["errors"][0]["parameterName"] == "accountId"


def test_app_permission_is_checked_first(new_account, client_for) -> None:
    def without_edit_accounts(doc: dict[str, Any]) -> None:
        kept = [p.value for p in AppPermission if p is not AppPermission.EDIT_ACCOUNTS]
        doc["apps"][0]["permissions"] = kept

    account = new_account(edit=without_edit_accounts)
    response = client_for(account, "102").post(BULK_ASSIGN, json={})
    assert response.status_code == 403, response.text
    assert response.json()["errorCode"] == "CMN-401"
    assert response.json()["permissionName"] == "EditAccounts"


def test_department_manager_is_a_standard_user(account, client_for) -> None:
    """R7: the department sends SMS; its Pager is refused by R7 (MSG-330), not by a missing
    permission; managing members is not for it."""
    queue = client_for(account, "201")
    sms = send_sms(queue, account.ext("201").phone_numbers[0].phone_number, account.handset(), "hi")
    assert sms.status_code == 200, sms.text
    pager = send_pager(queue, ["102"])
    assert pager.status_code == 403
    assert pager.json()["errorCode"] == "MSG-330"
    _refused(queue.post(BULK_ASSIGN, json={}), "UserGroups")


def test_own_status_needs_edit_user_info_at_account_scope(account, client_for) -> None:
    """updateExtension's permission is one every user holds for its own contact details; the
    status is an admin's to change, which depends on the body and stays a service rule."""
    bob = client_for(account, "102")
    renamed = bob.put(f"{ACCOUNT}/extension/~", json={"contact": {"firstName": "Robert"}})
    assert renamed.status_code == 200, renamed.text
    _refused(bob.put(f"{ACCOUNT}/extension/~", json={"status": "Disabled"}), "EditUserInfo")
