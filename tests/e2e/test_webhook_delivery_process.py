"""WebHook delivery from a process of its own (`--webhook-delivery process`, and `external`
with `ringlet deliver`): everything arrives once, a subscription deleted before a send gets
nothing of it, a reset is followed, and a server killed outright leaves no delivery process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from tests.e2e.messaging import send_pager
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

ServerFactory = Callable[..., RingletServer]


@pytest.fixture
def receiver() -> Iterator[WebHookReceiver]:
    r = WebHookReceiver().start()
    yield r
    r.stop()


def _delivery_pids(database_url: str) -> list[int]:
    """The `ringlet deliver` processes working on this database."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"deliver" in argv and database_url.encode() in argv:
            found.append(int(entry))
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return not f.read().split(") ", 1)[1].startswith("Z")
    except OSError:
        return False


def test_the_delivery_process_delivers_each_notification_once(
    server_factory: ServerFactory, spec_validator: SpecValidator, receiver: WebHookReceiver
) -> None:
    srv = server_factory(extra_args=["--webhook-delivery", "process"])
    account = build_account(6901)
    srv.provision(account.document)
    assert len(_delivery_pids(srv.database_url)) == 1
    with ApiClient(srv.base_url, validator=spec_validator) as api:
        recipient, sender = api.login(account, "103"), api.login(account, "102")
        try:
            info = subscribe(recipient, receiver, [MY_STORE])
            for i in range(5):
                assert send_pager(sender, ["103"], f"n{i}").status_code == 200
            # Each message once (a delivery a little behind may bring several in one POST).
            assert len(set(wait_for_messages(receiver, 5))) == 5
            got = receiver.quiet_for(0.5)
            assert len(pager_ids(got)) == 5
            assert {n["subscriptionId"] for n in bodies(got)} == {info["id"]}
            # Deleted, then a send: the delivery process hears of the delete first.
            assert recipient.delete(f"{SUBSCRIPTION}/{info['id']}").status_code == 204
            send_pager(sender, ["103"], "after the delete")
            assert receiver.quiet_for(0.5) == got
        finally:
            recipient.close()
            sender.close()


def test_a_server_killed_outright_leaves_no_delivery_process(
    server_factory: ServerFactory,
) -> None:
    srv = server_factory(extra_args=["--webhook-delivery", "process"])
    [pid] = _delivery_pids(srv.database_url)
    # Only the server, not its process group: the delivery process notices it is alone.
    assert srv._proc is not None
    os.kill(srv._proc.pid, 9)
    srv._proc.wait(10)
    deadline = time.monotonic() + 10
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(pid)


def test_external_delivery_is_ringlet_deliver(
    server_factory: ServerFactory, spec_validator: SpecValidator, receiver: WebHookReceiver
) -> None:
    srv = server_factory(extra_args=["--webhook-delivery", "external"])
    account = build_account(6902)
    srv.provision(account.document)
    assert _delivery_pids(srv.database_url) == []
    with ApiClient(srv.base_url, validator=spec_validator) as api:
        recipient, sender = api.login(account, "103"), api.login(account, "102")
        try:
            subscribe(recipient, receiver, [MY_STORE])
            send_pager(sender, ["103"], "waits for a deliverer")
            # Nobody delivers yet: the notification waits in the database.
            assert receiver.quiet_for(0.5) == []
            deliverer = subprocess.Popen(
                [sys.executable, "-m", "ringlet", "deliver", "--database", srv.database_url],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                [got] = receiver.wait_for(1)
                assert len(pager_ids([got])) == 1
                send_pager(sender, ["103"], "and then at once")
                assert len(receiver.wait_for(2)) == 2
            finally:
                deliverer.terminate()
                assert deliverer.wait(15) == 0
        finally:
            recipient.close()
            sender.close()
