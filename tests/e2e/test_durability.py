"""Every send that got a 200 survives a crash of the server (SIGKILL) and a restart."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.e2e.messaging import records, send_sms
from tests.support.client import ApiClient
from tests.support.fixtures import build_account


def test_acknowledged_sends_survive_a_crash(server_factory, spec_validator) -> None:
    srv = server_factory()
    account = build_account(6950)
    srv.provision(account.document)
    sender, recipient = account.ext("101"), account.ext("102")

    with ApiClient(srv.base_url, validator=spec_validator) as api:
        olivia = api.login(account, "101")

        def send(i: int) -> int:
            response = send_sms(olivia, sender.number, recipient.number, f"message {i}")
            assert response.status_code == 200, response.text
            return int(response.json()["id"])

        # Concurrent sends, so that the server commits them in groups.
        with ThreadPoolExecutor(8) as pool:
            acknowledged = set(pool.map(send, range(60)))
        olivia.close()

    srv.kill()
    srv.start()

    with ApiClient(srv.base_url, validator=spec_validator) as api:
        olivia, bob = api.login(account, "101"), api.login(account, "102")
        assert {m["id"] for m in records(olivia)} == acknowledged
        received = records(bob)
        assert len(received) == 60
        assert {m["subject"] for m in received} == {f"message {i}" for i in range(60)}
        olivia.close()
        bob.close()
