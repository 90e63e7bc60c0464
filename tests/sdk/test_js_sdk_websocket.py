"""The JS SDK's WebSocket subscriptions (`@ringcentral/subscriptions` 5.x on `@ringcentral/sdk`,
which run `@rc-ex/ws`) against a real ringlet, through the `ws_subscription` flow of
tests/sdk/js/flows.mjs.

What @rc-ex/ws does on the wire (subscriptions-and-status notes): `POST /restapi/oauth/wstoken`,
reused for 0.8 x expires_in; `${uri}?access_token=...`, plus `&wsc=<token>` when it recovers;
the wsc of the frame with the highest sequence kept; subscribing with a ClientRequest matched
by messageId; notifications dispatched only when their subscriptionId is its subscription's;
after a dropped connection, a reconnect every 2-8 s with `wsc`, re-subscribing only if the
recovery failed. Every frame it received is validated here: subscription answers against
SubscriptionInfo, notifications against RingCentral's notification shapes.
"""

from __future__ import annotations

import json
from typing import Any

from tests.sdk.test_js_sdk import app, password_login, run_flow
from tests.support.fixtures import ProvisionedAccount
from tests.support.notification_schemas import validate_notification
from tests.support.openapi import SpecValidator
from tests.support.server import RingletServer

WSTOKEN = "/restapi/oauth/wstoken"


def _config(server: RingletServer, account: ProvisionedAccount) -> dict[str, Any]:
    return {
        **app(server, account),
        "login": password_login(account, "102"),
        "senderLogin": password_login(account, "101"),
        "senderNumber": account.ext("101").sms_numbers[0],
        "subscriberNumber": account.ext("102").sms_numbers[0],
        "subscriberId": str(account.ext("102").id),
        # Headers of the /_ringlet/ inspection endpoints (the gateway's controls).
        "adminHeaders": server.admin_headers(),
    }


def test_js_sdk_subscribes_receives_recovers_and_unsubscribes(
    server: RingletServer, account: ProvisionedAccount, spec_validator: SpecValidator
) -> None:
    run = run_flow("ws_subscription", _config(server, account), spec_validator)
    result = run.result
    subscription_id = result["subscriptionId"]

    # Every frame the SDK received has RingCentral's shape.
    frames = [json.loads(text) for text in result["frames"]]
    for meta, *rest in frames:
        assert isinstance(meta["headers"], dict)
        if meta["type"] == "ServerNotification":
            validate_notification(rest[0])
        elif meta["type"] == "ClientRequest" and meta["status"] == 200:
            spec_validator.validate_schema("SubscriptionInfo", rest[0])
    # wsc sequences only grow within the session, ConnectionDetails to notifications.
    sequences = [meta["wsc"]["sequence"] for meta, *_ in frames if "wsc" in meta]
    assert sequences == sorted(sequences)

    notifications = result["notifications"]
    assert {n["subscriptionId"] for n in notifications} == {subscription_id}
    pager = notifications[0]  # the first event of the flow
    assert pager["event"].endswith("/message-store")
    assert pager["body"]["changes"][0]["type"] == "Pager"
    (sms,) = [n for n in notifications if n["event"].endswith("/message-store/instant?type=SMS")]
    assert sms["body"]["subject"] == "sms over ws"
    assert sms["body"]["direction"] == "Inbound"
    store_changes = [n["body"]["changes"][0]["type"] for n in notifications if n is not sms]
    assert store_changes == ["Pager", "SMS", "Pager"]  # the SMS also changed the store

    # The drop, and the SDK's recovery with wsc: the same session and subscription, and the
    # notification sent while it was down delivered from the recovery buffer.
    assert result["dropStatus"] == 204
    assert result["recoveries"][0] == "Successful"
    recovered = result["afterRecovery"]
    assert recovered["recoveryState"] == "Successful"
    assert recovered["subscriptionId"] == subscription_id
    (missed,) = recovered["missed"]
    assert missed["event"].endswith("/message-store")
    assert missed["body"]["changes"][0]["type"] == "Pager"
    (session,) = result["sessionsAfter"]
    assert session["id"] == result["sessionBefore"]["id"]
    assert session["connected"] is True

    # Unsubscribed: nothing left.
    assert result["remaining"] == []
    # The token step went over HTTP, and one token served the first connection and the
    # recovery (the SDK reuses it for 0.8 x expires_in).
    tokens = run.to(WSTOKEN)
    assert tokens and all(t["status"] == 200 for t in tokens)
