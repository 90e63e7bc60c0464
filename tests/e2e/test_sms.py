"""SMS end to end: R1-R8, R11, R13, R14 through the HTTP API on a real server."""

from __future__ import annotations

import re

import pytest

from tests.e2e.messaging import EXT, error_code, records, send_sms
from tests.support.fixtures import ProvisionedAccount

pytestmark = pytest.mark.usefixtures("server")


def test_r1_r11_sms_between_extensions_creates_both_copies(account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    sender, recipient = account.ext("101"), account.ext("102")
    response = send_sms(olivia, sender.number, recipient.number, "Hello Bob")
    assert response.status_code == 200, response.text
    sent = response.json()
    assert sent["type"] == "SMS"
    assert sent["direction"] == "Outbound"
    assert sent["messageStatus"] == "Sent"
    assert sent["from"]["phoneNumber"] == sender.number
    assert [t["phoneNumber"] for t in sent["to"]] == [recipient.number]
    assert sent["subject"] == "Hello Bob"
    assert sent["availability"] == "Alive"
    assert sent["priority"] == "Normal"
    assert sent["uri"].endswith(
        f"/restapi/v1.0/account/{account.id}/extension/{sender.id}/message-store/{sent['id']}"
    )
    assert sent["attachments"] == [
        {"id": 1, "uri": sent["uri"] + "/content/1", "type": "Text", "contentType": "text/plain"}
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", sent["creationTime"])
    assert sent["lastModifiedTime"] == sent["creationTime"]

    (inbound,) = records(bob)
    assert inbound["id"] != sent["id"]
    assert inbound["direction"] == "Inbound"
    assert inbound["messageStatus"] == "Received"
    assert inbound["readStatus"] == "Unread"
    assert inbound["subject"] == "Hello Bob"
    assert inbound["conversationId"] == sent["conversationId"]
    assert f"/extension/{recipient.id}/message-store/{inbound['id']}" in inbound["uri"]
    content = bob.get(f"{EXT}/message-store/{inbound['id']}/content/1")
    assert content.status_code == 200
    assert content.text == "Hello Bob"
    assert content.headers["content-type"].startswith("text/plain")
    (outbound,) = records(olivia)
    assert outbound["id"] == sent["id"]


def test_r4_sms_to_a_handset_keeps_only_the_senders_copy(account, client_for) -> None:
    bob = client_for(account, "102")
    response = send_sms(bob, account.ext("102").number, account.handset(1), "to a mobile")
    assert response.status_code == 200, response.text
    assert response.json()["messageStatus"] == "Sent"
    assert [m["id"] for m in records(bob)] == [response.json()["id"]]


def test_r4_sms_recipient_that_is_an_extension_number_is_refused(account, client_for) -> None:
    bob = client_for(account, "102")
    response = send_sms(bob, account.ext("102").number, "103", "hi")
    assert response.status_code == 400
    assert error_code(response) == "MSG-246"
    assert records(bob) == []


def test_r4_group_sms_is_refused(account, client_for) -> None:
    bob = client_for(account, "102")
    response = bob.post(
        f"{EXT}/sms",
        json={
            "from": {"phoneNumber": account.ext("102").number},
            "to": [{"phoneNumber": account.handset(1)}, {"phoneNumber": account.handset(2)}],
            "text": "group",
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameterName"] == "to"
    assert records(bob) == []


def test_r5_sending_from_another_extensions_number_is_refused(account, client_for) -> None:
    bob = client_for(account, "102")
    response = send_sms(bob, account.ext("101").number, account.handset(), "spoof")
    assert response.status_code == 403
    assert error_code(response) == "MSG-304"
    assert records(bob) == []


def test_r5_number_without_sms_sender_feature_is_refused(account, client_for) -> None:
    carol = client_for(account, "103")
    response = send_sms(carol, account.ext("103").number, account.handset(), "no sms")
    assert response.status_code == 403
    assert error_code(response) == "MSG-242"
    assert records(carol) == []


def test_r5_phone_number_list_marks_sms_senders(account, client_for) -> None:
    carol = client_for(account, "103")
    listed = carol.get(f"{EXT}/phone-number").json()["records"]
    assert [(r["phoneNumber"], "SmsSender" in r["features"]) for r in listed] == [
        (account.ext("103").number, False)
    ]


def test_r6_operator_sends_and_receives_on_the_main_number(account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    listed = olivia.get(f"{EXT}/phone-number").json()["records"]
    main = [r for r in listed if r["phoneNumber"] == account.main_number]
    assert main and main[0]["usageType"] == "MainCompanyNumber"
    assert "SmsSender" in main[0]["features"]
    sent = send_sms(olivia, account.main_number, account.handset(), "from the company")
    assert sent.status_code == 200, sent.text

    reply = send_sms(bob, account.ext("102").number, account.main_number, "to the company")
    assert reply.status_code == 200, reply.text
    inbound = [m for m in records(olivia) if m["direction"] == "Inbound"]
    assert [m["subject"] for m in inbound] == ["to the company"]


def test_r6_nobody_else_may_send_from_the_main_number(account, client_for) -> None:
    bob = client_for(account, "102")
    listed = bob.get(f"{EXT}/phone-number").json()["records"]
    assert account.main_number not in [r["phoneNumber"] for r in listed]
    response = send_sms(bob, account.main_number, account.handset(), "not mine")
    assert response.status_code == 403
    assert error_code(response) == "MSG-304"


def test_r7_department_sends_sms_from_its_own_number(account, client_for) -> None:
    queue = client_for(account, "201")
    listed = queue.get(f"{EXT}/phone-number").json()["records"]
    assert [("SmsSender" in r["features"]) for r in listed] == [True]
    response = send_sms(queue, account.ext("201").number, account.handset(), "queue here")
    assert response.status_code == 200, response.text


def test_r8_sms_to_a_disabled_extension_is_dropped(account, client_for) -> None:
    olivia = client_for(account, "101")  # an admin: may read 104's store
    response = send_sms(olivia, account.ext("101").number, account.ext("104").number, "hello?")
    assert response.status_code == 200, response.text
    assert records(olivia, account.ext("104").id) == []
    assert [m["id"] for m in records(olivia)] == [response.json()["id"]]


def test_r8_sms_to_an_extension_frozen_later_is_dropped(account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    frozen = olivia.put(
        f"/restapi/v1.0/account/~/extension/{account.ext('103').id}", json={"status": "Frozen"}
    )
    assert frozen.status_code == 200, frozen.text
    response = send_sms(bob, account.ext("102").number, account.ext("103").number, "hello?")
    assert response.status_code == 200, response.text
    assert records(olivia, account.ext("103").id) == []


def test_r2_sms_reaches_a_voicemail_box_but_not_a_department(account, client_for) -> None:
    olivia = client_for(account, "101")
    to_box = send_sms(olivia, account.ext("101").number, account.ext("301").number, "box")
    to_queue = send_sms(olivia, account.ext("101").number, account.ext("201").number, "queue")
    assert to_box.status_code == to_queue.status_code == 200
    assert [m["subject"] for m in records(olivia, account.ext("301").id)] == ["box"]
    assert records(olivia, account.ext("201").id) == []


@pytest.mark.parametrize(
    ("text", "ok"),
    [("x" * 1000, True), ("x" * 1001, False), ("😀" * 500, True), ("😀" * 500 + "x", False)],
    ids=["1000-units", "1001-units", "500-emoji", "500-emoji-plus-1"],
)
def test_r3_sms_length_in_utf16_units(account, client_for, text: str, ok: bool) -> None:
    bob = client_for(account, "102")
    response = send_sms(bob, account.ext("102").number, account.handset(), text)
    if ok:
        assert response.status_code == 200, response.text
        assert response.json()["subject"] == text
    else:
        assert response.status_code == 400
        assert error_code(response) == "CMN-101"
        assert response.json()["errors"][0]["parameterName"] == "text"
        assert records(bob) == []


def test_r13_both_directions_share_one_conversation(account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    a, b = account.ext("101").number, account.ext("102").number
    first = send_sms(olivia, a, b, "ping").json()
    second = send_sms(bob, b, a, "pong").json()
    other = send_sms(olivia, a, account.handset(), "elsewhere").json()
    assert first["conversationId"] == second["conversationId"]
    assert first["conversation"] == {"id": str(first["conversationId"])}
    assert other["conversationId"] != first["conversationId"]
    assert {m["conversationId"] for m in records(bob)} == {first["conversationId"]}


def test_r14_nobody_sends_as_another_extension(account, client_for) -> None:
    olivia = client_for(account, "101")  # an admin, still not allowed to send as Bob
    response = olivia.post(
        f"/restapi/v1.0/account/~/extension/{account.ext('102').id}/sms",
        json={
            "from": {"phoneNumber": account.ext("102").number},
            "to": [{"phoneNumber": account.handset()}],
            "text": "as bob",
        },
    )
    assert response.status_code == 403
    assert error_code(response) == "CMN-404"


def test_r14_another_account_is_not_found(account, new_account, client_for) -> None:
    other: ProvisionedAccount = new_account()
    olivia = client_for(account, "101")
    response = olivia.post(
        f"/restapi/v1.0/account/{other.id}/extension/{other.ext('101').id}/sms",
        json={
            "from": {"phoneNumber": other.ext("101").number},
            "to": [{"phoneNumber": account.handset()}],
            "text": "cross",
        },
    )
    assert response.status_code == 404
    assert error_code(response) == "CMN-102"


def test_sms_between_accounts_is_delivered(account, new_account, client_for) -> None:
    """R4: a number that an extension on this server owns, in whatever account."""
    other = new_account()
    olivia, their_bob = client_for(account, "101"), client_for(other, "102")
    response = send_sms(olivia, account.ext("101").number, other.ext("102").number, "hi there")
    assert response.status_code == 200, response.text
    assert [m["subject"] for m in records(their_bob)] == ["hi there"]
