"""The carrier side end to end: SMS to handsets and their status over time, handsets texting
company numbers (R2, R3, R6-R8, R13), carrier rules, the handsets' records and `wait`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.messaging import EXT, error_code, records, send_sms
from tests.support.fixtures import ID_STRIDE, ProvisionedAccount
from tests.support.inspect import RULES, InspectClient, handset_path, wait_for_final_status
from tests.support.openapi import SpecValidator
from tests.support.server import RingletServer

STORE = f"{EXT}/message-store"


@pytest.fixture
def inspect(server: RingletServer, spec_validator: SpecValidator) -> Iterator[InspectClient]:
    with InspectClient(server, spec_validator) as client:
        yield client


def _sms_to_handset(client: Any, account: ProvisionedAccount, index: int, text: str) -> Any:
    response = send_sms(client, account.ext("102").number, account.handset(index), text)
    assert response.status_code == 200, response.text
    return response.json()


# -- outbound: the handset gets it ---------------------------------------------------------------


def test_an_sms_to_a_handset_is_delivered_and_the_handset_has_it(
    account, client_for, inspect
) -> None:
    bob = client_for(account, "102")
    handset = account.handset(1)
    sent = _sms_to_handset(bob, account, 1, "Your order shipped")
    assert sent["messageStatus"] == "Sent"  # R11: no carrier delay, handed on at once

    (record,) = inspect.wait_for_handset(handset)
    assert record["direction"] == "Inbound"  # the handset's point of view
    assert record["from"] == account.ext("102").number
    assert record["to"] == handset
    assert record["text"] == "Your order shipped"
    assert record["status"] == "Delivered"
    assert record["messageId"] == sent["id"]

    copy = wait_for_final_status(bob.get, f"{STORE}/{sent['id']}")
    assert copy["messageStatus"] == "Delivered"
    assert "smsDeliveryTime" in copy
    assert "deliveryErrorCode" not in copy
    assert copy["lastModifiedTime"] >= copy["creationTime"]

    listed = inspect.get("/_ringlet/handsets").json()["records"]
    (mine,) = [h for h in listed if h["phoneNumber"] == handset]
    assert mine["messageCount"] == 1
    assert mine["lastMessageTime"] == record["creationTime"]


def test_since_returns_only_later_records_and_wait_times_out_empty(
    account, client_for, inspect
) -> None:
    bob = client_for(account, "102")
    handset = account.handset(2)
    _sms_to_handset(bob, account, 2, "one")
    (first,) = inspect.wait_for_handset(handset)
    _sms_to_handset(bob, account, 2, "two")
    (second,) = inspect.wait_for_handset(handset, since=first["id"])
    assert second["text"] == "two"
    assert [r["text"] for r in inspect.handset_records(handset)] == ["one", "two"]
    assert inspect.handset_records(handset, since=second["id"], wait=0.5) == []


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"wait": "31"}, "wait"),
        ({"wait": "-1"}, "wait"),
        ({"wait": "soon"}, "wait"),
        ({"since": "x"}, "since"),
        ({"since": "-3"}, "since"),
    ],
)
def test_bad_handset_queries_are_refused(account, inspect, params, parameter) -> None:
    response = inspect.get(handset_path(account.handset(3)), params=params)
    assert response.status_code == 400
    assert error_code(response) == "CMN-101"
    assert response.json()["errors"][0]["parameterName"] == parameter


def test_a_handset_number_may_arrive_as_digits_or_url_encoded(account, client_for, inspect) -> None:
    bob = client_for(account, "102")
    handset = account.handset(4)
    _sms_to_handset(bob, account, 4, "hi")
    inspect.wait_for_handset(handset)
    for form in (handset.lstrip("+"), "%2B" + handset.lstrip("+")):
        response = inspect.get(f"/_ringlet/handsets/{form}/messages")
        assert response.status_code == 200, response.text
        assert [r["text"] for r in response.json()["records"]] == ["hi"]


# -- carrier rules --------------------------------------------------------------------------


def test_a_delivery_failed_rule_fails_the_sms_and_the_handset_gets_nothing(
    account, client_for, inspect
) -> None:
    bob = client_for(account, "102")
    handset = account.handset(5)
    rule = inspect.add_rule(to=handset, status="DeliveryFailed", errorCode="SMS-CAR-430")
    assert rule.status_code == 201, rule.text
    assert rule.json() == {
        "id": rule.json()["id"],
        "to": handset,
        "status": "DeliveryFailed",
        "errorCode": "SMS-CAR-430",
    }
    sent = _sms_to_handset(bob, account, 5, "will not arrive")
    copy = wait_for_final_status(bob.get, f"{STORE}/{sent['id']}")
    assert copy["messageStatus"] == "DeliveryFailed"
    assert copy["deliveryErrorCode"] == "SMS-CAR-430"
    assert "smsDeliveryTime" not in copy
    (listed,) = [m for m in records(bob) if m["id"] == sent["id"]]
    assert listed["messageStatus"] == "DeliveryFailed"
    assert listed["deliveryErrorCode"] == "SMS-CAR-430"
    assert inspect.handset_records(handset) == []


def test_a_sending_failed_rule_without_a_code_takes_the_documented_default(
    account, client_for, inspect
) -> None:
    bob = client_for(account, "102")
    handset = account.handset(6)
    assert inspect.add_rule(to=handset, status="SendingFailed").status_code == 201
    sent = _sms_to_handset(bob, account, 6, "refused")
    copy = wait_for_final_status(bob.get, f"{STORE}/{sent['id']}")
    assert copy["messageStatus"] == "SendingFailed"
    assert copy["deliveryErrorCode"] == "SMS-RC-413"
    assert inspect.handset_records(handset) == []


def test_rules_are_listed_and_deleted_and_then_the_sms_is_delivered(
    account, client_for, inspect
) -> None:
    bob = client_for(account, "102")
    handset = account.handset(7)
    rule = inspect.add_rule(to=handset.lstrip("+"), status="SendingFailed").json()
    assert rule["to"] == handset and rule["errorCode"] == "SMS-RC-413"
    assert rule in inspect.rules()
    assert inspect.delete(f"{RULES}/{rule['id']}").status_code == 204
    assert rule not in inspect.rules()
    again = inspect.delete(f"{RULES}/{rule['id']}")
    assert again.status_code == 404 and error_code(again) == "CMN-102"
    _sms_to_handset(bob, account, 7, "now it arrives")
    (record,) = inspect.wait_for_handset(handset)
    assert record["text"] == "now it arrives"


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"status": "DeliveryFailed"}, "to"),
        ({"to": "12", "status": "DeliveryFailed"}, "to"),
        ({"to": "+14155550199"}, "status"),
        ({"to": "+14155550199", "status": "Received"}, "status"),
        ({"to": "+14155550199", "status": "Lost"}, "status"),
        (
            {"to": "+14155550199", "status": "DeliveryFailed", "errorCode": "SMS-CAR-999"},
            "errorCode",
        ),
        ({"to": "+14155550199", "status": "DeliveryFailed", "errorCode": "oops"}, "errorCode"),
        ({"to": "+14155550199", "status": "Delivered", "errorCode": "SMS-CAR-411"}, "errorCode"),
        ({"to": "+14155550199", "status": 3}, "status"),
    ],
)
def test_bad_rules_are_refused_and_nothing_is_stored(inspect, body, parameter) -> None:
    before = inspect.rules()
    response = inspect.add_rule(**body)
    assert response.status_code == 400, response.text
    assert error_code(response) == "CMN-101"
    assert response.json()["errors"][0]["parameterName"] == parameter
    assert inspect.rules() == before


# -- inbound: a handset texts a company number ---------------------------------------------


def test_a_handset_texts_an_extension_and_shares_the_conversation(
    account, client_for, inspect
) -> None:
    bob = client_for(account, "102")
    handset = account.handset(8)
    sent = _sms_to_handset(bob, account, 8, "Can you confirm?")
    response = inspect.text_from(handset, account.ext("102").number, "Yes, confirmed")
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["direction"] == "Outbound"
    assert record["from"] == handset and record["to"] == account.ext("102").number
    assert record["status"] == "Delivered"
    (inbound,) = [m for m in records(bob) if m["id"] == record["messageId"]]
    assert inbound["direction"] == "Inbound"
    assert inbound["messageStatus"] == "Received"
    assert inbound["readStatus"] == "Unread"
    assert inbound["subject"] == "Yes, confirmed"
    assert inbound["from"]["phoneNumber"] == handset
    assert inbound["to"][0]["phoneNumber"] == account.ext("102").number
    assert inbound["conversationId"] == sent["conversationId"]  # R13
    assert record in inspect.handset_records(handset)


def test_r6_a_handset_texting_the_main_number_reaches_the_operator(
    account, client_for, inspect
) -> None:
    operator = client_for(account, account.operator)
    response = inspect.text_from(account.handset(9), account.main_number, "Hello company")
    assert response.status_code == 201, response.text
    (inbound,) = [m for m in records(operator) if m["id"] == response.json()["messageId"]]
    assert inbound["subject"] == "Hello company"
    assert inbound["to"][0]["phoneNumber"] == account.main_number


def test_a_handset_texting_a_departments_number_reaches_its_own_store(
    account, client_for, inspect
) -> None:
    department = client_for(account, "201")
    response = inspect.text_from(account.handset(10), account.ext("201").number, "Support?")
    assert response.status_code == 201, response.text
    (inbound,) = records(department)
    assert inbound["id"] == response.json()["messageId"]
    assert inbound["subject"] == "Support?"
    # The members do not get copies: the department's store is its SMS inbox.
    assert all(m["subject"] != "Support?" for m in records(client_for(account, "102")))


def _give_105_a_number(doc: dict[str, Any]) -> None:
    """The fixture's Frozen 105 has no number: lend it the seed's handset 999 number (which no
    test texts as a handset), with an id of the seed's id range."""
    account = doc["accounts"][0]
    (fay,) = [e for e in account["extensions"] if e["extensionNumber"] == "105"]
    fay["phoneNumbers"] = [
        {
            "id": account["id"] - account["id"] % ID_STRIDE + 33333399,
            "phoneNumber": str(account["mainNumber"])[:-4] + "9999",
            "usageType": "DirectNumber",
        }
    ]


@pytest.mark.parametrize("extension_number", ["104", "105"])
def test_r8_a_handset_texting_an_inactive_extension_is_dropped(
    new_account, client_for, inspect, extension_number
) -> None:
    account = new_account(edit=_give_105_a_number)
    target = account.ext(extension_number).number
    response = inspect.text_from(account.handset(11), target, "anyone?")
    assert response.status_code == 201, response.text
    assert response.json()["messageId"] is None
    assert response.json()["status"] == "Delivered"  # the carrier delivered it; R8 dropped it
    admin = client_for(account, account.operator)
    assert records(admin, account.ext(extension_number).id) == []


def test_bad_handset_texts_are_refused_and_nothing_is_stored(account, client_for, inspect) -> None:
    bob = client_for(account, "102")
    handset = account.handset(12)
    to = account.ext("102").number
    cases = [
        (inspect.text_from(handset, "+19995550123", "hi"), 404, "CMN-102", "to"),
        (inspect.text_from(handset, to, "x" * 1001), 400, "CMN-101", "text"),
        (inspect.text_from(handset, to, "😀" * 501), 400, "CMN-101", "text"),
        (inspect.text_from(handset, to, ""), 400, "CMN-101", "text"),
        (inspect.text_from("12", to, "hi"), 400, "CMN-101", "phoneNumber"),
        (inspect.text_from(account.ext("103").number, to, "hi"), 400, "CMN-101", "phoneNumber"),
        (inspect.post(handset_path(handset), json={"text": "hi"}), 400, "CMN-101", "to"),
        (inspect.post(handset_path(handset), json={"to": to}), 400, "CMN-101", "text"),
    ]
    for response, status, code, parameter in cases:
        assert response.status_code == status, response.text
        assert error_code(response) == code
        assert response.json()["errors"][0]["parameterName"] == parameter
    unparsable = inspect.post(
        handset_path(handset), content=b"{", headers={"Content-Type": "application/json"}
    )
    assert unparsable.status_code == 400 and error_code(unparsable) == "CMN-103"
    assert records(bob) == []
    assert inspect.handset_records(handset) == []
    # A text of exactly 1000 UTF-16 units (500 emoji) is accepted (R3).
    assert inspect.text_from(handset, to, "😀" * 500).status_code == 201


# -- status over time ------------------------------------------------------------------------


def test_with_a_carrier_delay_the_sms_is_queued_then_delivered_and_isync_sees_it(
    server_factory, spec_validator
) -> None:
    from tests.conftest import provision_account
    from tests.support.client import ApiClient

    srv = server_factory(extra_args=["--carrier-delay", "1500"])
    account = provision_account(srv)
    with (
        ApiClient(srv.base_url, validator=spec_validator) as api,
        InspectClient(srv, spec_validator) as inspect,
    ):
        bob = api.login(account, "102")
        fsync = bob.get(f"{EXT}/message-sync", params={"syncType": "FSync"})
        token = fsync.json()["syncInfo"]["syncToken"]
        sent = _sms_to_handset(bob, account, 1, "wait for it")
        assert sent["messageStatus"] == "Queued"  # R11: the carrier has not taken it yet
        inspect.wait_for_handset(account.handset(1))
        copy = bob.get(f"{STORE}/{sent['id']}").json()
        assert copy["messageStatus"] == "Delivered"
        assert copy["lastModifiedTime"] > copy["creationTime"]
        isync = bob.get(f"{EXT}/message-sync", params={"syncType": "ISync", "syncToken": token})
        assert isync.status_code == 200, isync.text
        (changed,) = [r for r in isync.json()["records"] if r["id"] == sent["id"]]
        assert changed["messageStatus"] == "Delivered"
        assert changed["lastModifiedTime"] == copy["lastModifiedTime"]
        bob.close()


def test_a_handset_texting_a_take_messages_only_box_reaches_it(
    account, client_for, inspect
) -> None:
    response = inspect.text_from(account.handset(13), account.ext("301").number, "call me")
    assert response.status_code == 201, response.text
    admin = client_for(account, account.operator)
    (inbound,) = records(admin, account.ext("301").id)
    assert inbound["id"] == response.json()["messageId"]


def test_queued_sms_survive_a_restart_and_are_delivered_after_it(
    server_factory, spec_validator
) -> None:
    from tests.conftest import provision_account
    from tests.support.client import ApiClient

    srv = server_factory(extra_args=["--carrier-delay", "4000"])
    account = provision_account(srv)
    with ApiClient(srv.base_url, validator=spec_validator) as api:
        bob = api.login(account, "102")
        sent = _sms_to_handset(bob, account, 1, "across a restart")
        assert sent["messageStatus"] == "Queued"
        bob.close()
    srv.restart()
    with (
        ApiClient(srv.base_url, validator=spec_validator) as api,
        InspectClient(srv, spec_validator) as inspect,
    ):
        (record,) = inspect.wait_for_handset(account.handset(1))
        assert record["messageId"] == sent["id"]
        bob = api.login(account, "102")
        assert bob.get(f"{STORE}/{sent['id']}").json()["messageStatus"] == "Delivered"
        bob.close()
