"""Hostile input never makes a 500 (issue 9): ids that cannot be ids, numbers beyond 64 bits,
JSON nested without end, NUL in text. Each answer is RingCentral's error body, and nothing is
stored."""

from __future__ import annotations

import pytest

from tests.e2e.messaging import EXT, error_code, records

pytestmark = pytest.mark.usefixtures("server")

ACCOUNT = "/restapi/v1.0/account"

# Path segments that cannot be an id: a Unicode digit ("²", which str.isdigit accepts), one
# beyond 64 bits, 2^63 (one past int64), zero, and a long run of digits.
NOT_IDS = ["%C2%B2", "99999999999999999999", str(2**63), "0", "1" * 5000]
NOT_ID_NAMES = ["superscript-two", "20-digits", "2^63", "zero", "5000-digits"]


@pytest.mark.parametrize("bad", NOT_IDS, ids=NOT_ID_NAMES)
@pytest.mark.parametrize(
    ("template", "parameter"),
    [
        (ACCOUNT + "/{bad}", "accountId"),
        (ACCOUNT + "/{bad}/extension/~", "accountId"),
        (ACCOUNT + "/~/extension/{bad}", "extensionId"),
        (ACCOUNT + "/~/extension/{bad}/message-store", "extensionId"),
        (ACCOUNT + "/~/extension/{bad}/phone-number", "extensionId"),
        (ACCOUNT + "/~/phone-number/{bad}", "phoneNumberId"),
        (ACCOUNT + "/~/department/{bad}/members", "departmentId"),
        (ACCOUNT + "/~/extension/~/message-store/{bad}", "messageId"),
        (ACCOUNT + "/~/extension/~/message-store/{bad}/content/1", "messageId"),
    ],
    ids=[
        "account",
        "account-extension",
        "extension",
        "extension-store",
        "extension-numbers",
        "phone-number",
        "department",
        "message",
        "message-content",
    ],
)
def test_a_path_id_that_cannot_exist_is_not_found(
    account, client_for, template, parameter, bad
) -> None:
    olivia = client_for(account, "101")  # an admin: reaches every extension of the account
    response = olivia.get(template.format(bad=bad))
    assert response.status_code == 404, response.text
    assert error_code(response) == "CMN-102"
    assert response.json()["parameterName"] == parameter


@pytest.mark.parametrize("bad", NOT_IDS, ids=NOT_ID_NAMES)
def test_writes_to_an_id_that_cannot_exist_are_not_found(account, client_for, bad) -> None:
    olivia = client_for(account, "101")
    for method, path, body in [
        ("PUT", f"{ACCOUNT}/~/extension/{bad}", {"status": "Enabled"}),
        ("POST", f"{ACCOUNT}/~/extension/{bad}/company-pager", {"text": "x", "to": []}),
        ("PUT", f"{EXT}/message-store/{bad}", {"readStatus": "Read"}),
        ("DELETE", f"{EXT}/message-store/{bad}", None),
    ]:
        response = olivia.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert error_code(response) == "CMN-102"
    assert records(olivia) == []


# JSON literals, written as they go on the wire (a JSON number may have any number of digits).
BIG_NUMBERS = [
    str(10**30),
    str(2**63),
    str(2**64),
    "9" * 5000,
    '"' + "9" * 5000 + '"',
    "-1",
    "0",
    '"²"',
    "true",
    "1.5",
]
BIG_NAMES = [
    "10^30",
    "2^63",
    "2^64",
    "5000-digit-int",
    "5000-digit-str",
    "-1",
    "0",
    "sup2",
    "true",
    "1.5",
]


def _post_json(client, path: str, text: str):
    return client.post(path, content=text.encode(), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("value", BIG_NUMBERS, ids=BIG_NAMES)
def test_reply_on_beyond_an_id_is_an_invalid_parameter(account, client_for, value) -> None:
    bob = client_for(account, "102")
    response = _post_json(bob, f"{EXT}/company-pager", '{"text": "hi", "replyOn": ' + value + "}")
    assert response.status_code == 400, response.text
    assert error_code(response) == "CMN-101"
    assert response.json()["parameterName"] == "replyOn"
    assert records(bob) == []


@pytest.mark.parametrize("value", BIG_NUMBERS, ids=BIG_NAMES)
def test_extension_id_beyond_an_id_is_an_invalid_parameter(account, client_for, value) -> None:
    bob = client_for(account, "102")
    body = '{"text": "hi", "to": [{"extensionId": ' + value + "}]}"
    response = _post_json(bob, f"{EXT}/company-pager", body)
    assert response.status_code == 400, response.text
    assert error_code(response) == "CMN-101"
    assert response.json()["parameterName"] == "to.extensionId"
    assert records(bob) == []


@pytest.mark.parametrize("value", BIG_NUMBERS, ids=BIG_NAMES)
def test_bulk_assign_ids_beyond_an_id_are_invalid(account, client_for, value) -> None:
    olivia = client_for(account, "101")
    department = account.ext("201").id
    body = f'{{"items": [{{"departmentId": "{department}", "addedExtensionIds": [{value}]}}]}}'
    response = _post_json(olivia, f"{ACCOUNT}/~/department/bulk-assign", body)
    assert response.status_code == 400, response.text
    assert error_code(response) == "CMN-101"
    assert response.json()["parameterName"] == "items.addedExtensionIds"
    members = olivia.get(f"{ACCOUNT}/~/department/{department}/members").json()["records"]
    assert len(members) == 3
