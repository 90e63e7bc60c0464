"""The Python SDK's WebSocket subscription (`ringcentral` 0.9.x, `SDK.create_web_socket_client()`)
against a real ringlet, changed in nothing but the server URL.

What the SDK does on the wire (subscriptions-and-status notes): `POST /restapi/oauth/wstoken`,
`websockets.connect(f"{uri}?access_token=...")`, the first frame taken as connection details;
subscribing with POST `/restapi/v1.0/subscription/` (trailing slash), the answer recognised only
by its `WSG-SubscriptionId` header; DELETE to unsubscribe. Its `recover_connection()` sends no
`wsc`: a reconnect is a new session, where the app subscribes again.

Every ServerNotification is validated against RingCentral's notification shapes, every
subscription answer against SubscriptionInfo.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Callable
from typing import Any, Final

import httpx
import pytest
from ringcentral import SDK
from ringcentral.websocket.events import WebSocketEvents
from ringcentral.websocket.web_socket_client import WebSocketClient

from tests.e2e.messaging import send_pager, send_sms
from tests.support.client import ApiClient
from tests.support.fixtures import ProvisionedAccount
from tests.support.notification_schemas import validate_notification
from tests.support.openapi import SpecValidator
from tests.support.server import RingletServer

MY_STORE: Final = "/restapi/v1.0/account/~/extension/~/message-store"
MY_INSTANT_SMS: Final = f"{MY_STORE}/instant?type=SMS"
SUBSCRIPTION: Final = "/restapi/v1.0/subscription"
WAIT: Final = 20.0


class SdkSession:
    """One app's WebSocket client: what it received, as the SDK's events report it."""

    def __init__(self, client: WebSocketClient, validator: SpecValidator) -> None:
        self.client = client
        self.validator = validator
        self.notifications: list[dict[str, Any]] = []
        self.subscription: Any = None
        self._changed = asyncio.Event()
        self.connection: asyncio.Task[Any] | None = None
        client.on(WebSocketEvents.connectionCreated, lambda _client: self._changed.set())
        client.on(WebSocketEvents.receiveMessage, self._on_message)
        client.on(WebSocketEvents.subscriptionCreated, self._on_subscription)
        client.on(WebSocketEvents.receiveSubscriptionNotification, self._on_notification)

    def _on_message(self, message: str) -> None:
        meta, *rest = json.loads(message)
        assert isinstance(meta["headers"], dict)
        if meta["type"] == "ClientRequest" and meta["status"] == 200 and rest:
            self.validator.validate_schema("SubscriptionInfo", rest[0])
        self._changed.set()

    def _on_subscription(self, subscription: Any) -> None:
        self.subscription = subscription
        self._changed.set()

    def _on_notification(self, frame: list[Any]) -> None:
        _meta, envelope = frame
        validate_notification(envelope)
        # Each subscription object the SDK made reports every notification: keep one of each.
        if all(n["uuid"] != envelope["uuid"] for n in self.notifications):
            self.notifications.append(envelope)
        self._changed.set()

    @property
    def subscription_id(self) -> str:
        return str(self.subscription.get_subscription_info()[1]["id"])

    async def until(self, condition: Callable[[], bool]) -> None:
        async def wait() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), WAIT)

    async def connect(self, *, recover: bool = False) -> None:
        start = self.client.recover_connection if recover else self.client.create_new_connection
        self.connection = asyncio.create_task(start())
        await self.until(lambda: self.client._is_ready)

    async def subscribe(self, filters: list[str]) -> str:
        previous = self.subscription.get_subscription_info() if self.subscription else None
        await self.client.create_subscription(filters)
        await self.until(
            lambda: (
                self.subscription is not None
                and self.subscription.get_subscription_info() is not previous
            )
        )
        return self.subscription_id

    async def notification(self, event_suffix: str, seen: int) -> dict[str, Any]:
        def arrived() -> bool:
            return any(n["event"].endswith(event_suffix) for n in self.notifications[seen:])

        await self.until(arrived)
        return next(n for n in self.notifications[seen:] if n["event"].endswith(event_suffix))

    async def close(self) -> None:
        if self.client._web_socket is not None:
            await self.client.close_connection()
        if self.connection is not None:
            self.connection.cancel()
            await asyncio.gather(self.connection, return_exceptions=True)


def _sdk_session(
    server: RingletServer, account: ProvisionedAccount, validator: SpecValidator
) -> SdkSession:
    sdk = SDK(account.client_id, account.client_secret, server.base_url)
    with warnings.catch_warnings():  # the SDK recommends JWT; the fixture's 102 has a password
        warnings.filterwarnings("ignore", message="username-password login", category=UserWarning)
        sdk.platform().login(
            username=account.main_number, extension="102", password=account.password("102")
        )
    return SdkSession(sdk.create_web_socket_client(), validator)


def _subscriptions(bob: ApiClient) -> list[str]:
    return [s["id"] for s in bob.get(SUBSCRIPTION).json()["records"]]


async def _eventually(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if await asyncio.to_thread(condition):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_python_sdk_subscribes_receives_and_unsubscribes(
    server, account, client_for, spec_validator
) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    olivia_number, bob_number = account.ext("101").sms_numbers[0], account.ext("102").sms_numbers[0]

    async def flow() -> None:
        app = _sdk_session(server, account, spec_validator)
        await app.connect()
        try:
            subscription_id = await app.subscribe([MY_STORE, MY_INSTANT_SMS])
            assert _subscriptions(bob) == [subscription_id]
            sent = await asyncio.to_thread(send_pager, olivia, ["102"], "to the SDK")
            assert sent.status_code == 200, sent.text
            pager = await app.notification("/message-store", 0)
            assert pager["subscriptionId"] == subscription_id
            assert pager["body"]["changes"][0]["type"] == "Pager"
            seen = len(app.notifications)
            sms = await asyncio.to_thread(send_sms, olivia, olivia_number, bob_number, "SMS!")
            assert sms.status_code == 200, sms.text
            instant = await app.notification("/message-store/instant?type=SMS", seen)
            assert instant["body"]["subject"] == "SMS!"
            assert instant["body"]["direction"] == "Inbound"
            await app.client.remove_subscription(app.subscription)
            await _eventually(lambda: _subscriptions(bob) == [])
        finally:
            await app.close()

    asyncio.run(flow())


def test_python_sdk_reconnects_into_a_new_session_and_subscribes_again(
    server, account, client_for, spec_validator
) -> None:
    olivia = client_for(account, "101")
    bob_id = account.ext("102").id

    async def flow() -> None:
        app = _sdk_session(server, account, spec_validator)
        await app.connect()
        try:
            first = await app.subscribe([MY_STORE])
            (session,) = httpx.get(
                f"{server.base_url}/_ringlet/websocket/sessions",
                headers=server.admin_headers(),
                params={"extensionId": str(bob_id)},
            ).json()["records"]
            dropped = httpx.post(
                f"{server.base_url}/_ringlet/websocket/sessions/{session['id']}/drop",
                headers=server.admin_headers(),
            )
            assert dropped.status_code == 204
            assert app.connection is not None
            with pytest.raises(Exception):  # noqa: B017 - the SDK's recv() raises ConnectionClosed
                await asyncio.wait_for(app.connection, WAIT)
            # What the SDK's own recovery does: a new connection (no wsc), then subscribe again.
            app.client._is_ready = False
            await app.connect(recover=True)
            second = await app.subscribe([MY_STORE])
            assert second != first
            seen = len(app.notifications)
            sent = await asyncio.to_thread(send_pager, olivia, ["102"], "again")
            assert sent.status_code == 200, sent.text
            again = await app.notification("/message-store", seen)
            assert again["subscriptionId"] == second
        finally:
            await app.close()

    asyncio.run(flow())
