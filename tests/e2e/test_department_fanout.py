"""A Pager to a department of 200 (R10) is one transaction (R11): every member's copy and the
sender's, or nothing. A database error injected mid-way through the fan-out (a trigger that
refuses the copy of the member in the middle of the insertion order) leaves no copy for anyone,
no Pager thread and no notification event, while sends committed beside it in the same group
commit are kept. Sizes and timings of large departments: bench/fanout.py.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.conftest import ClientFor, NewAccount
from tests.e2e.messaging import records, send_pager, send_sms
from tests.e2e.test_provisioning import rows
from tests.support.faults import refused_inserts
from tests.support.fixtures import ProvisionedAccount
from tests.support.server import RingletServer

pytestmark = pytest.mark.usefixtures("server")

MEMBERS = 200
FIRST_MEMBER = 5000
CONCURRENT_SMS = 4


def _department_of_200(doc: dict[str, Any]) -> None:
    account = doc["accounts"][0]
    extensions = account["extensions"]
    department = next(e for e in extensions if e["extensionNumber"] == "201")
    numbers = [str(FIRST_MEMBER + i) for i in range(MEMBERS)]
    # Ids within the account's own block of ids (tests/support/fixtures.py), unused by it.
    extensions.extend(
        {"id": account["id"] + 100_000 + i, "extensionNumber": n, "name": f"Member {n}"}
        for i, n in enumerate(numbers)
    )
    department["members"] = [*department.get("members", []), *numbers]


def _inbound_copies(srv: RingletServer, account: ProvisionedAccount, subject: str) -> list[int]:
    """The stores holding an inbound copy of the Pager(s) with this text, in insertion order."""
    found = rows(
        srv.database_url,
        "SELECT extension_id FROM messages WHERE account_id = :a AND subject = :s "
        "AND direction = 'Inbound' ORDER BY id",
        a=account.id,
        s=subject,
    )
    return [int(r["extension_id"]) for r in found]


def _count(srv: RingletServer, query: str, **params: Any) -> int:
    return int(next(iter(rows(srv.database_url, query, **params)[0].values())))


def test_r10_r11_a_fault_mid_fanout_stores_nothing(
    server: RingletServer, new_account: NewAccount, client_for: ClientFor
) -> None:
    account = new_account(edit=_department_of_200)
    olivia = client_for(account, "101")
    # 200 new members, 102 and 103 (104 is Disabled): 202 inbound copies.
    first = send_pager(olivia, ["201"], "Everyone: the first page")
    assert first.status_code == 200, first.text
    order = _inbound_copies(server, account, "Everyone: the first page")
    assert len(order) == MEMBERS + 2
    victim = order[len(order) // 2]  # copies before it are inserted when it fails

    # Events of the members' stores (102's, which the SMS below touch, left out).
    member_ids = ", ".join(str(e) for e in order if e != account.ext("102").id)
    events_query = f"SELECT count(*) FROM notification_events WHERE extension_id IN ({member_ids})"
    threads_query = "SELECT count(*) FROM pager_threads WHERE account_id = :a"
    events_before = _count(server, events_query)
    threads_before = _count(server, threads_query, a=account.id)

    bob = [client_for(account, "102") for _ in range(CONCURRENT_SMS)]
    sms_status: list[int] = []
    faulty = "Everyone: this page meets a fault"
    with refused_inserts(server.database_url, victim, faulty):
        # SMS sent meanwhile may share the Pager's group commit (its savepoint is rolled back,
        # theirs are kept) or commit on their own: either way they are stored, it is not.
        def sms(client: Any, n: int) -> None:
            for i in range(5):
                response = send_sms(
                    client, account.ext("102").number, account.ext("101").number, f"sms {n} {i}"
                )
                sms_status.append(response.status_code)

        senders = [threading.Thread(target=sms, args=(c, n)) for n, c in enumerate(bob)]
        for thread in senders:
            thread.start()
        response = send_pager(olivia, ["201"], faulty)
        for thread in senders:
            thread.join(timeout=60)

    assert response.status_code == 500, response.text
    assert response.json()["errorCode"]
    assert _count(server, "SELECT count(*) FROM messages WHERE subject = :s", s=faulty) == 0
    assert _count(server, threads_query, a=account.id) == threads_before
    assert _count(server, events_query) == events_before
    assert sms_status == [200] * (CONCURRENT_SMS * 5)
    assert len(records(olivia, messageType="SMS")) == CONCURRENT_SMS * 5
    assert not [r for r in records(olivia, messageType="Pager") if r["subject"] == faulty]

    # The fault gone, the same Pager is stored whole.
    again = send_pager(olivia, ["201"], faulty)
    assert again.status_code == 200, again.text
    assert sorted(_inbound_copies(server, account, faulty)) == sorted(order)
