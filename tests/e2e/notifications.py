"""Helpers for the notification tests: subscribing a WebHook receiver and checking what it
got against RingCentral's shapes."""

from __future__ import annotations

import time
from typing import Any

from tests.support.client import ApiClient
from tests.support.notification_schemas import validate_notification
from tests.support.webhook_receiver import Received, WebHookReceiver

SUBSCRIPTION = "/restapi/v1.0/subscription"
MY_STORE = "/restapi/v1.0/account/~/extension/~/message-store"


def subscribe(
    client: ApiClient,
    receiver: WebHookReceiver,
    filters: list[str],
    **delivery: Any,
) -> dict[str, Any]:
    response = client.post(
        SUBSCRIPTION,
        json={
            "eventFilters": filters,
            "deliveryMode": {"transportType": "WebHook", "address": receiver.url, **delivery},
        },
    )
    assert response.status_code == 200, response.text
    info: dict[str, Any] = response.json()
    return info


def bodies(received: list[Received]) -> list[Any]:
    """The notifications' envelopes, each validated first."""
    for r in received:
        validate_notification(r.body)
    return [r.body for r in received]


def pager_ids(received: list[Received]) -> list[int]:
    """The new message ids the notifications announce, in order of arrival."""
    return [
        i
        for note in bodies(received)
        for change in note["body"]["changes"]
        for i in change.get("newMessageIds", [])
    ]


def wait_for_messages(receiver: WebHookReceiver, count: int, timeout: float = 15.0) -> list[int]:
    """The new message ids announced, once there are `count` of them: a subscriber that is
    behind gets the changes pending for it in one notification, so the number of POSTs is not
    the number of messages."""
    deadline = time.monotonic() + timeout
    while True:
        ids = pager_ids(receiver.quiet_for(0.05))
        if len(ids) >= count:
            return ids
        assert time.monotonic() < deadline, f"expected {count} new messages, got {ids}"
