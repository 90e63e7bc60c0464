"""message-sync end to end (facts 9; R12, R15) through the HTTP API on a real server, with
messages created by sending. Every response is validated against GetMessageSyncResponse.

ISync overlaps its window by 5 s, as RingCentral does, so a change may be reported twice; these
tests assert what must be present, and what must be absent only for changes older than that.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.messaging import EXT, error_code, records, send_pager, send_sms
from tests.support.client import ApiClient

pytestmark = pytest.mark.usefixtures("server")

SYNC = f"{EXT}/message-sync"
STORE = f"{EXT}/message-store"
OVERLAP_S = 5


def _sms(client: ApiClient, account: Any, text: str, frm: str = "101", to: str = "102") -> Any:
    response = send_sms(client, account.ext(frm).number, account.ext(to).number, text)
    assert response.status_code == 200, response.text
    return response.json()


def _sync(client: ApiClient, path: str = SYNC, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _ids(body: Any) -> list[int]:
    return [m["id"] for m in body["records"]]


def _error(response: httpx.Response, status: int, code: str, parameter: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert error_code(response) == code, response.text
    if parameter is not None:
        assert response.json()["errors"][0]["parameterName"] == parameter, response.text


def test_full_sync(account, client_for) -> None:
    olivia = client_for(account, "101")
    first, second = _sms(olivia, account, "one"), _sms(olivia, account, "two")
    deleted = _sms(olivia, account, "gone")
    assert olivia.delete(f"{STORE}/{deleted['id']}").status_code == 204
    before = datetime.now(UTC) - timedelta(seconds=60)

    body = _sync(olivia)
    assert _ids(body) == [second["id"], first["id"]]  # Alive only, newest first
    assert body["records"][0] == {**second, "extensionId": str(account.ext("101").id)}
    info = body["syncInfo"]
    assert info["syncType"] == "FSync" and info["olderRecordsExist"] is False
    assert isinstance(info["syncToken"], str) and info["syncToken"]
    sync_time = datetime.fromisoformat(info["syncTime"].replace("Z", "+00:00"))
    assert before < sync_time < datetime.now(UTC) + timedelta(seconds=60)
    assert body["uri"].endswith(f"/extension/{account.ext('101').id}/message-sync")
    assert _sync(olivia, syncType="FSync")["syncInfo"]["syncType"] == "FSync"


def test_full_sync_frame(account, client_for) -> None:
    olivia = client_for(account, "101")
    sms = _sms(olivia, account, "sms")
    reply = _sms(client_for(account, "102"), account, "reply", frm="102", to="101")
    pager = send_pager(olivia, ["103"], "pager").json()
    (inbound,) = records(olivia, direction="Inbound")
    assert inbound["conversationId"] == reply["conversationId"]

    limited = _sync(olivia, recordCount=2)
    assert _ids(limited) == [pager["id"], inbound["id"]]
    assert limited["syncInfo"]["olderRecordsExist"] is True
    # Exactly as many as asked for: nothing older (found by reading one more, not counting).
    exact = _sync(olivia, recordCount=3)
    assert _ids(exact) == [pager["id"], inbound["id"], sms["id"]]
    assert exact["syncInfo"]["olderRecordsExist"] is False
    assert _ids(_sync(olivia, messageType="SMS")) == [inbound["id"], sms["id"]]
    assert _ids(_sync(olivia, messageType=["Fax", "VoiceMail"])) == []
    assert _ids(_sync(olivia, direction="Inbound")) == [inbound["id"]]
    assert _ids(_sync(olivia, conversationId=sms["conversationId"])) == [inbound["id"], sms["id"]]
    assert _ids(_sync(olivia, distinctConversations="true")) == [pager["id"], inbound["id"]]
    later = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _ids(_sync(olivia, dateFrom=later)) == []
    earlier = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _ids(_sync(olivia, dateTo=earlier)) == []
    # Without dateFrom the frame reaches back a week before dateTo (the guide's default).
    in_six_days = (datetime.now(UTC) + timedelta(days=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(_ids(_sync(olivia, dateTo=in_six_days))) == 3


def test_incremental_sync_reports_changes_with_their_availability(account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    old = _sms(olivia, account, "old")
    read_later = _sms(olivia, account, "to be read")
    purge_later = _sms(olivia, account, "to be purged")
    time.sleep(OVERLAP_S + 0.5)  # so that these messages predate the token by more than 5 s
    token = _sync(olivia)["syncInfo"]["syncToken"]

    new = _sms(olivia, account, "new")
    assert (
        olivia.put(f"{STORE}/{read_later['id']}", json={"readStatus": "Unread"}).status_code == 200
    )
    assert (
        olivia.delete(f"{STORE}/{purge_later['id']}", params={"purge": "true"}).status_code == 204
    )
    received = _sms(bob, account, "incoming", frm="102", to="101")

    body = _sync(olivia, syncType="ISync", syncToken=token)
    info = body["syncInfo"]
    assert info["syncType"] == "ISync" and info["syncToken"] != token
    assert info["olderRecordsExist"] is False
    by_id = {m["id"]: m for m in body["records"]}
    assert old["id"] not in by_id  # unchanged since the token
    assert by_id[new["id"]]["availability"] == "Alive"
    assert by_id[read_later["id"]]["readStatus"] == "Unread"
    purged = by_id[purge_later["id"]]
    assert purged["availability"] == "Purged" and "subject" not in purged
    (inbound,) = [m for m in body["records"] if m["direction"] == "Inbound"]
    assert inbound["conversationId"] == received["conversationId"]
    assert len(by_id) == 4
    modified = [m["lastModifiedTime"] for m in body["records"]]
    assert modified == sorted(modified, reverse=True)  # newest change first

    # A syncToken alone means ISync; the new token carries on from this sync.
    assert olivia.delete(f"{STORE}/{new['id']}").status_code == 204
    again = _sync(olivia, syncToken=info["syncToken"])
    assert again["syncInfo"]["syncType"] == "ISync"
    assert {m["id"]: m["availability"] for m in again["records"]}[new["id"]] == "Deleted"
    assert old["id"] not in _ids(again)


def test_incremental_sync_keeps_the_frame(account, client_for) -> None:
    olivia = client_for(account, "101")
    token = _sync(olivia, messageType="Pager")["syncInfo"]["syncToken"]
    _sms(olivia, account, "not in the frame")
    pager = send_pager(olivia, ["102"], "in the frame").json()
    body = _sync(olivia, syncToken=token, messageType="SMS")  # ISync ignores the filters
    assert _ids(body) == [pager["id"]]
    fax_only = _sync(olivia, messageType="Fax")["syncInfo"]["syncToken"]
    assert _ids(_sync(olivia, syncToken=fax_only)) == []


def test_sync_token_is_checked(account, new_account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    _sms(olivia, account, "hello")
    token = _sync(bob)["syncInfo"]["syncToken"]
    _error(olivia.get(SYNC, params={"syncType": "ISync"}), 400, "CMN-101", "syncToken")
    for bad in (
        "garbage",
        token[:-4],
        token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),
        "A" * 60,
    ):
        _error(olivia.get(SYNC, params={"syncToken": bad}), 400, "MSG-333")
    _error(olivia.get(SYNC, params={"syncToken": token}), 400, "MSG-333")  # Bob's token
    stranger = client_for(new_account(), "101")
    _error(stranger.get(SYNC, params={"syncToken": token}), 400, "MSG-333")
    # The admin may sync Bob's store, with Bob's token.
    bobs = f"/restapi/v1.0/account/~/extension/{account.ext('102').id}/message-sync"
    assert _sync(olivia, bobs, syncToken=token)["syncInfo"]["syncType"] == "ISync"
    _error(
        bob.get(f"/restapi/v1.0/account/~/extension/{account.ext('101').id}/message-sync"),
        403,
        "CMN-404",
    )


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("syncType", "Partial"),
        ("recordCount", "0"),
        ("recordCount", "many"),
        ("dateFrom", "last week"),
        ("dateTo", "2024-02-30"),
        ("messageType", "Email"),
        ("direction", "Up"),
        ("conversationId", "x"),
        ("conversationId", "-1"),
        ("distinctConversations", "sometimes"),
    ],
)
def test_sync_bad_values_name_the_parameter(account, client_for, parameter, value) -> None:
    olivia = client_for(account, "101")
    _error(olivia.get(SYNC, params={parameter: value}), 400, "CMN-101", parameter)


def test_r12_leaving_a_department_drops_its_threads_from_sync(account, client_for) -> None:
    olivia, carol = client_for(account, "101"), client_for(account, "103")
    thread = send_pager(olivia, ["201"], "queue thread").json()
    (carols,) = _sync(carol)["records"]
    assert carols["conversationId"] == thread["conversationId"]
    token = _sync(carol)["syncInfo"]["syncToken"]
    removed = olivia.post(
        "/restapi/v1.0/account/~/department/bulk-assign",
        json={
            "items": [
                {
                    "departmentId": str(account.ext("201").id),
                    "removedExtensionIds": [str(account.ext("103").id)],
                }
            ]
        },
    )
    assert removed.status_code in (200, 204), removed.text
    assert _ids(_sync(carol)) == []
    assert _ids(_sync(carol, syncToken=token)) == []
