"""Bad requests get RingCentral's error body, a 4xx, and change nothing."""

from __future__ import annotations

import pytest

from tests.e2e.messaging import EXT, error_code, records

pytestmark = pytest.mark.usefixtures("server")


def _sms_body(account) -> dict:
    return {
        "from": {"phoneNumber": account.ext("102").number},
        "to": [{"phoneNumber": account.handset()}],
        "text": "hi",
    }


@pytest.mark.parametrize(
    ("mutate", "parameter"),
    [
        (lambda b: b.pop("text"), "text"),
        (lambda b: b.pop("to"), "to"),
        (lambda b: b.pop("from"), "from"),
        (lambda b: b.update(text=42), "text"),
        (lambda b: b.update(to="+16505550100"), "to"),
        (lambda b: b.update(to=[{"phoneNumber": 16505550100}]), "to.phoneNumber"),
        (lambda b: b.update(to=[{"phoneNumber": "call me"}]), "to.phoneNumber"),
        (lambda b: b.update({"from": {"phoneNumber": "nope"}}), "from.phoneNumber"),
        (lambda b: b.update({"from": {}}), "from.phoneNumber"),
        (lambda b: b.update(text=""), "text"),
    ],
    ids=[
        "no-text",
        "no-to",
        "no-from",
        "text-int",
        "to-string",
        "to-number-int",
        "to-garbage",
        "from-garbage",
        "from-empty",
        "empty-text",
    ],
)
def test_malformed_sms_fields_name_the_parameter(account, client_for, mutate, parameter) -> None:
    bob = client_for(account, "102")
    body = _sms_body(account)
    mutate(body)
    response = bob.post(f"{EXT}/sms", json=body)
    assert response.status_code == 400, response.text
    assert error_code(response) == "CMN-101"
    assert response.json()["errors"][0]["parameterName"] == parameter
    assert records(bob) == []


def test_unparsable_json(account, client_for) -> None:
    bob = client_for(account, "102")
    response = bob.post(
        f"{EXT}/sms", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert error_code(response) == "CMN-103"
    assert records(bob) == []


def test_wrong_content_type(account, client_for) -> None:
    bob = client_for(account, "102")
    response = bob.post(
        f"{EXT}/company-pager",
        content=b"text=hi",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert error_code(response) == "CMN-104"


def test_body_over_the_bound(account, client_for) -> None:
    bob = client_for(account, "102")
    body = b'{"text": "' + b"x" * (2 << 20) + b'"}'
    response = bob.post(
        f"{EXT}/company-pager", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert records(bob) == []


def test_unknown_path_and_method(account, client_for) -> None:
    bob = client_for(account, "102")
    unknown = bob.get("/restapi/v1.0/account/~/nothing-here")
    assert unknown.status_code == 404
    assert error_code(unknown) == "CMN-120"
    wrong_method = bob.delete(f"{EXT}/sms")
    assert wrong_method.status_code == 405


def test_missing_and_bad_tokens(api) -> None:
    missing = api.get("/restapi/v1.0/account/~")
    assert missing.status_code == 401
    assert error_code(missing) == "AGW-401"
    bad = api.get("/restapi/v1.0/account/~", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert error_code(bad) == "OAU-213"
    scheme = api.get("/restapi/v1.0/account/~", headers={"Authorization": "Basic abc"})
    assert scheme.status_code == 401
    assert error_code(scheme) == "AGW-402"


def test_app_without_permission_gets_cmn_401(server, client_for) -> None:
    from tests.support.fixtures import build_account

    acct = build_account(6900)
    acct.document["apps"][0]["permissions"] = ["ReadAccounts"]
    server.provision(acct.document)
    olivia = client_for(acct, "101")
    response = olivia.post(f"{EXT}/sms", json=_sms_body(acct))
    assert response.status_code == 403
    assert error_code(response) == "CMN-401"
    assert response.json()["permissionName"] == "SMS"
    assert "[SMS]" in response.json()["message"]
