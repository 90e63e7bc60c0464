"""The subscription API (facts 13.1, 5.4): the six operations, filters resolved and refused,
expiry, renewal, the limit, and ownership. Every answer is validated against the spec by the
ApiClient (SubscriptionInfo, SubscriptionListResource, the error envelope)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ClientFor, NewAccount
from tests.e2e.messaging import error_code
from tests.support.fixtures import ProvisionedAccount
from tests.support.webhook_receiver import WebHookReceiver

SUBSCRIPTION = "/restapi/v1.0/subscription"
MY_STORE = "/restapi/v1.0/account/~/extension/~/message-store"


@pytest.fixture
def receiver() -> Iterator[WebHookReceiver]:
    r = WebHookReceiver().start()
    yield r
    r.stop()


def webhook(address: str, filters: list[str], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "eventFilters": filters,
        "deliveryMode": {"transportType": "WebHook", "address": address},
    }
    body.update(extra)
    return body


def test_create_resolves_tilde_and_answers_subscription_info(
    account: ProvisionedAccount, client_for: ClientFor, receiver: WebHookReceiver
) -> None:
    client = client_for(account, "102")
    ext = account.ext("102")
    response = client.post(SUBSCRIPTION, json=webhook(receiver.url, [MY_STORE]))
    assert response.status_code == 200, response.text
    info = response.json()
    assert info["eventFilters"] == [
        f"/restapi/v1.0/account/{account.id}/extension/{ext.id}/message-store"
    ]
    assert info["status"] == "Active"
    assert info["deliveryMode"] == {
        "transportType": "WebHook",
        "encryption": False,
        "address": receiver.url,
    }
    assert 604_790 <= info["expiresIn"] <= 604_800  # facts 16.4: 7 days by default
    assert info["uri"].endswith(f"{SUBSCRIPTION}/{info['id']}")
    assert "disabledFilters" not in info
    # The handshake came first: an empty POST carrying a Validation-Token.
    assert len(receiver.handshakes) == 1
    assert receiver.handshakes[0]["user-agent"].startswith("RingCentral-Webhook")


def test_read_list_update_renew_delete(
    account: ProvisionedAccount, client_for: ClientFor, receiver: WebHookReceiver
) -> None:
    client = client_for(account, "102")
    created = client.post(SUBSCRIPTION, json=webhook(receiver.url, [MY_STORE], expiresIn=600))
    sub_id = created.json()["id"]
    assert created.json()["expiresIn"] <= 600

    read = client.get(f"{SUBSCRIPTION}/{sub_id}")
    assert read.status_code == 200 and read.json()["id"] == sub_id
    listed = client.get(SUBSCRIPTION)
    assert [r["id"] for r in listed.json()["records"]] == [sub_id]

    updated = client.put(
        f"{SUBSCRIPTION}/{sub_id}",
        json={"eventFilters": [MY_STORE + "/instant?type=SMS"], "expiresIn": 3600},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["eventFilters"][0].endswith("/message-store/instant?type=SMS")
    assert 3590 <= updated.json()["expiresIn"] <= 3600

    renewed = client.post(f"{SUBSCRIPTION}/{sub_id}/renew")
    assert renewed.status_code == 200
    assert renewed.json()["expiresIn"] > 600_000  # the default lifetime again

    assert client.delete(f"{SUBSCRIPTION}/{sub_id}").status_code == 204
    gone = client.get(f"{SUBSCRIPTION}/{sub_id}")
    assert gone.status_code == 404 and error_code(gone) == "CMN-102"
    assert client.get(SUBSCRIPTION).json()["records"] == []


def test_another_users_subscription_is_not_found(
    account: ProvisionedAccount, client_for: ClientFor, receiver: WebHookReceiver
) -> None:
    owner = client_for(account, "102")
    sub_id = owner.post(SUBSCRIPTION, json=webhook(receiver.url, [MY_STORE])).json()["id"]
    other = client_for(account, "101")  # an admin, of the same account
    for response in (
        other.get(f"{SUBSCRIPTION}/{sub_id}"),
        other.put(f"{SUBSCRIPTION}/{sub_id}", json={"eventFilters": [MY_STORE]}),
        other.post(f"{SUBSCRIPTION}/{sub_id}/renew"),
        other.delete(f"{SUBSCRIPTION}/{sub_id}"),
    ):
        assert response.status_code == 404 and error_code(response) == "CMN-102"
    assert other.get(SUBSCRIPTION).json()["records"] == []
    assert owner.get(f"{SUBSCRIPTION}/{sub_id}").status_code == 200


def test_filters_a_user_may_not_use_are_disabled_not_refused(
    account: ProvisionedAccount, client_for: ClientFor, receiver: WebHookReceiver
) -> None:
    client = client_for(account, "102")
    other = account.ext("103")
    foreign = f"/restapi/v1.0/account/~/extension/{other.id}/message-store"
    response = client.post(SUBSCRIPTION, json=webhook(receiver.url, [MY_STORE, foreign]))
    assert response.status_code == 200, response.text
    info = response.json()
    assert len(info["eventFilters"]) == 1
    assert info["disabledFilters"] == [
        {
            "filter": f"/restapi/v1.0/account/{account.id}/extension/{other.id}/message-store",
            "reason": "SUB-405",
            "message": "Not allowed subscribe for messages to other extensions",
        }
    ]
    # An admin may subscribe to another extension's store (R14).
    admin = client_for(account, "101")
    as_admin = admin.post(SUBSCRIPTION, json=webhook(receiver.url, [foreign]))
    assert as_admin.status_code == 200 and "disabledFilters" not in as_admin.json()


def test_bad_requests_store_nothing(
    account: ProvisionedAccount, client_for: ClientFor, receiver: WebHookReceiver
) -> None:
    client = client_for(account, "102")
    cases = [
        (webhook(receiver.url, ["/restapi/v1.0/account/~/nonsense"]), 400, "SUB-508"),
        (webhook(receiver.url, [MY_STORE + "?type=Bogus"]), 400, "SUB-508"),
        (
            webhook(receiver.url, ["/restapi/v1.0/subscription/~?threshold=60&interval=30"]),
            400,
            "SUB-515",
        ),
        (webhook(receiver.url, []), 400, "CMN-101"),
        (webhook("ftp://example.invalid/x", [MY_STORE]), 400, "CMN-101"),
        (webhook(receiver.url, [MY_STORE], expiresIn=0), 400, "CMN-101"),
        (
            {"eventFilters": [MY_STORE], "deliveryMode": {"transportType": "WebSocket"}},
            400,
            "CMN-101",
        ),
        ({"eventFilters": [MY_STORE], "deliveryMode": {"transportType": "PubNub"}}, 400, "CMN-101"),
        ({"eventFilters": [MY_STORE]}, 400, "CMN-101"),
    ]
    for body, status, code in cases:
        response = client.post(SUBSCRIPTION, json=body)
        assert response.status_code == status, (body, response.text)
        assert error_code(response) == code, (body, response.text)
    token = {"transportType": "WebHook", "address": receiver.url, "verificationToken": "x" * 65}
    long_token = client.post(SUBSCRIPTION, json={"eventFilters": [MY_STORE], "deliveryMode": token})
    assert long_token.status_code == 400
    assert long_token.json()["errors"][0]["parameterName"] == "deliveryMode.verificationToken"
    assert client.get(SUBSCRIPTION).json()["records"] == []


def test_an_address_that_fails_the_handshake_is_refused(
    account: ProvisionedAccount, client_for: ClientFor, receiver: WebHookReceiver
) -> None:
    client = client_for(account, "102")
    receiver.echo_token = False
    no_echo = client.post(SUBSCRIPTION, json=webhook(receiver.url, [MY_STORE]))
    assert no_echo.status_code == 400 and error_code(no_echo) == "SUB-525"
    receiver.echo_token = True
    receiver.handshake_status = 500
    failing = client.post(SUBSCRIPTION, json=webhook(receiver.url, [MY_STORE]))
    assert failing.status_code == 400 and error_code(failing) == "SUB-522"
    assert "HTTP status is 500" in failing.json()["message"]
    dead = WebHookReceiver().start()
    dead_url = dead.url
    dead.stop()
    unreachable = client.post(SUBSCRIPTION, json=webhook(dead_url, [MY_STORE]))
    assert unreachable.status_code == 400 and error_code(unreachable) == "CMN-101"
    assert unreachable.json()["errors"][0]["parameterName"] == "deliveryMode.address"
    assert client.get(SUBSCRIPTION).json()["records"] == []


def test_the_limit_per_user_and_app(
    new_account: NewAccount, client_for: ClientFor, receiver: WebHookReceiver
) -> None:
    account = new_account()
    client = client_for(account, "103")
    for _ in range(20):
        assert client.post(SUBSCRIPTION, json=webhook(receiver.url, [MY_STORE])).status_code == 200
    over = client.post(SUBSCRIPTION, json=webhook(receiver.url, [MY_STORE]))
    assert over.status_code == 403 and error_code(over) == "SUB-505"
    assert len(client.get(SUBSCRIPTION).json()["records"]) == 20
    # Another user of the account has a limit of its own.
    assert (
        client_for(account, "102")
        .post(SUBSCRIPTION, json=webhook(receiver.url, [MY_STORE]))
        .status_code
        == 200
    )


def test_over_long_expires_in_is_clamped(
    account: ProvisionedAccount, client_for: ClientFor, receiver: WebHookReceiver
) -> None:
    client = client_for(account, "102")
    response = client.post(SUBSCRIPTION, json=webhook(receiver.url, [MY_STORE], expiresIn=10**9))
    assert response.status_code == 200
    assert 315_359_990 <= response.json()["expiresIn"] <= 315_360_000
