"""The notification side of the WebSocket seam (notify/websocket_sink.py): a WebSocket
subscription is made only by a request carrying the gateway's ASGI scope key
`ringlet.ws_session`, one per session;
the dispatcher hands its notifications to the sink the gateway registers, for the sessions it
holds; the gateway's `session_ended` removes it. The gateway itself is another room's: here a
thin ASGI wrapper plays it, setting the scope key from a test header that only it reads."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from ringlet.api.app import create_app
from ringlet.bootstrap import Services, build
from ringlet.config import Settings
from tests.e2e.messaging import send_pager
from tests.e2e.notifications import MY_STORE, SUBSCRIPTION, subscribe
from tests.support.client import ApiClient
from tests.support.fixtures import ProvisionedAccount, build_account
from tests.support.inprocess import provision
from tests.support.notification_schemas import validate_notification
from tests.support.openapi import SpecValidator
from tests.support.server import ADMIN_HEADER, free_port, fresh_database
from tests.support.webhook_receiver import WebHookReceiver

SESSION_HEADER = b"x-test-ws-session"
ADMIN_TOKEN = "seam-admin-token"


class RecordingSink:
    """What the gateway registers: holds some sessions, records what it is handed."""

    def __init__(self, sessions: set[str]) -> None:
        self.sessions = sessions
        self.delivered: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Condition()

    def holds_any(self) -> bool:
        return bool(self.sessions)

    def holds(self, ws_session_id: str) -> bool:
        return ws_session_id in self.sessions

    async def deliver(self, ws_session_id: str, envelope: dict[str, Any]) -> None:
        with self._lock:
            self.delivered.append((ws_session_id, envelope))
            self._lock.notify_all()

    def wait_for(self, count: int, timeout: float = 15.0) -> list[tuple[str, dict[str, Any]]]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.delivered) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"expected {count} deliveries, got {self.delivered}"
                self._lock.wait(left)
            return list(self.delivered)


def gateway(app: ASGIApp) -> ASGIApp:
    """Sets the scope key the real gateway sets, from a header no real client is given."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == SESSION_HEADER:
                    scope = {**scope, "ringlet.ws_session": value.decode()}
        await app(scope, receive, send)

    return wrapped


@pytest.fixture
def seam(backend: str, tmp_path: Path) -> Iterator[tuple[str, Services, ProvisionedAccount]]:
    with fresh_database(backend, tmp_path / "db") as url:
        services = build(Settings(database_url=url, admin_token=ADMIN_TOKEN))
        config = uvicorn.Config(
            gateway(create_app(services)), host="127.0.0.1", port=free_port(), log_level="warning"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 20
            while not server.started:
                assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
                time.sleep(0.01)
            base_url = f"http://127.0.0.1:{config.port}"
            account = build_account(6851)
            provision(base_url, account.document, ADMIN_TOKEN)
            yield base_url, services, account
        finally:
            server.should_exit = True
            thread.join(timeout=20)


def _ws_subscribe(client: ApiClient, session: str) -> Any:
    response = client.post(
        SUBSCRIPTION,
        json={"eventFilters": [MY_STORE], "deliveryMode": {"transportType": "WebSocket"}},
        headers={"x-test-ws-session": session},
    )
    return response


def test_websocket_subscriptions_go_to_the_sink(
    seam: tuple[str, Services, ProvisionedAccount], spec_validator: SpecValidator
) -> None:
    base_url, services, account = seam
    sink = RecordingSink({"session-1"})
    services.notify.websocket_sink = sink
    with ApiClient(base_url, validator=spec_validator) as api:
        recipient = api.login(account, "103")
        sender = api.login(account, "102")
        try:
            created = _ws_subscribe(recipient, "session-1")
            assert created.status_code == 200, created.text
            info = created.json()
            assert info["deliveryMode"] == {"transportType": "WebSocket", "encryption": False}
            spec_validator.validate_schema("SubscriptionInfo", info)
            # Over plain HTTP a WebSocket subscription can be neither made nor changed.
            plain = recipient.post(
                SUBSCRIPTION,
                json={"eventFilters": [MY_STORE], "deliveryMode": {"transportType": "WebSocket"}},
            )
            assert plain.status_code == 400
            assert plain.json()["errors"][0]["parameterName"] == "deliveryMode.transportType"
            put = recipient.put(f"{SUBSCRIPTION}/{info['id']}", json={"eventFilters": [MY_STORE]})
            assert put.status_code == 400

            assert send_pager(sender, ["103"], "over the socket").status_code == 200
            [(session, envelope)] = sink.wait_for(1)
            assert session == "session-1"
            validate_notification(envelope)
            assert envelope["subscriptionId"] == info["id"]
            assert envelope["body"]["changes"][0]["type"] == "Pager"

            # A new subscription in the same session replaces the old one.
            again = _ws_subscribe(recipient, "session-1")
            assert again.status_code == 200
            ids = [r["id"] for r in recipient.get(SUBSCRIPTION).json()["records"]]
            assert ids == [again.json()["id"]]

            # A session this process does not hold is handed nothing.
            other = _ws_subscribe(sender, "session-elsewhere")
            assert other.status_code == 200
            send_pager(recipient, ["102"], "to a session held elsewhere")
            send_pager(sender, ["103"], "second")
            # session-1 gets 103's outbound copy of its Pager to 102 (a change of 103's store)
            # and the second Pager; session-elsewhere's notification is nobody's here.
            delivered = sink.wait_for(3)
            assert [s for s, _ in delivered] == ["session-1"] * 3
            assert {e["subscriptionId"] for _, e in delivered[1:]} == {again.json()["id"]}

            # The gateway ends the session: its subscription goes.
            future = asyncio.run_coroutine_threadsafe(
                services.notify.session_ended("session-1"), _loop_of(services)
            )
            future.result(timeout=10)
            assert recipient.get(SUBSCRIPTION).json()["records"] == []
        finally:
            recipient.close()
            sender.close()


def _loop_of(services: Services) -> asyncio.AbstractEventLoop:
    dispatcher = services.notify.dispatcher
    assert dispatcher is not None and dispatcher._loop is not None
    return dispatcher._loop


def test_reset_clears_the_outbox_and_the_journal_not_the_subscriptions(
    seam: tuple[str, Services, ProvisionedAccount], spec_validator: SpecValidator
) -> None:
    """`reset()` (wired to POST /_ringlet/reset) forgets notifications and attempts;
    subscriptions stay and deliver what changes next."""
    base_url, services, account = seam
    receiver = WebHookReceiver().start()
    try:
        # The admin token opens the delivery journal (api/inspect_access.py).
        admin = {ADMIN_HEADER: ADMIN_TOKEN}
        with ApiClient(base_url, validator=spec_validator, headers=admin) as api:
            recipient, sender = api.login(account, "103"), api.login(account, "102")
            try:
                info = subscribe(recipient, receiver, [MY_STORE])
                send_pager(sender, ["103"], "before the reset")
                receiver.wait_for(1)
                journal = f"/_ringlet/subscriptions/{info['id']}/deliveries"
                deadline = time.monotonic() + 10
                while not api.get(journal).json()["records"]:
                    assert time.monotonic() < deadline
                    time.sleep(0.02)
                asyncio.run_coroutine_threadsafe(
                    services.notify.reset(), _loop_of(services)
                ).result(timeout=10)
                assert api.get(journal).json()["records"] == []
                assert recipient.get(f"{SUBSCRIPTION}/{info['id']}").status_code == 200
                send_pager(sender, ["103"], "after the reset")
                [_, after] = receiver.wait_for(2)
                assert after.body["subscriptionId"] == info["id"]
            finally:
                recipient.close()
                sender.close()
    finally:
        receiver.stop()
