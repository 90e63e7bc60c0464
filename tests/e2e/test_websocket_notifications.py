"""WebSocket delivery end to end (facts 13.4, 13.3): subscriptions made over a session, their
notifications as ServerNotification frames, session recovery with `wsc` replaying what was
missed, and the end of a session taking its subscription with it. Every notification is
validated against RingCentral's shapes (tests/support/notification_schemas.py)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.conftest import provision_account
from tests.e2e.messaging import EXT, records, send_pager, send_sms
from tests.support.client import ApiClient
from tests.support.notification_schemas import validate_notification
from tests.support.server import RingletServer
from tests.support.ws import WsClient

pytestmark = pytest.mark.usefixtures("server")

SUBSCRIPTION = "/restapi/v1.0/subscription"
MY_STORE = "/restapi/v1.0/account/~/extension/~/message-store"
MY_INSTANT_SMS = f"{MY_STORE}/instant?type=SMS"
SESSIONS = "/_ringlet/websocket/sessions"


def subscribe(ws: WsClient, filters: list[str], path: str = SUBSCRIPTION + "/") -> dict[str, Any]:
    """As the Python SDK does it (trailing slash); the reply must carry WSG-SubscriptionId."""
    meta, info = ws.request(
        "POST", path, {"eventFilters": filters, "deliveryMode": {"transportType": "WebSocket"}}
    )
    assert meta["status"] == 200, info
    assert meta["headers"]["WSG-SubscriptionId"] == info["id"]
    assert info["deliveryMode"]["transportType"] == "WebSocket"
    return info


def notification(ws: WsClient, subscription_id: str) -> dict[str, Any]:
    meta, envelope = ws.next_notification()
    assert meta["type"] == "ServerNotification"
    assert meta["status"] == 200
    assert "RCRequestId" in meta["headers"]
    assert meta["wsc"]["sequence"] > 1
    assert envelope["subscriptionId"] == subscription_id
    validate_notification(envelope)
    return envelope  # type: ignore[no-any-return]


def _session(srv: RingletServer, extension_id: int) -> dict[str, Any]:
    response = httpx.get(
        f"{srv.base_url}{SESSIONS}",
        headers=srv.admin_headers(),
        params={"extensionId": str(extension_id)},
    )
    assert response.status_code == 200, response.text
    (found,) = response.json()["records"]
    return found  # type: ignore[no-any-return]


def _wait_for(condition: Any, attempts: int = 150) -> None:
    for _ in range(attempts):
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_a_pager_message_arrives_as_a_server_notification(account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    bob_id = account.ext("102").id
    with WsClient.open(bob) as ws:
        info = subscribe(ws, [MY_STORE])
        assert info["eventFilters"] == [
            f"/restapi/v1.0/account/{account.id}/extension/{bob_id}/message-store"
        ]
        sent = send_pager(olivia, ["102"], "over the socket")
        assert sent.status_code == 200, sent.text
        envelope = notification(ws, info["id"])
    assert envelope["ownerId"] == str(bob_id)
    assert envelope["event"] == info["eventFilters"][0]
    (change,) = envelope["body"]["changes"]
    assert change["type"] == "Pager"
    assert change["newCount"] == 1
    assert len(change["newMessageIds"]) == 1


def test_an_inbound_sms_arrives_on_the_instant_filter(account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    olivia_number = account.ext("101").sms_numbers[0]
    bob_number = account.ext("102").sms_numbers[0]
    with WsClient.open(bob) as ws:
        info = subscribe(ws, [MY_INSTANT_SMS])
        sent = send_sms(olivia, olivia_number, bob_number, "SMS over the socket")
        assert sent.status_code == 200, sent.text
        envelope = notification(ws, info["id"])
    body = envelope["body"]
    assert body["type"] == "SMS"
    assert body["direction"] == "Inbound"
    assert body["subject"] == "SMS over the socket"
    assert body["from"]["phoneNumber"] == olivia_number
    assert body["to"][0]["phoneNumber"] == bob_number


def test_one_subscription_per_session_and_delete_ends_it(server, account, client_for) -> None:
    bob = client_for(account, "102")
    with WsClient.open(bob) as ws:
        first = subscribe(ws, [MY_STORE])
        second = subscribe(ws, [MY_INSTANT_SMS], path=SUBSCRIPTION)
        listed = bob.get(SUBSCRIPTION).json()["records"]
        assert [s["id"] for s in listed] == [second["id"]]  # the new one replaced the old
        assert first["id"] != second["id"]
        assert _session(server, account.ext("102").id)["subscriptionId"] == second["id"]
        meta, info = ws.request(
            "PUT",
            f"{SUBSCRIPTION}/{second['id']}",
            {"eventFilters": [MY_STORE], "deliveryMode": {"transportType": "WebSocket"}},
        )
        assert meta["status"] == 200, info
        assert "WSG-SubscriptionId" not in meta["headers"]  # only a creation carries it
        meta, _ = ws.request("DELETE", f"{SUBSCRIPTION}/{second['id']}")
        assert meta["status"] == 204
        assert bob.get(SUBSCRIPTION).json()["records"] == []
        assert _session(server, account.ext("102").id)["subscriptionId"] is None


def test_a_websocket_subscription_is_not_made_over_http(account, client_for) -> None:
    bob = client_for(account, "102")
    response = bob.post(
        SUBSCRIPTION,
        json={"eventFilters": [MY_STORE], "deliveryMode": {"transportType": "WebSocket"}},
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["parameterName"] == "deliveryMode.transportType"
    assert bob.get(SUBSCRIPTION).json()["records"] == []


def test_recovery_with_wsc_replays_what_was_missed(server, account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    bob_id = account.ext("102").id
    ws = WsClient.open(bob)
    info = subscribe(ws, [MY_STORE])
    send_pager(olivia, ["102"], "before the drop")
    notification(ws, info["id"])
    assert ws.wsc is not None
    wsc = ws.wsc["token"]
    session = _session(server, bob_id)
    assert (
        httpx.post(
            f"{server.base_url}{SESSIONS}/{session['id']}/drop", headers=server.admin_headers()
        ).status_code
        == 204
    )
    assert ws.closed_with() == []
    for text in ("missed one", "missed two"):
        assert send_pager(olivia, ["102"], text).status_code == 200
    _wait_for(lambda: _session(server, bob_id)["buffered"] >= 3)
    with WsClient.open(bob, wsc=wsc) as again:
        details = again.details[1]
        assert details["recoveryState"] == "Successful"
        assert "recoveryErrorCode" not in details
        missed = [notification(again, info["id"]), notification(again, info["id"])]
        # Still the same subscription, still delivering.
        send_pager(olivia, ["102"], "after the recovery")
        after = notification(again, info["id"])
        assert _session(server, bob_id)["id"] == session["id"]
    assert len({m["uuid"] for m in missed}) == 2
    assert after["uuid"] not in {m["uuid"] for m in missed}


def test_replayed_frames_follow_the_connection_details(server, account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    bob_id = account.ext("102").id
    ws = WsClient.open(bob)
    info = subscribe(ws, [MY_STORE])
    assert ws.wsc is not None
    wsc = ws.wsc["token"]
    ws.close()
    _wait_for(lambda: not _session(server, bob_id)["connected"])
    assert send_pager(olivia, ["102"], "while away").status_code == 200
    _wait_for(lambda: _session(server, bob_id)["buffered"] == 1)
    with WsClient.open(bob, wsc=wsc) as again:
        details_sequence = again.details[0]["wsc"]["sequence"]
        replayed = again.next_notification()
    assert replayed[0]["wsc"]["sequence"] > details_sequence
    assert replayed[1]["subscriptionId"] == info["id"]


def test_the_buffer_keeps_the_latest_notifications(server_factory) -> None:
    srv = server_factory(extra_args=["--ws-recovery-buffer-size", "2"])
    account = provision_account(srv)
    with (
        ApiClient(srv.base_url) as api,
        api.login(account, "101") as olivia,
        api.login(account, "102") as bob,
    ):
        ws = WsClient.open(bob)
        assert ws.details[1]["recoveryBufferSize"] == 2
        info = subscribe(ws, [MY_STORE])
        assert ws.wsc is not None
        wsc = ws.wsc["token"]
        ws.close()
        bob_id = account.ext("102").id
        _wait_for(lambda: not _session(srv, bob_id)["connected"])
        for n in range(3):
            response = send_pager(olivia, ["102"], f"pager {n}")
            assert response.status_code == 200
            _wait_for(lambda n=n: _session(srv, bob_id)["sequence"] >= 2 + n)
        with WsClient.open(bob, wsc=wsc) as again:
            assert again.details[1]["recoveryState"] == "Successful"
            replayed = [notification(again, info["id"]) for _ in range(2)]
            again.heartbeat()
            assert again.notifications == []
        copies = {r["subject"]: r["id"] for r in records(bob)}
    # The oldest fell out of the buffer: the replay is the newest two, in order.
    assert [r["body"]["changes"][0]["newMessageIds"] for r in replayed] == [
        [copies["pager 1"]],
        [copies["pager 2"]],
    ]


def test_a_session_over_for_good_takes_its_subscription(server_factory) -> None:
    srv = server_factory(extra_args=["--ws-recovery-timeout", "1"])
    account = provision_account(srv)
    with ApiClient(srv.base_url) as api, api.login(account, "102") as bob:
        ws = WsClient.open(bob)
        subscribe(ws, [MY_STORE])
        assert len(bob.get(SUBSCRIPTION).json()["records"]) == 1
        ws.close()
        _wait_for(lambda: bob.get(SUBSCRIPTION).json()["records"] == [])


def test_notifications_are_only_the_subscribers(account, client_for) -> None:
    """Carol's session hears nothing of Bob's store: her first notification is her own."""
    olivia, carol = client_for(account, "101"), client_for(account, "103")
    with WsClient.open(carol) as ws:
        info = subscribe(ws, [MY_STORE])
        assert send_pager(olivia, ["102"], "for Bob only").status_code == 200
        assert send_pager(olivia, ["103"], "for Carol").status_code == 200
        envelope = notification(ws, info["id"])
        meta, page = ws.request("GET", f"{EXT}/message-store")
    assert meta["status"] == 200
    (mine,) = page["records"]
    assert envelope["body"]["changes"][0]["newMessageIds"] == [mine["id"]]
