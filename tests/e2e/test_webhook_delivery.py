"""WebHook delivery (facts 13.2, 13.3): what a receiver written as RingCentral's docs show
gets for each change of a message store or the directory, with RingCentral's headers and
shapes; R12 and R14 at delivery; expiry ending delivery."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.conftest import ClientFor
from tests.e2e.messaging import send_pager, send_sms
from tests.e2e.notifications import MY_STORE, SUBSCRIPTION, bodies, subscribe
from tests.support.fixtures import ProvisionedAccount
from tests.support.webhook_receiver import WebHookReceiver


@pytest.fixture
def receiver() -> Iterator[WebHookReceiver]:
    r = WebHookReceiver().start()
    yield r
    r.stop()


def test_a_pager_reaches_the_recipients_store_subscription(
    account: ProvisionedAccount, client_for: ClientFor, receiver: WebHookReceiver
) -> None:
    recipient = client_for(account, "103")
    info = subscribe(recipient, receiver, [MY_STORE], verificationToken="secret-1")
    sender = client_for(account, "102")
    sent = send_pager(sender, ["103"], "lunch?")
    assert sent.status_code == 200
    [got] = receiver.wait_for(1)
    [note] = bodies([got])
    ext = account.ext("103")
    assert note["subscriptionId"] == info["id"]
    assert note["ownerId"] == str(ext.id)
    assert note["event"] == info["eventFilters"][0]
    body = note["body"]
    assert body["accountId"] == account.id and body["extensionId"] == ext.id
    [change] = body["changes"]
    assert change["type"] == "Pager" and change["newCount"] == 1 and change["updatedCount"] == 0
    # The id is the recipient's own copy: it reads it.
    [new_id] = change["newMessageIds"]
    read = recipient.get(f"{MY_STORE}/{new_id}")
    assert read.status_code == 200 and read.json()["subject"] == "lunch?"
    # RingCentral's headers.
    assert got.headers["content-type"] == "application/json; charset=UTF-8"
    assert got.headers["user-agent"] == "RingCentral-Webhook/8.3"
    assert got.headers["accept"] == "application/json"
    assert got.headers["verification-token"] == "secret-1"


def test_inbound_sms_instant_carries_the_message(
    account: ProvisionedAccount, client_for: ClientFor, receiver: WebHookReceiver
) -> None:
    recipient = client_for(account, "103")
    info = subscribe(recipient, receiver, [MY_STORE + "/instant?type=SMS"])
    sender = client_for(account, "102")
    ext102, ext103 = account.ext("102"), account.ext("103")
    assert send_sms(sender, ext102.sms_numbers[0], ext103.number, "hi by SMS").status_code == 200
    [note] = bodies(receiver.wait_for(1))
    assert note["event"] == (
        f"/restapi/v1.0/account/{account.id}/extension/{ext103.id}/message-store/instant?type=SMS"
    )
    assert note["subscriptionId"] == info["id"]
    message = note["body"]
    assert message["subject"] == "hi by SMS"
    assert message["direction"] == "Inbound" and message["type"] == "SMS"
    assert message["from"]["phoneNumber"] == ext102.sms_numbers[0]
    assert message["to"][0]["phoneNumber"] == ext103.number
    assert message["owner"]["extensionId"] == str(ext103.id)
    stored = recipient.get(f"{MY_STORE}/{message['id']}").json()
    assert str(stored["conversationId"]) == message["conversationId"]


def test_every_change_of_a_store_is_notified(
    account: ProvisionedAccount, client_for: ClientFor, receiver: WebHookReceiver
) -> None:
    owner = client_for(account, "103")
    subscribe(owner, receiver, [MY_STORE])
    sender = client_for(account, "102")
    send_pager(sender, ["103"], "one")
    [first] = bodies(receiver.wait_for(1))
    [message_id] = first["body"]["changes"][0]["newMessageIds"]
    assert owner.put(f"{MY_STORE}/{message_id}", json={"readStatus": "Read"}).status_code == 200
    assert owner.delete(f"{MY_STORE}/{message_id}").status_code == 204
    assert owner.delete(f"{MY_STORE}/{message_id}", params={"purge": "true"}).status_code == 204
    # Three changes; a delivery a little behind brings several in one notification.
    deadline = time.monotonic() + 15
    while True:
        later = [n["body"]["changes"] for n in bodies(receiver.quiet_for(0.1))[1:]]
        updated = sum(change["updatedCount"] for changes in later for change in changes)
        if updated >= 3 or time.monotonic() > deadline:
            break
    assert updated == 3
    for changes in later:
        [change] = changes
        assert change["type"] == "Pager" and change["newCount"] == 0
        assert "newMessageIds" not in change


def test_type_and_direction_filters(
    account: ProvisionedAccount, client_for: ClientFor, receiver: WebHookReceiver
) -> None:
    owner = client_for(account, "102")
    subscribe(owner, receiver, [MY_STORE + "?type=SMS&direction=Outbound"])
    send_pager(owner, ["103"], "not an SMS")
    ext102, ext103 = account.ext("102"), account.ext("103")
    send_sms(owner, ext102.sms_numbers[0], ext103.number, "an SMS")
    [note] = bodies(receiver.wait_for(1))
    assert [c["type"] for c in note["body"]["changes"]] == ["SMS"]
    assert receiver.quiet_for(0.5) == receiver.notifications[:1]


def test_a_subscribers_own_sends_and_other_stores(
    account: ProvisionedAccount, client_for: ClientFor, receiver: WebHookReceiver
) -> None:
    """A non-admin's filter on another store is disabled: nothing of that store reaches it;
    an admin's subscription to another store gets its changes (R14)."""
    user = client_for(account, "102")
    ext103 = account.ext("103")
    other_store = f"/restapi/v1.0/account/~/extension/{ext103.id}/message-store"
    refused = subscribe(user, receiver, [MY_STORE, other_store])
    assert len(refused["disabledFilters"]) == 1
    admin_receiver = WebHookReceiver().start()
    try:
        admin = client_for(account, "101")
        subscribe(admin, admin_receiver, [other_store])
        send_pager(client_for(account, "101"), ["103"], "to 103")
        [note] = bodies(admin_receiver.wait_for(1))
        assert note["body"]["extensionId"] == ext103.id
    finally:
        admin_receiver.stop()
    # 102's receiver got nothing of 103's store.
    assert all(n.body["body"]["extensionId"] != ext103.id for n in receiver.quiet_for(0.3))


def test_directory_filters(
    account: ProvisionedAccount, client_for: ClientFor, receiver: WebHookReceiver
) -> None:
    admin = client_for(account, "101")
    ext102 = account.ext("102")
    info = subscribe(
        admin,
        receiver,
        [f"/restapi/v1.0/account/~/extension/{ext102.id}", "/restapi/v1.0/account/~/extension"],
    )
    assert info["eventFilters"] == [
        f"/restapi/v1.0/account/{account.id}/extension/{ext102.id}",
        f"/restapi/v1.0/account/{account.id}/extension",
    ]
    changed = admin.put(
        f"/restapi/v1.0/account/~/extension/{ext102.id}", json={"status": "Disabled"}
    )
    assert changed.status_code == 200, changed.text
    notes = bodies(receiver.wait_for(2))
    by_event = {n["event"]: n["body"] for n in notes}
    assert by_event[info["eventFilters"][0]] == {
        "extensionId": str(ext102.id),
        "eventType": "Update",
        "hints": ["ExtensionStatus"],
    }
    assert by_event[info["eventFilters"][1]] == {
        "extensions": [{"extensionId": str(ext102.id), "eventType": "Update"}]
    }


def test_after_delete_nothing_more_is_delivered(
    account: ProvisionedAccount, client_for: ClientFor, receiver: WebHookReceiver
) -> None:
    owner = client_for(account, "103")
    info = subscribe(owner, receiver, [MY_STORE])
    sender = client_for(account, "102")
    send_pager(sender, ["103"], "before")
    receiver.wait_for(1)
    assert owner.delete(f"{SUBSCRIPTION}/{info['id']}").status_code == 204
    send_pager(sender, ["103"], "after")
    assert len(receiver.quiet_for(0.5)) == 1
