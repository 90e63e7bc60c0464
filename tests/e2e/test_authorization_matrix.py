"""The authorization matrix (issue 9): every operation that takes an account, extension or
message id, called on one user's (Bob's) resources by eight kinds of caller, answers exactly
the outcome docs/behaviour.md tabulates, and never shows another account's data.

The operations come from api/routes.OPERATIONS (a test fails when one is added that this table
does not know), each with the request that exercises it on Bob's resources."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ringlet.api.routes import OPERATIONS
from tests.support.client import ApiClient
from tests.support.fixtures import ProvisionedAccount

pytestmark = pytest.mark.usefixtures("server")

ROLES = (
    "owner",
    "same-account user",
    "same-account admin",
    "other account's admin",
    "read-only app",
    "revoked token",
    "refreshed-away token",
    "no token",
)
# The outcome of each operation for each role, in ROLES order: a status, with the error code
# of a refusal. Also written down in docs/behaviour.md ("Who may call what").
OK, NO_CONTENT = "200", "204"
NOT_FOUND = "404 CMN-102"
OTHER_EXT = "403 CMN-404"
NO_APP_PERMISSION = "403 CMN-401"
NO_USER_PERMISSION = "403 CMN-408"
REVOKED = "401 OAU-213"
NO_TOKEN = "401 AGW-401"
_UNAUTHENTICATED = (REVOKED, REVOKED, NO_TOKEN)

EXPECTED: dict[str, tuple[str, ...]] = {
    "readAccountInfo": (OK, OK, OK, NOT_FOUND, OK, *_UNAUTHENTICATED),
    "listExtensions": (OK, OK, OK, NOT_FOUND, OK, *_UNAUTHENTICATED),
    "readExtension": (OK, OK, OK, NOT_FOUND, OK, *_UNAUTHENTICATED),
    "updateExtension": (OK, OTHER_EXT, OK, NOT_FOUND, NO_APP_PERMISSION, *_UNAUTHENTICATED),
    "listAccountPhoneNumbers": (OK, OK, OK, NOT_FOUND, OK, *_UNAUTHENTICATED),
    "readAccountPhoneNumber": (OK, OK, OK, NOT_FOUND, OK, *_UNAUTHENTICATED),
    "listExtensionPhoneNumbers": (OK, OTHER_EXT, OK, NOT_FOUND, OK, *_UNAUTHENTICATED),
    "listDepartmentMembers": (OK, OK, OK, NOT_FOUND, OK, *_UNAUTHENTICATED),
    "assignMultipleDepartmentMembers": (
        NO_USER_PERMISSION,
        NO_USER_PERMISSION,
        NO_CONTENT,
        NOT_FOUND,
        NO_APP_PERMISSION,
        *_UNAUTHENTICATED,
    ),
    "createSMSMessage": (OK, OTHER_EXT, OTHER_EXT, NOT_FOUND, NO_APP_PERMISSION, *_UNAUTHENTICATED),
    "createInternalTextMessage": (
        OK,
        OTHER_EXT,
        OTHER_EXT,
        NOT_FOUND,
        NO_APP_PERMISSION,
        *_UNAUTHENTICATED,
    ),
    "listMessages": (OK, OTHER_EXT, OK, NOT_FOUND, OK, *_UNAUTHENTICATED),
    "deleteMessageByFilter": (
        NO_CONTENT,
        OTHER_EXT,
        NO_CONTENT,
        NOT_FOUND,
        NO_APP_PERMISSION,
        *_UNAUTHENTICATED,
    ),
    "readMessage": (OK, OTHER_EXT, OK, NOT_FOUND, OK, *_UNAUTHENTICATED),
    "updateMessage": (OK, OTHER_EXT, OK, NOT_FOUND, NO_APP_PERMISSION, *_UNAUTHENTICATED),
    "patchMessage": (OK, OTHER_EXT, OK, NOT_FOUND, NO_APP_PERMISSION, *_UNAUTHENTICATED),
    "deleteMessage": (
        NO_CONTENT,
        OTHER_EXT,
        NO_CONTENT,
        NOT_FOUND,
        NO_APP_PERMISSION,
        *_UNAUTHENTICATED,
    ),
    "readMessageContent": (OK, OTHER_EXT, OK, NOT_FOUND, OK, *_UNAUTHENTICATED),
    "syncMessages": (OK, OTHER_EXT, OK, NOT_FOUND, OK, *_UNAUTHENTICATED),
}
READ_ONLY_PERMISSIONS = ["ReadAccounts", "ReadMessages"]


def _with_read_only_app(doc: dict[str, Any]) -> None:
    app = dict(doc["apps"][0])
    app["clientId"] = app["clientId"] + "-ro"
    app["permissions"] = READ_ONLY_PERMISSIONS
    doc["apps"].append(app)


@dataclass
class Target:
    """Bob's resources, named by explicit ids (never `~`), and a message of his store."""

    account: ProvisionedAccount
    message_id: int = 0
    conversation_id: int = 0

    @property
    def account_path(self) -> str:
        return f"/restapi/v1.0/account/{self.account.new_id(1346632010)}"

    @property
    def bob_path(self) -> str:
        return f"{self.account_path}/extension/{self.account.ext('102').id}"


Call = Callable[[ApiClient, Target], httpx.Response]


def _pager(client: ApiClient, target: Target) -> httpx.Response:
    return client.post(
        f"{target.bob_path}/company-pager",
        json={"text": "matrix", "to": [{"extensionNumber": "103"}]},
    )


CALLS: dict[str, Call] = {
    "readAccountInfo": lambda c, t: c.get(t.account_path),
    "listExtensions": lambda c, t: c.get(f"{t.account_path}/extension"),
    "readExtension": lambda c, t: c.get(t.bob_path),
    "updateExtension": lambda c, t: c.put(t.bob_path, json={"contact": {"lastName": "Builder"}}),
    "listAccountPhoneNumbers": lambda c, t: c.get(f"{t.account_path}/phone-number"),
    "readAccountPhoneNumber": lambda c, t: c.get(
        f"{t.account_path}/phone-number/{t.account.new_id(33333302)}"
    ),
    "listExtensionPhoneNumbers": lambda c, t: c.get(f"{t.bob_path}/phone-number"),
    "listDepartmentMembers": lambda c, t: c.get(
        f"{t.account_path}/department/{t.account.ext('201').id}/members"
    ),
    "assignMultipleDepartmentMembers": lambda c, t: c.post(
        f"{t.account_path}/department/bulk-assign",
        json={
            "items": [
                {
                    "departmentId": str(t.account.ext("201").id),
                    "addedExtensionIds": [str(t.account.ext("102").id)],
                }
            ]
        },
    ),
    "createSMSMessage": lambda c, t: c.post(
        f"{t.bob_path}/sms",
        json={
            "from": {"phoneNumber": t.account.ext("102").number},
            "to": [{"phoneNumber": t.account.handset()}],
            "text": "matrix",
        },
    ),
    "createInternalTextMessage": _pager,
    "listMessages": lambda c, t: c.get(f"{t.bob_path}/message-store"),
    "deleteMessageByFilter": lambda c, t: c.delete(
        f"{t.bob_path}/message-store", params={"conversationId": t.conversation_id}
    ),
    "readMessage": lambda c, t: c.get(f"{t.bob_path}/message-store/{t.message_id}"),
    "updateMessage": lambda c, t: c.put(
        f"{t.bob_path}/message-store/{t.message_id}", json={"readStatus": "Unread"}
    ),
    "patchMessage": lambda c, t: c.patch(
        f"{t.bob_path}/message-store/{t.message_id}", json={"readStatus": "Unread"}
    ),
    "deleteMessage": lambda c, t: c.delete(f"{t.bob_path}/message-store/{t.message_id}"),
    "readMessageContent": lambda c, t: c.get(
        f"{t.bob_path}/message-store/{t.message_id}/content/1"
    ),
    "syncMessages": lambda c, t: c.get(f"{t.bob_path}/message-sync", params={"syncType": "FSync"}),
}


def _outcome(response: httpx.Response) -> str:
    if response.status_code < 300:
        return str(response.status_code)
    return f"{response.status_code} {response.json()['errors'][0]['errorCode']}"


def test_every_operation_with_an_id_is_in_the_matrix() -> None:
    with_ids = {
        op.operation_id
        for op in OPERATIONS
        if "{accountId}" in op.path or "{extensionId}" in op.path or "{messageId}" in op.path
    }
    assert with_ids == set(EXPECTED) == set(CALLS)


def _login(api: ApiClient, account: ProvisionedAccount, ext: str, client_id: str) -> ApiClient:
    response = api.token_request(
        api.login_form(account, ext, "password"),
        client_id=client_id,
        client_secret=account.client_secret,
    )
    assert response.status_code == 200, response.text
    client = api.with_token(response.json()["access_token"])
    client.token = response.json()
    return client


def _caller(role: str, api: ApiClient, bob_account: ProvisionedAccount, other) -> ApiClient:
    acct = bob_account
    if role == "owner":
        return _login(api, acct, "102", acct.client_id)
    if role == "same-account user":
        return _login(api, acct, "103", acct.client_id)
    if role == "same-account admin":
        return _login(api, acct, "101", acct.client_id)
    if role == "other account's admin":
        return _login(api, other, "101", other.client_id)
    if role == "read-only app":
        return _login(api, acct, "102", acct.client_id + "-ro")
    if role == "revoked token":
        client = _login(api, acct, "102", acct.client_id)
        revoked = api.post(
            "/restapi/oauth/revoke",
            data={"token": client.access_token},
            auth=(acct.client_id, acct.client_secret),
        )
        assert revoked.status_code == 200, revoked.text
        return client
    if role == "refreshed-away token":
        client = _login(api, acct, "102", acct.client_id)
        assert client.token is not None
        refreshed = api.token_request(
            {"grant_type": "refresh_token", "refresh_token": client.token["refresh_token"]},
            client_id=acct.client_id,
            client_secret=acct.client_secret,
        )
        assert refreshed.status_code == 200, refreshed.text
        return client
    assert role == "no token"
    return ApiClient(api.base_url, validator=api.validator)


@pytest.mark.parametrize("role", ROLES)
def test_each_caller_gets_exactly_the_documented_outcome(
    api, new_account, client_for, role
) -> None:
    bob_account = new_account(edit=_with_read_only_app)
    other = new_account()
    caller = _caller(role, api, bob_account, other)
    bob = client_for(bob_account, "102")
    secrets = (bob_account.ext("102").number, "Bob Builder", "matrix-secret")
    seen: dict[str, str] = {}
    for operation, call in CALLS.items():
        # A fresh message for each operation: deletes and updates then never meet each other.
        sent = bob.post(
            f"{Target(bob_account).bob_path}/company-pager",
            json={"text": "matrix-secret", "to": [{"extensionNumber": "103"}]},
        )
        assert sent.status_code == 200, sent.text
        target = Target(bob_account, sent.json()["id"], int(sent.json()["conversationId"]))
        response = call(caller, target)
        seen[operation] = _outcome(response)
        if response.status_code >= 400:
            for secret in secrets:
                assert secret not in response.text, (operation, response.text)
    column = ROLES.index(role)
    assert seen == {op: outcomes[column] for op, outcomes in EXPECTED.items()}
    caller.close()
