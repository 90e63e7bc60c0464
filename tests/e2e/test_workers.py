"""Several server processes on one database: `ringlet serve --workers N`, and separate servers
sharing a database. Every process answers from the database as it is: a list page memoised in
one process is never served after another process changed that store."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.messaging import EXT, records, send_pager, send_sms
from tests.support.client import ApiClient
from tests.support.fixtures import ProvisionedAccount, build_account
from tests.support.openapi import SpecValidator
from tests.support.server import RingletServer

BULK_ASSIGN = "/restapi/v1.0/account/~/department/bulk-assign"


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _ids(found: list[dict]) -> set[int]:
    return {m["id"] for m in found}


@contextmanager
def _clients(
    base_url: str, account: ProvisionedAccount, validator: SpecValidator, *extensions: str
) -> Iterator[list[ApiClient]]:
    with ApiClient(base_url, validator=validator) as api:
        clients = [api.login(account, e) for e in extensions]
        try:
            yield clients
        finally:
            for c in clients:
                c.close()


def test_a_page_read_in_one_process_follows_changes_made_in_another(
    server_factory, spec_validator, tmp_path
) -> None:
    first = server_factory()
    account = build_account(6960)
    first.provision(account.document)
    with RingletServer(first.database_url, tmp_path / "second.log") as second:
        sender, recipient = account.ext("101").number, account.ext("102").number
        with (
            _clients(first.base_url, account, spec_validator, "101", "102", "103") as here,
            _clients(second.base_url, account, spec_validator, "101", "102") as there,
        ):
            olivia, bob, carol = here
            olivia_there, bob_there = there

            assert records(bob) == []  # memoised in the first process
            sent = send_sms(olivia_there, sender, recipient, "through the second").json()
            (received,) = records(bob)
            assert received["subject"] == "through the second"
            assert received["readStatus"] == "Unread"

            marked = bob_there.put(
                f"{EXT}/message-store/{received['id']}", json={"readStatus": "Read"}
            )
            assert marked.status_code == 200, marked.text
            assert [m["readStatus"] for m in records(bob)] == ["Read"]

            assert bob_there.delete(f"{EXT}/message-store/{received['id']}").status_code == 204
            assert records(bob) == []
            assert _ids(records(olivia)) == {sent["id"]}

            # R12: a member taken out of a department in the other process loses its threads.
            assert send_pager(olivia, ["201"], "to the queue").status_code == 200
            assert [m["subject"] for m in records(carol)] == ["to the queue"]
            item = {
                "departmentId": str(account.ext("201").id),
                "removedExtensionIds": [str(account.ext("103").id)],
            }
            removed = olivia_there.post(BULK_ASSIGN, json={"items": [item]})
            assert removed.status_code == 204, removed.text
            assert records(carol) == []


def test_workers_share_the_port_and_the_database(server_factory, spec_validator) -> None:
    srv = server_factory(extra_args=["--workers", "2"])
    assert srv.pid is not None
    account = build_account(6961)
    srv.provision(account.document)
    assert len(_children(srv.pid)) >= 2  # uvicorn's supervisor and its two workers
    sender, recipient = account.ext("101").number, account.ext("102").number

    with _clients(srv.base_url, account, spec_validator, "101", "102") as (olivia, bob):

        def send(i: int) -> int:
            # A connection of its own each time, so that both workers take sends.
            with ApiClient(srv.base_url, validator=spec_validator) as api:
                own = api.with_token(olivia.access_token)
                response = send_sms(own, sender, recipient, f"message {i}")
                own.close()
            assert response.status_code == 200, response.text
            return int(response.json()["id"])

        with ThreadPoolExecutor(8) as pool:
            acknowledged = set(pool.map(send, range(80)))
        assert len(acknowledged) == 80
        assert _ids(records(olivia)) == acknowledged

        received = records(bob)
        assert {m["subject"] for m in received} == {f"message {i}" for i in range(80)}
        newest = received[0]["id"]
        marked = bob.put(f"{EXT}/message-store/{newest}", json={"readStatus": "Read"})
        assert marked.status_code == 200, marked.text
        for _ in range(10):  # new connections: answered by either worker
            with ApiClient(srv.base_url, validator=spec_validator) as api:
                fresh = api.with_token(bob.access_token)
                statuses = {m["id"]: m["readStatus"] for m in records(fresh)}
                fresh.close()
            assert statuses[newest] == "Read"
            assert sum(s == "Unread" for s in statuses.values()) == 79
