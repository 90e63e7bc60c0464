"""Small helpers for the end-to-end tests of sending and reading messages."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.client import ApiClient

EXT = "/restapi/v1.0/account/~/extension/~"


def send_sms(client: ApiClient, from_number: str, to_number: str, text: str) -> httpx.Response:
    return client.post(
        f"{EXT}/sms",
        json={
            "from": {"phoneNumber": from_number},
            "to": [{"phoneNumber": to_number}],
            "text": text,
        },
    )


def sent(response: httpx.Response) -> Any:
    """The sent copy of a send that must succeed (200)."""
    assert response.status_code == 200, response.text
    return response.json()


def send_pager(
    client: ApiClient,
    to: list[str] | None = None,
    text: str = "Hello!",
    *,
    reply_on: int | None = None,
    to_ids: list[int] | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"text": text}
    recipients = [{"extensionNumber": n} for n in to or []]
    recipients += [{"extensionId": str(i)} for i in to_ids or []]
    if recipients:
        body["to"] = recipients
    if reply_on is not None:
        body["replyOn"] = reply_on
    return client.post(f"{EXT}/company-pager", json=body)


def records(client: ApiClient, extension_id: int | str = "~", **params: Any) -> list[Any]:
    """Every message of an extension's store that the list shows (one page of up to 1000)."""
    params.setdefault("perPage", 1000)
    response = client.get(
        f"/restapi/v1.0/account/~/extension/{extension_id}/message-store", params=params
    )
    assert response.status_code == 200, response.text
    found: list[Any] = response.json()["records"]
    return found


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["errorCode"]
    return code


def remove_from_department(
    admin: ApiClient, account: Any, department: str, extension: str
) -> httpx.Response:
    """bulk-assign: `extension` (a number) leaves Department `department` (R12 then hides the
    department's threads from it)."""
    return admin.post(
        "/restapi/v1.0/account/~/department/bulk-assign",
        json={
            "items": [
                {
                    "departmentId": str(account.ext(department).id),
                    "removedExtensionIds": [str(account.ext(extension).id)],
                }
            ]
        },
    )
