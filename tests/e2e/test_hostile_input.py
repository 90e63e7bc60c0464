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


# -- nesting -------------------------------------------------------------------------------

DEEP = 100_000


@pytest.mark.parametrize(
    ("path_suffix", "template"),
    [
        (
            "sms",
            '{{"from": {{"phoneNumber": "{from_}"}}, "to": [{{"phoneNumber": "{to}"}}],'
            ' "text": "hi", "unknown": {deep}}}',
        ),
        (
            "sms",
            '{{"from": {{"phoneNumber": "{from_}"}}, "to": [{{"phoneNumber": "{to}"}}],'
            ' "text": "hi", "country": {{"id": {deep}}}}}',
        ),
        ("company-pager", '{{"text": "hi", "to": [{{"extensionNumber": "103"}}], "x": {deep}}}'),
        ("message-store/1,2", "{deep}"),
    ],
    ids=["sms-unknown-field", "sms-country", "pager-unknown-field", "bulk-update"],
)
@pytest.mark.parametrize("brackets", ["[]", "{}"], ids=["arrays", "objects"])
def test_json_nested_without_end_is_refused(
    account, client_for, path_suffix, template, brackets
) -> None:
    bob = client_for(account, "102")
    deep = '{"a":' * DEEP + "1" + "}" * DEEP if brackets == "{}" else "[" * DEEP + "]" * DEEP
    body = template.format(from_=account.ext("102").number, to=account.handset(), deep=deep)
    method = "PUT" if path_suffix.startswith("message-store") else "POST"
    response = bob.request(
        method,
        f"{EXT}/{path_suffix}",
        content=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert error_code(response) == "CMN-103"
    assert "nested deeper than 64 levels" in response.json()["message"]
    assert records(bob) == []


def test_nesting_at_the_bound_is_read(account, client_for) -> None:
    """64 levels are accepted: the body is the send's own (2 levels) plus an unknown field."""
    bob = client_for(account, "102")
    body = {
        "from": {"phoneNumber": account.ext("102").number},
        "to": [{"phoneNumber": account.handset()}],
        "text": "deep but fine",
        "unknown": [["[x]"] * 3],  # brackets in a string do not nest
    }
    nested: object = 1
    for _ in range(63):
        nested = [nested]
    body["unknown2"] = nested
    response = bob.post(f"{EXT}/sms", json=body)
    assert response.status_code == 200, response.text
    assert len(records(bob)) == 1


def test_a_json_syntax_error_names_its_position(account, client_for) -> None:
    bob = client_for(account, "102")
    response = bob.post(
        f"{EXT}/company-pager",
        content=b'{"text": "hi",, }',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert error_code(response) == "CMN-103"
    assert "(byte 14)" in response.json()["message"]


# -- text that no database can keep alike ----------------------------------------------------


def test_nul_in_an_sms_text_is_refused_on_every_backend(account, client_for) -> None:
    bob = client_for(account, "102")
    response = bob.post(
        f"{EXT}/sms",
        json={
            "from": {"phoneNumber": account.ext("102").number},
            "to": [{"phoneNumber": account.handset()}],
            "text": "a\u0000b",
        },
    )
    assert response.status_code == 400, response.text
    assert error_code(response) == "CMN-101"
    assert response.json()["parameterName"] == "text"
    assert records(bob) == []


def test_nul_in_a_pager_text_is_refused_on_every_backend(account, client_for) -> None:
    bob = client_for(account, "102")
    response = bob.post(
        f"{EXT}/company-pager", json={"text": "\u0000", "to": [{"extensionNumber": "103"}]}
    )
    assert response.status_code == 400, response.text
    assert response.json()["parameterName"] == "text"
    assert records(bob) == []
    carol = client_for(account, "103")
    assert records(carol) == []


@pytest.mark.parametrize("where", ["to", "from"])
def test_nul_in_a_pager_extension_number_is_refused(account, client_for, where) -> None:
    bob = client_for(account, "102")
    body = {"text": "hi", "to": [{"extensionNumber": "103"}]}
    body[where] = (
        [{"extensionNumber": "1\u00003"}] if where == "to" else {"extensionNumber": "\u0000"}
    )
    response = bob.post(f"{EXT}/company-pager", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["parameterName"] == f"{where}.extensionNumber"
    assert records(bob) == []


@pytest.mark.parametrize(
    "field", ["firstName", "lastName", "email"], ids=["first-name", "last-name", "email"]
)
def test_nul_in_contact_details_is_refused(account, client_for, field) -> None:
    bob = client_for(account, "102")
    value = "bob\u0000@x.example" if field == "email" else "B\u0000b"
    response = bob.put(f"{ACCOUNT}/~/extension/~", json={"contact": {field: value}})
    assert response.status_code == 400, response.text
    assert response.json()["parameterName"] == f"contact.{field}"
    assert bob.get(f"{ACCOUNT}/~/extension/~").json()["name"] == "Bob Builder"


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        (ACCOUNT + "/~/extension?extensionNumber=1%000", "extensionNumber"),
        (ACCOUNT + "/~/extension?email=a%00%40b.example", "email"),
        (EXT + "/message-store?phoneNumber=%2B1650%00", "phoneNumber"),
        (EXT + "/message-sync?syncToken=%00", "syncToken"),
    ],
    ids=["extension-number", "email", "phone-number", "sync-token"],
)
def test_nul_in_a_query_is_an_invalid_parameter(account, client_for, path, parameter) -> None:
    bob = client_for(account, "102")
    response = bob.get(path)
    assert response.status_code == 400, response.text
    assert error_code(response) == "CMN-101"
    assert response.json()["parameterName"] == parameter


def test_nul_in_a_login_form_is_refused(api, account) -> None:
    response = api.token_request(
        {"grant_type": "password", "username": "olivia\u0000@x.example", "password": "x"},
        client_id=account.client_id,
        client_secret=account.client_secret,
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert response.json()["errors"][0]["parameterName"] == "username"


def test_no_error_message_cites_an_internal_rule(account, client_for) -> None:
    bob = client_for(account, "102")
    response = bob.post(
        f"{EXT}/sms",
        json={
            "from": {"phoneNumber": account.ext("102").number},
            "to": [{"phoneNumber": account.handset(0)}, {"phoneNumber": account.handset(1)}],
            "text": "two",
        },
    )
    assert response.status_code == 400
    assert "(R4)" not in response.json()["message"]
    assert "one message per recipient" in response.json()["message"]
