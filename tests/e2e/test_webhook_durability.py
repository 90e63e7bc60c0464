"""WebHook delivery that survives: retries with backoff while a receiver is down, Blacklisted
when it stays down, a `kill -9` between commit and delivery, several processes on one
database (each notification once per subscription), R12 decided at delivery, and the delivery
journal with redelivery (/_ringlet/)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.messaging import remove_from_department, send_pager
from tests.e2e.notifications import (
    MY_STORE,
    SUBSCRIPTION,
    bodies,
    pager_ids,
    subscribe,
    wait_for_messages,
)
from tests.support.client import ApiClient
from tests.support.fixtures import build_account
from tests.support.openapi import SpecValidator
from tests.support.server import RingletServer
from tests.support.webhook_receiver import WebHookReceiver

FAST_RETRIES = ["--webhook-backoff", "50", "--webhook-attempts", "30"]
ServerFactory = Callable[..., RingletServer]


class _Api(ApiClient):
    """An ApiClient whose logged-in clients close with it."""

    def __init__(self, srv: RingletServer, validator: SpecValidator) -> None:
        # The admin token opens the delivery journal (/_ringlet/, api/inspect_access.py).
        super().__init__(srv.base_url, validator=validator, headers=srv.admin_headers())
        self._logins: list[ApiClient] = []

    def login(self, *args: Any, **kwargs: Any) -> ApiClient:  # type: ignore[override]
        client = super().login(*args, **kwargs)
        self._logins.append(client)
        return client

    def close(self) -> None:
        for client in self._logins:
            client.close()
        super().close()


@pytest.fixture
def receiver() -> Iterator[WebHookReceiver]:
    r = WebHookReceiver().start()
    yield r
    r.stop()


def _journal(api: ApiClient, sub_id: str, until: Callable[[list[dict]], bool]) -> list[dict]:
    """The subscription's delivery journal, once `until` holds of it (attempts are recorded
    just after they are made)."""
    deadline = time.monotonic() + 10
    while True:
        response = api.get(f"/_ringlet/subscriptions/{sub_id}/deliveries")
        assert response.status_code == 200, response.text
        entries: list[dict] = response.json()["records"]
        if until(entries) or time.monotonic() > deadline:
            return entries
        time.sleep(0.02)


def test_a_receiver_that_was_down_gets_everything_in_order_when_back(
    server_factory: ServerFactory, spec_validator: SpecValidator, receiver: WebHookReceiver
) -> None:
    srv = server_factory(extra_args=FAST_RETRIES)
    account = build_account(6801)
    srv.provision(account.document)
    with _Api(srv, spec_validator) as api:
        recipient, sender = api.login(account, "103"), api.login(account, "102")
        info = subscribe(recipient, receiver, [MY_STORE])
        receiver.status = 503
        sent = [send_pager(sender, ["103"], f"n{i}").json()["id"] for i in range(3)]
        receiver.wait_refused(2)
        receiver.status = 200
        # Each message once, in order of the changes, and the sender's ids are not the
        # recipient's copies. The first is retried alone; the two pending behind it come as
        # one notification (the subscriber catches up in one POST).
        ids = wait_for_messages(receiver, 3)
        assert len(ids) == 3 and ids == sorted(ids) and not set(ids) & set(sent)
        first, rest = bodies(receiver.quiet_for(0.5))
        assert first["body"]["changes"][0]["newCount"] == 1
        [merged] = rest["body"]["changes"]
        assert merged["newCount"] == 2 and merged["newMessageIds"] == ids[1:]
        journal = _journal(api, info["id"], lambda j: j[-1]["statusCode"] == 200)
        codes = [r["statusCode"] for r in journal]
        assert codes[0] == 503 and codes[-2:] == [200, 200] and codes.count(200) == 2
        assert recipient.get(f"{SUBSCRIPTION}/{info['id']}").json()["status"] == "Active"


def test_a_receiver_that_stays_down_gets_the_subscription_blacklisted(
    server_factory: ServerFactory, spec_validator: SpecValidator, receiver: WebHookReceiver
) -> None:
    srv = server_factory(extra_args=["--webhook-backoff", "20", "--webhook-attempts", "3"])
    account = build_account(6802)
    srv.provision(account.document)
    with _Api(srv, spec_validator) as api:
        recipient, sender = api.login(account, "103"), api.login(account, "102")
        info = subscribe(recipient, receiver, [MY_STORE])
        receiver.status = 500
        send_pager(sender, ["103"], "into the void")
        receiver.wait_refused(3)
        deadline = time.monotonic() + 10
        while True:
            read = recipient.get(f"{SUBSCRIPTION}/{info['id']}").json()
            if read["status"] == "Blacklisted" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert read["status"] == "Blacklisted"
        assert read["blacklistedData"]["reason"] == (
            "WebHook responds with incorrect HTTP status. HTTP status is 500"
        )
        assert "blacklistedAt" in read["blacklistedData"]
        # Never reactivated: a receiver back in order gets nothing more.
        receiver.status = 200
        send_pager(sender, ["103"], "still nothing")
        assert receiver.quiet_for(0.5) == []
        assert recipient.post(f"{SUBSCRIPTION}/{info['id']}/renew").json()["status"] == (
            "Blacklisted"
        )


def test_a_receiver_too_slow_to_answer_times_out(
    server_factory: ServerFactory, spec_validator: SpecValidator, receiver: WebHookReceiver
) -> None:
    srv = server_factory(
        extra_args=[
            "--webhook-timeout",
            "100",
            "--webhook-backoff",
            "20",
            "--webhook-attempts",
            "2",
        ]
    )
    account = build_account(6803)
    srv.provision(account.document)
    with _Api(srv, spec_validator) as api:
        recipient, sender = api.login(account, "103"), api.login(account, "102")
        info = subscribe(recipient, receiver, [MY_STORE])
        receiver.delay_s = 0.5
        send_pager(sender, ["103"], "slowly")
        deadline = time.monotonic() + 10
        while recipient.get(f"{SUBSCRIPTION}/{info['id']}").json()["status"] != "Blacklisted":
            assert time.monotonic() < deadline, "never blacklisted"
            time.sleep(0.05)
        read = recipient.get(f"{SUBSCRIPTION}/{info['id']}").json()
        assert read["blacklistedData"]["reason"] == (
            "I/O operation is failed. Details: [Read timed out]"
        )
        journal = _journal(api, info["id"], lambda j: len(j) == 2)
        assert [r["statusCode"] for r in journal] == [None, None]
        assert all(r["error"].endswith("[Read timed out]") for r in journal)


def test_kill_9_between_commit_and_delivery_loses_nothing(
    server_factory: ServerFactory, spec_validator: SpecValidator, receiver: WebHookReceiver
) -> None:
    srv = server_factory(extra_args=FAST_RETRIES)
    account = build_account(6804)
    srv.provision(account.document)
    with _Api(srv, spec_validator) as api:
        recipient, sender = api.login(account, "103"), api.login(account, "102")
        subscribe(recipient, receiver, [MY_STORE])
        receiver.status = 503  # nothing can be delivered before the crash
        for i in range(5):
            assert send_pager(sender, ["103"], f"before the crash {i}").status_code == 200
        srv.kill()
        receiver.status = 200
        srv.restart()
        ids = wait_for_messages(receiver, 5, timeout=30)
        assert len(set(ids)) == 5
        stored = {r["id"] for r in api.login(account, "103").get(MY_STORE).json()["records"]}
        assert set(ids) <= stored


def _two_servers(
    server_factory: ServerFactory, tmp_path: Path, seed: int
) -> Iterator[tuple[RingletServer, RingletServer]]:
    first = server_factory(extra_args=FAST_RETRIES)
    first.provision(build_account(seed).document)
    with RingletServer(
        first.database_url, tmp_path / "second.log", extra_args=FAST_RETRIES
    ) as second:
        yield first, second


def test_two_servers_on_one_database_deliver_each_notification_once(
    server_factory: ServerFactory,
    spec_validator: SpecValidator,
    receiver: WebHookReceiver,
    tmp_path: Path,
) -> None:
    account = build_account(6805)
    for first, second in _two_servers(server_factory, tmp_path, 6805):
        with (
            _Api(first, spec_validator) as api1,
            _Api(second, spec_validator) as api2,
        ):
            subscribe(api1.login(account, "103"), receiver, [MY_STORE])
            other = WebHookReceiver().start()
            try:
                subscribe(api2.login(account, "103"), other, [MY_STORE])
                senders = [api1.login(account, "102"), api2.login(account, "102")]
                for i in range(10):
                    assert send_pager(senders[i % 2], ["103"], f"m{i}").status_code == 200
                for r in (receiver, other):
                    wait_for_messages(r, 10)
                    ids = pager_ids(r.quiet_for(0.5))
                    assert len(ids) == len(set(ids)) == 10
            finally:
                other.stop()


def test_workers_deliver_each_notification_once(
    server_factory: ServerFactory, spec_validator: SpecValidator, receiver: WebHookReceiver
) -> None:
    srv = server_factory(extra_args=["--workers", "2", *FAST_RETRIES], start=False)
    srv.startup_timeout = 60  # two processes to start on a busy machine
    srv.start()
    account = build_account(6806)
    srv.provision(account.document)
    with _Api(srv, spec_validator) as api:
        subscribe(api.login(account, "103"), receiver, [MY_STORE])
        senders = [api.login(account, "102") for _ in range(4)]
        for i in range(12):
            assert send_pager(senders[i % 4], ["103"], f"w{i}").status_code == 200
        wait_for_messages(receiver, 12)
        ids = pager_ids(receiver.quiet_for(0.5))
        assert len(ids) == len(set(ids)) == 12


def test_r12_is_decided_at_delivery(
    server_factory: ServerFactory, spec_validator: SpecValidator, receiver: WebHookReceiver
) -> None:
    """A department Pager waits for a receiver that is down; meanwhile the subscriber leaves
    the department. When the receiver is back it is not told of a message its owner may no
    longer read."""
    srv = server_factory(extra_args=FAST_RETRIES)
    account = build_account(6807)
    srv.provision(account.document)
    with _Api(srv, spec_validator) as api:
        member, admin = api.login(account, "103"), api.login(account, "101")
        subscribe(member, receiver, [MY_STORE + "?type=Pager"])
        receiver.status = 503
        assert send_pager(admin, ["201"], "for the department").status_code == 200
        receiver.wait_refused(1)
        removed = remove_from_department(admin, account, "201", "103")
        assert removed.status_code == 204
        direct = send_pager(admin, ["103"], "for 103 alone")
        receiver.status = 200
        [note] = bodies(receiver.wait_for(1))
        [change] = note["body"]["changes"]
        [only] = change["newMessageIds"]
        assert member.get(f"{MY_STORE}/{only}").json()["subject"] == "for 103 alone"
        assert direct.status_code == 200
        assert len(receiver.quiet_for(0.5)) == 1


def test_the_journal_and_redelivery(
    server_factory: ServerFactory, spec_validator: SpecValidator, receiver: WebHookReceiver
) -> None:
    srv = server_factory(extra_args=FAST_RETRIES)
    account = build_account(6808)
    srv.provision(account.document)
    with _Api(srv, spec_validator) as api:
        recipient, sender = api.login(account, "103"), api.login(account, "102")
        info = subscribe(recipient, receiver, [MY_STORE])
        send_pager(sender, ["103"], "journalled")
        [first] = receiver.wait_for(1)
        [entry] = _journal(api, info["id"], lambda j: len(j) == 1)
        assert entry["statusCode"] == 200 and entry["error"] is None
        assert entry["latencyMs"] >= 0 and entry["uuid"] == first.body["uuid"]
        assert entry["notification"] == first.body
        again = api.post(f"/_ringlet/subscriptions/{info['id']}/deliveries/{entry['id']}/redeliver")
        assert again.status_code == 200 and again.json()["redelivery"] is True
        [_, second] = receiver.wait_for(2)
        assert second.body == first.body
        assert (
            len(api.get(f"/_ringlet/subscriptions/{info['id']}/deliveries").json()["records"]) == 2
        )
        unknown = api.get("/_ringlet/subscriptions/nope/deliveries")
        assert unknown.status_code == 404


def test_reset_forgets_the_journal_and_keeps_the_subscription(
    server_factory: ServerFactory, spec_validator: SpecValidator, receiver: WebHookReceiver
) -> None:
    """POST /_ringlet/reset: the journal is emptied, the subscription stays and delivers what
    changes after the reset (and nothing from before it)."""
    srv = server_factory(extra_args=FAST_RETRIES)
    account = build_account(6810)
    srv.provision(account.document)
    with _Api(srv, spec_validator) as api:
        recipient, sender = api.login(account, "103"), api.login(account, "102")
        info = subscribe(recipient, receiver, [MY_STORE])
        send_pager(sender, ["103"], "before the reset")
        receiver.wait_for(1)
        _journal(api, info["id"], lambda j: len(j) == 1)
        assert api.post("/_ringlet/reset").status_code == 204
        journal = api.get(f"/_ringlet/subscriptions/{info['id']}/deliveries")
        assert journal.status_code == 200 and journal.json()["records"] == []
        assert recipient.get(f"{SUBSCRIPTION}/{info['id']}").json()["status"] == "Active"
        send_pager(sender, ["103"], "after the reset")
        got = receiver.wait_for(2)
        assert len(receiver.quiet_for(0.5)) == 2
        assert got[-1].body["subscriptionId"] == info["id"]


def test_an_expired_subscription_gets_nothing(
    server_factory: ServerFactory, spec_validator: SpecValidator, receiver: WebHookReceiver
) -> None:
    srv = server_factory()
    account = build_account(6809)
    srv.provision(account.document)
    with _Api(srv, spec_validator) as api:
        recipient, sender = api.login(account, "103"), api.login(account, "102")
        response = recipient.post(
            SUBSCRIPTION,
            json={
                "eventFilters": [MY_STORE],
                "deliveryMode": {"transportType": "WebHook", "address": receiver.url},
                "expiresIn": 1,
            },
        )
        sub_id = response.json()["id"]
        time.sleep(1.2)
        send_pager(sender, ["103"], "too late")
        assert receiver.quiet_for(0.5) == []
        expired = recipient.get(f"{SUBSCRIPTION}/{sub_id}")
        assert expired.status_code == 404 and expired.json()["errorCode"] == "SUB-507"
        assert recipient.get(SUBSCRIPTION).json()["records"] == []
