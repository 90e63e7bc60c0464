"""The HTTP carrier gateway (--carrier-url) end to end, against a receiver written here: SMS to
handsets are forwarded to it; its delivery receipts and inbound SMS come back through
/_ringlet/carrier/reports and /_ringlet/carrier/inbound."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conftest import provision_account
from tests.e2e.messaging import EXT, error_code, records, send_sms
from tests.support.client import ApiClient
from tests.support.inspect import InspectClient, wait_for_final_status
from tests.support.openapi import SpecValidator

STORE = f"{EXT}/message-store"
REPORTS = "/_ringlet/carrier/reports"
INBOUND = "/_ringlet/carrier/inbound"


class Receiver:
    """An SMS provider's endpoint: records every request; answers by the recipient number as
    `answers` says (default 202), a 5xx first `failures[number]` times."""

    def __init__(self) -> None:
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        self.answers: dict[str, tuple[int, dict[str, Any]]] = {}
        self.failures: dict[str, int] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                to = body["to"]
                if receiver.failures.get(to, 0) > 0:
                    receiver.failures[to] -= 1
                    status, answer = 503, {"error": "busy"}
                else:
                    status, answer = receiver.answers.get(to, (202, {"accepted": True}))
                    receiver.received.put(body)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def next(self) -> dict[str, Any]:
        return self.received.get(timeout=30)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def gateway(server_factory, spec_validator: SpecValidator) -> Iterator[tuple[Any, ...]]:
    receiver = Receiver()
    srv = server_factory(extra_args=["--carrier-url", receiver.url])
    account = provision_account(srv)
    with (
        ApiClient(srv.base_url, validator=spec_validator) as api,
        InspectClient(srv, spec_validator) as inspect,
    ):
        bob = api.login(account, "102")
        try:
            yield receiver, account, bob, inspect
        finally:
            bob.close()
            receiver.close()


def test_an_sms_is_forwarded_and_its_receipt_delivers_it(gateway) -> None:
    receiver, account, bob, inspect = gateway
    handset = account.handset(1)
    sent = send_sms(bob, account.ext("102").number, handset, "via the provider").json()
    forwarded = receiver.next()
    assert forwarded == {
        "messageId": str(sent["id"]),
        "from": account.ext("102").number,
        "to": handset,
        "text": "via the provider",
        "creationTime": forwarded["creationTime"],
    }
    # Accepted by the provider: Sent, until its receipt comes.
    assert bob.get(f"{STORE}/{sent['id']}").json()["messageStatus"] == "Sent"
    assert inspect.handset_records(handset) == []

    receipt = {"messageId": forwarded["messageId"], "status": "Delivered"}
    assert inspect.post(REPORTS, json=receipt).status_code == 204
    copy = bob.get(f"{STORE}/{sent['id']}").json()
    assert copy["messageStatus"] == "Delivered"
    assert "smsDeliveryTime" in copy
    (record,) = inspect.handset_records(handset)
    assert record["messageId"] == sent["id"] and record["direction"] == "Inbound"
    # A repeated receipt changes nothing.
    assert inspect.post(REPORTS, json=receipt).status_code == 204
    assert len(inspect.handset_records(handset)) == 1


def test_a_failed_receipt_carries_its_error_code(gateway) -> None:
    receiver, account, bob, inspect = gateway
    sent = send_sms(bob, account.ext("102").number, account.handset(2), "lost").json()
    forwarded = receiver.next()
    receipt = {
        "messageId": forwarded["messageId"],
        "status": "DeliveryFailed",
        "errorCode": "SMS-CAR-432",
    }
    assert inspect.post(REPORTS, json=receipt).status_code == 204
    copy = bob.get(f"{STORE}/{sent['id']}").json()
    assert copy["messageStatus"] == "DeliveryFailed"
    assert copy["deliveryErrorCode"] == "SMS-CAR-432"
    assert inspect.handset_records(account.handset(2)) == []


def test_a_provider_refusal_is_sending_failed_and_an_outage_is_retried(gateway) -> None:
    receiver, account, bob, _inspect = gateway
    refused, flaky = account.handset(3), account.handset(4)
    receiver.answers[refused] = (400, {"errorCode": "SMS-UP-431"})
    receiver.failures[flaky] = 1
    first = send_sms(bob, account.ext("102").number, refused, "no").json()
    copy = wait_for_final_status(bob.get, f"{STORE}/{first['id']}")
    assert copy["messageStatus"] == "SendingFailed"
    assert copy["deliveryErrorCode"] == "SMS-UP-431"

    second = send_sms(bob, account.ext("102").number, flaky, "again").json()
    forwarded = receiver.next()
    while forwarded["to"] != flaky:  # the refused one was recorded too
        forwarded = receiver.next()
    assert forwarded["messageId"] == str(second["id"])
    assert receiver.failures[flaky] == 0  # it was answered 503 once, then tried again


def test_inbound_sms_from_the_provider_reach_the_store(gateway) -> None:
    _receiver, account, bob, inspect = gateway
    body = {"from": account.handset(5), "to": account.ext("102").number, "text": "STOP"}
    response = inspect.post(INBOUND, json=body)
    assert response.status_code == 201, response.text
    (inbound,) = records(bob)
    assert inbound["id"] == response.json()["messageId"]
    assert inbound["subject"] == "STOP" and inbound["direction"] == "Inbound"


BAD_RECEIPTS = [
    ({"status": "Delivered"}, 400, "CMN-101", "messageId"),
    ({"messageId": "abc", "status": "Delivered"}, 400, "CMN-101", "messageId"),
    ({"messageId": "1", "status": "Sent"}, 400, "CMN-101", "status"),
    (
        {"messageId": "1", "status": "DeliveryFailed", "errorCode": "E1"},
        400,
        "CMN-101",
        "errorCode",
    ),
    (
        {"messageId": "1", "status": "Delivered", "deliveryTime": "soon"},
        400,
        "CMN-101",
        "deliveryTime",
    ),
    ({"messageId": "999999999", "status": "Delivered"}, 404, "CMN-102", "messageId"),
]


def test_bad_receipts_are_refused_and_change_nothing(gateway) -> None:
    receiver, account, bob, inspect = gateway
    sent = send_sms(bob, account.ext("102").number, account.handset(6), "pending").json()
    receiver.next()
    for body, status, code, parameter in BAD_RECEIPTS:
        response = inspect.post(REPORTS, json=body)
        assert response.status_code == status, response.text
        assert error_code(response) == code
        assert response.json()["errors"][0]["parameterName"] == parameter
    bad_status = {"messageId": str(sent["id"]), "status": "Queued"}
    assert inspect.post(REPORTS, json=bad_status).status_code == 400
    assert bob.get(f"{STORE}/{sent['id']}").json()["messageStatus"] == "Sent"
    assert inspect.handset_records(account.handset(6)) == []


def test_a_receipt_for_a_message_to_a_number_on_the_server_is_not_found(gateway) -> None:
    _receiver, account, bob, inspect = gateway
    internal = send_sms(bob, account.ext("102").number, account.ext("103").number, "hi").json()
    response = inspect.post(REPORTS, json={"messageId": internal["id"], "status": "Delivered"})
    assert response.status_code == 404
    assert bob.get(f"{STORE}/{internal['id']}").json()["messageStatus"] == "Sent"
