"""The message store end to end: list, read, update, delete, content (R11, R12, R14, R15;
facts 3, 4, 8) through the HTTP API on a real server, with messages created by sending.

Every response is validated against the OpenAPI description by the client, including 207
answers part by part / item by item and the 207/206 answers that the 2022 description does not
declare (tests/support/schemas.py, MULTI_STATUS_RESPONSE and RESPONSE_OVERRIDES).
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from email.feedparser import FeedParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.e2e.messaging import (
    EXT,
    error_code,
    records,
    remove_from_department,
    send_pager,
    send_sms,
    sent,
)
from tests.support.client import ApiClient

pytestmark = pytest.mark.usefixtures("server")

STORE = f"{EXT}/message-store"
VND = "application/vnd.ringcentral.multipart+json"


# -- helpers ----------------------------------------------------------------------------------


def _store(extension_id: int | str = "~") -> str:
    return f"/restapi/v1.0/account/~/extension/{extension_id}/message-store"


def _sms(client: ApiClient, account: Any, text: str, frm: str = "101", to: str = "102") -> Any:
    return sent(send_sms(client, account.ext(frm).number, account.ext(to).number, text))


def _pager(client: ApiClient, to: list[str], text: str) -> Any:
    return sent(send_pager(client, to, text))


def _ids(client: ApiClient, **params: Any) -> list[int]:
    return [m["id"] for m in records(client, **params)]


def _get(client: ApiClient, message_id: int | str, extension: int | str = "~") -> httpx.Response:
    return client.get(f"{_store(extension)}/{message_id}")


def _error(response: httpx.Response, status: int, code: str, parameter: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert error_code(response) == code, response.text
    if parameter is not None:
        assert response.json()["errors"][0]["parameterName"] == parameter, response.text


def _python_sdk_parts(response: httpx.Response) -> list[tuple[int, str]]:
    """ringcentral-python's ApiResponse.multipart(): the email package over the response's
    headers and text; the first part's `response` list must match the other parts."""
    assert "multipart/mixed" in response.headers["content-type"]
    parser = FeedParser()
    for name, value in response.headers.items():
        parser.feed(f"{name}:{value}\r\n")
    parser.feed("\r\n")
    parser.feed(response.text)
    parts = parser.close().get_payload()
    statuses = json.loads(parts[0].get_payload())["response"]
    assert len(statuses) == len(parts) - 1
    return [(s["status"], p.get_payload()) for s, p in zip(statuses, parts[1:], strict=True)]


def _js_sdk_parts(response: httpx.Response) -> list[tuple[int, str]]:
    """@ringcentral/sdk's Client.multipart(): split on `--<boundary>` from the Content-Type,
    drop an empty preamble and the closing `--`, headers end at the first blank line."""
    match = re.search(r"boundary=([^;]+)", response.headers["content-type"], re.IGNORECASE)
    assert match is not None
    parts = response.text.split("--" + match.group(1))
    if parts[0].strip() == "":
        parts.pop(0)
    if parts[-1].strip() == "--":
        parts.pop()

    def body(text: str) -> str:
        pieces = text.replace("\r", "").split("\n\n")
        if len(pieces) > 1:
            pieces.pop(0)
        return "\n\n".join(pieces)

    statuses = json.loads(body(parts.pop(0)))["response"]
    return [(statuses[i]["status"], body(part)) for i, part in enumerate(parts)]


def _query(uri: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(uri).query)


def _ms(iso_text: str) -> int:
    return int(datetime.fromisoformat(iso_text.replace("Z", "+00:00")).timestamp() * 1000)


# -- listMessages -------------------------------------------------------------------------------


def test_list_shows_alive_messages_of_the_last_day_and_echoes_the_query(
    account, client_for
) -> None:
    olivia = client_for(account, "101")
    first = _sms(olivia, account, "one")
    second = _sms(olivia, account, "two")
    assert olivia.delete(f"{STORE}/{first['id']}").status_code == 204

    body = olivia.get(STORE).json()
    assert [m["id"] for m in body["records"]] == [second["id"]]  # R15: Deleted is not listed
    query = _query(body["uri"])
    assert query["availability"] == ["Alive"]
    assert query["page"] == ["1"] and query["perPage"] == ["100"]
    now = datetime.now(UTC)
    date_from = datetime.fromisoformat(query["dateFrom"][0].replace("Z", "+00:00"))
    assert abs((now - timedelta(hours=24) - date_from).total_seconds()) < 120
    assert body["paging"] == {
        "page": 1,
        "perPage": 100,
        "pageStart": 0,
        "pageEnd": 0,
        "totalPages": 1,
        "totalElements": 1,
    }
    assert set(body["navigation"]) == {"firstPage", "lastPage"}


def test_list_date_window(account, client_for) -> None:
    olivia = client_for(account, "101")
    sent = _sms(olivia, account, "now")
    now = datetime.now(UTC)
    tomorrow = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    yesterday = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    in_two_days = (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert _ids(olivia, dateFrom=tomorrow) == []
    assert _ids(olivia, dateTo=yesterday) == []
    assert _ids(olivia, dateFrom=yesterday, dateTo=tomorrow) == [sent["id"]]
    assert _ids(olivia, dateFrom="2020") == [sent["id"]]  # the short forms RingCentral accepts
    # Without dateFrom, the window is the 24 hours before dateTo.
    body = olivia.get(STORE, params={"dateTo": in_two_days}).json()
    query = _query(body["uri"])
    assert _ms(query["dateTo"][0]) - _ms(query["dateFrom"][0]) == 24 * 3600 * 1000
    assert body["records"] == []  # sent a day before that window


def test_list_filters(account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    out = _sms(olivia, account, "to bob")
    back = _sms(bob, account, "to olivia", frm="102", to="101")
    handset = send_sms(olivia, account.ext("101").number, account.handset(3), "to a mobile")
    assert handset.status_code == 200, handset.text
    handset = handset.json()
    pager = _pager(olivia, ["103"], "pager")
    (inbound,) = records(olivia, direction="Inbound")
    assert inbound["id"] != back["id"] and inbound["subject"] == "to olivia"

    assert _ids(olivia, direction="Outbound") == [pager["id"], handset["id"], out["id"]]
    assert _ids(olivia, direction=["Inbound", "Outbound"]) == _ids(olivia)
    assert _ids(olivia, messageType="Pager") == [pager["id"]]
    assert _ids(olivia, messageType="SMS") == [handset["id"], inbound["id"], out["id"]]
    assert _ids(olivia, messageType=["Fax", "VoiceMail", "Text"]) == []
    assert _ids(olivia, messageType=["Fax", "Pager"]) == [pager["id"]]
    assert _ids(olivia, readStatus="Unread") == [inbound["id"]]
    assert _ids(olivia, readStatus="Read") == [pager["id"], handset["id"], out["id"]]
    assert _ids(olivia, conversationId=out["conversationId"]) == [inbound["id"], out["id"]]
    assert _ids(olivia, phoneNumber=account.handset(3)) == [handset["id"]]
    # A `+` sent unencoded arrives as a space; separators are ignored.
    spaced = " " + account.handset(3)[1:]
    assert _ids(olivia, phoneNumber=spaced) == [handset["id"]]
    body = olivia.get(STORE, params={"phoneNumber": spaced}).json()
    assert _query(body["uri"])["phoneNumber"] == [account.handset(3)]
    # The newest message of each conversation.
    distinct = _ids(olivia, distinctConversations="true")
    assert distinct == [pager["id"], handset["id"], inbound["id"]]
    body = olivia.get(STORE, params={"messageType": "Pager", "readStatus": "Read"}).json()
    assert _query(body["uri"])["messageType"] == ["Pager"]
    assert _query(body["uri"])["readStatus"] == ["Read"]


def _follow(client: ApiClient, link: dict[str, str]) -> Any:
    uri = link["uri"]
    response = client.get(urlsplit(uri).path, params=_query(uri))
    assert response.status_code == 200, response.text
    return response.json()


def test_list_paging_and_navigation(account, client_for) -> None:
    """The list is not counted (docs/behaviour.md): nextPage says more records follow, and the
    totals and lastPage appear only on a page known to be the last one."""
    olivia = client_for(account, "101")
    sent = [_sms(olivia, account, f"m{i}")["id"] for i in range(5)]
    newest_first = sent[::-1]
    page1 = olivia.get(STORE, params={"perPage": 2}).json()
    assert [m["id"] for m in page1["records"]] == newest_first[:2]
    assert page1["paging"] == {"page": 1, "perPage": 2, "pageStart": 0, "pageEnd": 1}
    assert set(page1["navigation"]) == {"firstPage", "nextPage"}
    assert _query(page1["navigation"]["nextPage"]["uri"])["page"] == ["2"]
    page2 = _follow(olivia, page1["navigation"]["nextPage"])
    assert [m["id"] for m in page2["records"]] == newest_first[2:4]
    assert page2["paging"] == {"page": 2, "perPage": 2, "pageStart": 2, "pageEnd": 3}
    assert set(page2["navigation"]) == {"firstPage", "nextPage", "previousPage"}
    page3 = _follow(olivia, page2["navigation"]["nextPage"])
    assert [m["id"] for m in page3["records"]] == newest_first[4:]
    assert page3["paging"] == {
        "page": 3,
        "perPage": 2,
        "pageStart": 4,
        "pageEnd": 4,
        "totalPages": 3,
        "totalElements": 5,
    }
    assert set(page3["navigation"]) == {"firstPage", "previousPage", "lastPage"}
    assert _query(page3["navigation"]["lastPage"]["uri"])["page"] == ["3"]
    assert _follow(olivia, page3["navigation"]["previousPage"]) == page2
    assert _follow(olivia, page3["navigation"]["firstPage"]) == page1
    beyond = olivia.get(STORE, params={"perPage": 2, "page": 9}).json()
    assert beyond["records"] == []
    assert beyond["paging"] == {"page": 9, "perPage": 2}  # past the end: the total is unknown
    assert set(beyond["navigation"]) == {"firstPage", "previousPage"}
    capped = olivia.get(STORE, params={"perPage": 5000}).json()
    assert capped["paging"]["perPage"] == 1000
    assert capped["paging"]["totalElements"] == 5  # one page holds everything


def test_list_paging_exactly_full_pages(account, client_for) -> None:
    """A page that ends exactly where the records end cannot know it is the last one; the next,
    empty page says so."""
    olivia = client_for(account, "101")
    sent = [_sms(olivia, account, f"m{i}")["id"] for i in range(4)]
    page2 = olivia.get(STORE, params={"perPage": 2, "page": 2}).json()
    assert [m["id"] for m in page2["records"]] == sent[::-1][2:]
    assert page2["paging"]["totalElements"] == 4 and page2["paging"]["totalPages"] == 2
    assert "nextPage" not in page2["navigation"]
    whole = olivia.get(STORE, params={"perPage": 4}).json()
    assert whole["paging"]["totalElements"] == 4
    assert set(whole["navigation"]) == {"firstPage", "lastPage"}
    empty = client_for(account, "103").get(STORE).json()
    assert empty["records"] == []
    assert empty["paging"] == {"page": 1, "perPage": 100, "totalPages": 1, "totalElements": 0}
    assert set(empty["navigation"]) == {"firstPage", "lastPage"}


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("availability", "Gone"),
        ("conversationId", "abc"),
        ("conversationId", "99999999999999999999"),
        ("dateFrom", "yesterday"),
        ("dateTo", "2024-13-45"),
        ("direction", "Sideways"),
        ("distinctConversations", "maybe"),
        ("messageType", "Email"),
        ("readStatus", "Seen"),
        ("phoneNumber", "call-me"),
        ("page", "0"),
        ("perPage", "-1"),
    ],
)
def test_list_bad_values_name_the_parameter(account, client_for, parameter, value) -> None:
    olivia = client_for(account, "101")
    _error(olivia.get(STORE, params={parameter: value}), 400, "CMN-101", parameter)


def test_r14_list_reach(account, new_account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    sent = _sms(olivia, account, "hi")
    bob_id, olivia_id = account.ext("102").id, account.ext("101").id
    _error(bob.get(_store(olivia_id)), 403, "CMN-404")  # not an admin
    (bobs,) = olivia.get(_store(bob_id)).json()["records"]  # the admin reaches the account
    assert bobs["direction"] == "Inbound" and bobs["extensionId"] == str(bob_id)
    assert bobs["uri"].endswith(f"/extension/{bob_id}/message-store/{bobs['id']}")
    _error(olivia.get(_store(account.new_id(999_999))), 404, "CMN-102", "extensionId")
    stranger = client_for(new_account(), "101")  # an admin of another account
    _error(
        stranger.get(f"/restapi/v1.0/account/{account.id}/extension/{olivia_id}/message-store"),
        404,
        "CMN-102",
        "accountId",
    )
    _error(stranger.get(_store(olivia_id)), 404, "CMN-102", "extensionId")
    _error(stranger.get(f"{_store(olivia_id)}/{sent['id']}"), 404, "CMN-102")


# -- readMessage --------------------------------------------------------------------------------


def test_read_by_id_and_r15_deleted_and_purged_stay_readable(account, client_for) -> None:
    olivia = client_for(account, "101")
    sent = _sms(olivia, account, "keep me")
    record = _get(olivia, sent["id"]).json()
    assert record == {**sent, "extensionId": str(account.ext("101").id)}
    assert olivia.delete(f"{STORE}/{sent['id']}").status_code == 204
    deleted = _get(olivia, sent["id"]).json()
    assert deleted["availability"] == "Deleted" and deleted["subject"] == "keep me"
    assert olivia.delete(f"{STORE}/{sent['id']}").status_code == 204
    purged = _get(olivia, sent["id"]).json()
    assert purged["availability"] == "Purged"
    assert "subject" not in purged and "attachments" not in purged


def test_read_unknown_or_foreign_ids(account, client_for) -> None:
    olivia, bob, carol = (client_for(account, n) for n in ("101", "102", "103"))
    sent = _sms(olivia, account, "for bob")
    (bobs,) = records(bob)
    for client, message_id in ((bob, sent["id"]), (carol, bobs["id"]), (bob, 1), (bob, "abc")):
        response = _get(client, message_id)
        _error(response, 404, "CMN-102", "messageId")
        assert response.json()["message"] == "Resource for parameter [messageId] is not found"
    _error(_get(bob, sent["id"], account.ext("101").id), 403, "CMN-404")
    assert _get(olivia, bobs["id"], account.ext("102").id).json()["id"] == bobs["id"]


def test_bulk_read_multipart_as_the_sdks_parse_it(account, client_for) -> None:
    olivia = client_for(account, "101")
    a, b = _sms(olivia, account, "a")["id"], _sms(olivia, account, "b")["id"]
    for accept in (None, "*/*", "application/json"):
        headers = {} if accept is None else {"Accept": accept}
        response = olivia.get(f"{STORE}/{b},999,{a}", headers=headers)
        assert response.status_code == 207
        assert response.headers["content-type"].startswith("multipart/mixed; charset=UTF-8;")
        assert "; boundary=Boundary_" in response.headers["content-type"]
        for parts in (_python_sdk_parts(response), _js_sdk_parts(response)):
            assert [status for status, _ in parts] == [200, 404, 200]
            bodies = [json.loads(payload) for _, payload in parts]
            assert [bodies[0]["id"], bodies[2]["id"]] == [b, a]
            assert bodies[1]["errorCode"] == "CMN-102"
            assert bodies[1]["message"] == "Resource for parameter [messageId] is not found"
    response = olivia.get(f"{STORE}/{a},")  # a trailing comma still asks for a bulk answer
    assert response.status_code == 207
    assert [s for s, _ in _python_sdk_parts(response)] == [200]


def test_bulk_read_json_array(account, client_for) -> None:
    olivia = client_for(account, "101")
    a = _sms(olivia, account, "a")["id"]
    response = olivia.get(f"{STORE}/{a},999", headers={"Accept": VND})
    assert response.status_code == 207
    assert response.headers["content-type"].startswith(VND)
    items = response.json()
    assert [(i["resourceId"], i["status"]) for i in items] == [(str(a), 200), ("999", 404)]
    assert items[0]["body"]["id"] == a and items[0]["body"]["subject"] == "a"
    assert items[1]["body"]["errorCode"] == "CMN-102"


def test_bulk_is_limited_to_50_ids(account, client_for) -> None:
    olivia = client_for(account, "101")
    many = ",".join(str(i) for i in range(1, 52))
    _error(olivia.get(f"{STORE}/{many}"), 400, "CMN-106")
    _error(olivia.put(f"{STORE}/{many}", json={"readStatus": "Read"}), 400, "CMN-106")
    _error(olivia.delete(f"{STORE}/{many}"), 400, "CMN-106")


# -- updateMessage / patchMessage ---------------------------------------------------------------


def test_update_read_status(account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    _sms(olivia, account, "read me")
    (bobs,) = records(bob)
    assert bobs["readStatus"] == "Unread"
    time.sleep(0.01)  # so that the new lastModifiedTime is a later millisecond
    read = bob.put(f"{STORE}/{bobs['id']}", json={"readStatus": "Read"})
    assert read.status_code == 200, read.text
    assert read.json()["readStatus"] == "Read"
    assert _ms(read.json()["lastModifiedTime"]) > _ms(bobs["lastModifiedTime"])
    assert read.json()["creationTime"] == bobs["creationTime"]
    assert _get(bob, bobs["id"]).json() == read.json()
    unread = bob.patch(f"{STORE}/{bobs['id']}", json={"readStatus": "Unread"})
    assert unread.status_code == 200 and unread.json()["readStatus"] == "Unread"
    assert _ids(bob, readStatus="Unread") == [bobs["id"]]


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"readStatus": "Read", "availability": "Alive"}, "availability"),
        ({"subject": "rewritten"}, "subject"),
        ({"readStatus": "Read", "priority": "High"}, "priority"),
        ({}, "readStatus"),
        ({"readStatus": "Seen"}, "readStatus"),
        ({"readStatus": 1}, "readStatus"),
        ({"readStatus": None}, "readStatus"),
        ([{"body": {"readStatus": "Read"}}], "body"),
    ],
)
def test_r15_only_read_status_can_change(account, client_for, body, parameter) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    _sms(olivia, account, "untouchable")
    (before,) = records(bob)
    for method in ("PUT", "PATCH"):
        response = bob.request(method, f"{STORE}/{before['id']}", json=body)
        _error(response, 400, "CMN-101", parameter)
    assert _get(bob, before["id"]).json() == before


def test_update_bad_json_changes_nothing(account, client_for) -> None:
    olivia = client_for(account, "101")
    sent = _sms(olivia, account, "x")
    response = olivia.put(
        f"{STORE}/{sent['id']}", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    _error(response, 400, "CMN-103")
    _error(olivia.put(f"{STORE}/999", json={"readStatus": "Read"}), 404, "CMN-102", "messageId")
    assert _get(olivia, sent["id"]).json() == {**sent, "extensionId": str(account.ext("101").id)}


def test_bulk_update(account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    for text in ("one", "two"):
        _sms(olivia, account, text)
    two, one = _ids(bob)
    response = bob.put(f"{STORE}/{one},999,{two}", json={"readStatus": "Read"})
    assert response.status_code == 207
    parts = _python_sdk_parts(response)
    assert [s for s, _ in parts] == [200, 404, 200]
    assert [json.loads(parts[i][1])["readStatus"] for i in (0, 2)] == ["Read", "Read"]
    assert _ids(bob, readStatus="Read") == [two, one]
    # One body per id: as a vnd.ringcentral.multipart+json array ...
    response = bob.put(
        f"{STORE}/{one},{two}",
        json=[{"body": {"readStatus": "Unread"}}, {"resourceId": str(two), "body": {}}],
        headers={"Accept": VND},
    )
    _error(response, 400, "CMN-101", "readStatus")  # every body is checked first
    response = bob.put(
        f"{STORE}/{one},{two}",
        json=[{"body": {"readStatus": "Unread"}}, {"body": {"readStatus": "Read"}}],
        headers={"Accept": VND, "Content-Type": VND},
    )
    assert response.status_code == 207
    assert [i["body"]["readStatus"] for i in response.json()] == ["Unread", "Read"]
    # ... or as multipart/mixed with one JSON part per id.
    boundary = "ringlet-test"
    multipart = (
        "".join(
            f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(b)}\r\n"
            for b in ({"readStatus": "Read"}, {"readStatus": "Unread"})
        )
        + f"--{boundary}--\r\n"
    )
    response = bob.put(
        f"{STORE}/{one},{two}",
        content=multipart,
        headers={"Content-Type": f"multipart/mixed; boundary={boundary}"},
    )
    assert response.status_code == 207
    assert [json.loads(p)["readStatus"] for _, p in _python_sdk_parts(response)] == [
        "Read",
        "Unread",
    ]


# -- deleteMessage / deleteMessageByFilter -----------------------------------------------------


def test_r15_delete_lifecycle(account, client_for) -> None:
    olivia = client_for(account, "101")
    first, second = _sms(olivia, account, "first"), _sms(olivia, account, "second")
    # The SDKs send JSON headers, even a JSON body, on DELETE.
    response = olivia.delete(
        f"{STORE}/{first['id']}", json={}, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 204 and response.content == b""
    deleted = _get(olivia, first["id"]).json()
    assert deleted["availability"] == "Deleted"
    assert _ms(deleted["lastModifiedTime"]) >= _ms(first["lastModifiedTime"])
    assert _ids(olivia) == [second["id"]]
    assert _ids(olivia, availability="Deleted") == [first["id"]]
    assert olivia.get(f"{STORE}/{first['id']}/content/1").text == "first"

    assert olivia.delete(f"{STORE}/{first['id']}").status_code == 204  # a second delete purges
    assert _get(olivia, first["id"]).json()["availability"] == "Purged"
    assert _ids(olivia, availability=["Deleted", "Purged"]) == [first["id"]]
    _error(olivia.get(f"{STORE}/{first['id']}/content/1"), 404, "CMN-102")
    assert olivia.delete(f"{STORE}/{first['id']}").status_code == 204  # and stays Purged

    _error(
        olivia.delete(f"{STORE}/{second['id']}", params={"purge": "perhaps"}),
        400,
        "CMN-101",
        "purge",
    )
    assert _get(olivia, second["id"]).json()["availability"] == "Alive"
    assert olivia.delete(f"{STORE}/{second['id']}", params={"purge": "true"}).status_code == 204
    assert _get(olivia, second["id"]).json()["availability"] == "Purged"
    _error(olivia.delete(f"{STORE}/999"), 404, "CMN-102", "messageId")


def test_bulk_delete(account, client_for) -> None:
    olivia = client_for(account, "101")
    a, b, c = (_sms(olivia, account, t)["id"] for t in ("a", "b", "c"))
    response = olivia.delete(f"{STORE}/{a},{b}")
    assert response.status_code == 204  # every id deleted: no per-id answer (facts 3)
    assert _ids(olivia, availability="Deleted") == [b, a]
    response = olivia.delete(f"{STORE}/{c},999")
    assert response.status_code == 207
    assert [s for s, _ in _python_sdk_parts(response)] == [204, 404]
    assert [s for s, _ in _js_sdk_parts(response)] == [204, 404]
    response = olivia.delete(f"{STORE}/{c},999", headers={"Accept": VND})
    assert response.status_code == 207
    assert [(i["resourceId"], i["status"]) for i in response.json()] == [
        (str(c), 204),
        ("999", 404),
    ]
    assert _get(olivia, c).json()["availability"] == "Purged"


def test_r14_writes_to_another_extension(account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    sent = _sms(bob, account, "bob to olivia", frm="102", to="101")
    (olivias,) = records(olivia, direction="Inbound")
    olivia_id, bob_id = account.ext("101").id, account.ext("102").id
    foreign = f"{_store(olivia_id)}/{olivias['id']}"
    _error(bob.put(foreign, json={"readStatus": "Read"}), 403, "CMN-404")
    _error(bob.delete(foreign), 403, "CMN-404")
    _error(
        bob.delete(_store(olivia_id), params={"conversationId": sent["conversationId"]}),
        403,
        "CMN-404",
    )
    assert _get(olivia, olivias["id"]).json() == olivias
    # The admin may write to any extension of the account.
    mine = f"{_store(bob_id)}/{sent['id']}"
    assert olivia.put(mine, json={"readStatus": "Unread"}).json()["readStatus"] == "Unread"
    assert olivia.delete(mine).status_code == 204
    assert _get(bob, sent["id"]).json()["availability"] == "Deleted"


def test_delete_conversations(account, client_for) -> None:
    olivia = client_for(account, "101")
    sms = _sms(olivia, account, "sms")
    pager = _pager(olivia, ["102"], "pager")
    handset = send_sms(olivia, account.ext("101").number, account.handset(4), "mobile").json()
    conversations = {"conversationId": [sms["conversationId"], pager["conversationId"]]}
    assert olivia.delete(STORE, params={**conversations, "type": "Fax"}).status_code == 204
    assert olivia.delete(STORE, params={**conversations, "type": "Pager"}).status_code == 204
    assert _ids(olivia) == [handset["id"], sms["id"]]
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert olivia.delete(STORE, params={**conversations, "dateTo": yesterday}).status_code == 204
    assert _ids(olivia) == [handset["id"], sms["id"]]  # nothing that old
    assert olivia.delete(STORE, params=conversations).status_code == 204
    assert _ids(olivia) == [handset["id"]]
    assert _ids(olivia, availability="Deleted") == [pager["id"], sms["id"]]


@pytest.mark.parametrize(
    ("params", "status", "code", "parameter"),
    [
        ({}, 400, "CMN-101", "conversationId"),
        ({"conversationId": "abc"}, 400, "CMN-101", "conversationId"),
        ({"conversationId": "1", "type": "Email"}, 400, "CMN-101", "type"),
        ({"conversationId": "1", "dateTo": "soon"}, 400, "CMN-101", "dateTo"),
        ({"conversationId": [str(i) for i in range(1, 52)]}, 400, "CMN-106", None),
    ],
)
def test_delete_conversations_bad_input(account, client_for, params, status, code, parameter):
    olivia = client_for(account, "101")
    sent = _sms(olivia, account, "stays")
    _error(olivia.delete(STORE, params=params), status, code, parameter)
    assert _ids(olivia) == [sent["id"]]


# -- readMessageContent --------------------------------------------------------------------------


def test_content(account, client_for) -> None:
    olivia = client_for(account, "101")
    sent = _sms(olivia, account, "Grüße 👋")
    content = f"{STORE}/{sent['id']}/content/1"
    whole = olivia.get(content)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "text/plain; charset=UTF-8"
    assert whole.headers["content-disposition"] == "inline"
    assert whole.content == "Grüße 👋".encode()
    download = olivia.get(content, params={"contentDisposition": "Attachment"})
    assert download.headers["content-disposition"] == f'attachment; filename="{sent["id"]}.txt"'
    _error(
        olivia.get(content, params={"contentDisposition": "Download"}),
        400,
        "CMN-101",
        "contentDisposition",
    )
    _error(olivia.get(f"{STORE}/{sent['id']}/content/2"), 404, "CMN-102", "attachmentId")
    _error(olivia.get(f"{STORE}/999/content/1"), 404, "CMN-102", "messageId")


def test_content_ranges(account, client_for) -> None:
    olivia = client_for(account, "101")
    sent = _sms(olivia, account, "0123456789")
    content = f"{STORE}/{sent['id']}/content/1"
    for header, part, content_range in (
        ("bytes=2-4", b"234", "bytes 2-4/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-2", b"89", "bytes 8-9/10"),
        ("bytes=8-100", b"89", "bytes 8-9/10"),
    ):
        response = olivia.get(content, headers={"Range": header})
        assert response.status_code == 206, header
        assert response.content == part
        assert response.headers["content-range"] == content_range
    for ignored in ("lines=1-2", "bytes=4-2", "bytes=0-1,4-5"):
        response = olivia.get(content, headers={"Range": ignored})
        assert response.status_code == 200 and response.content == b"0123456789"
    unsatisfiable = olivia.get(content, headers={"Range": "bytes=10-"})
    _error(unsatisfiable, 416, "CMN-107")
    assert unsatisfiable.headers["content-range"] == "bytes */10"


# -- R12 --------------------------------------------------------------------------------------


def test_r12_leaving_a_department_hides_its_threads(account, client_for) -> None:
    olivia, carol = client_for(account, "101"), client_for(account, "103")
    thread = _pager(olivia, ["201"], "to the queue")
    sms = _sms(olivia, account, "sms to carol stays", to="103")
    (carols_pager,) = records(carol, messageType="Pager")
    assert carols_pager["conversationId"] == thread["conversationId"]
    removed = remove_from_department(olivia, account, "201", "103")
    assert removed.status_code in (200, 204), removed.text
    assert [m["subject"] for m in records(carol)] == [sms["subject"]]
    assert _ids(carol, conversationId=thread["conversationId"]) == []
    _error(_get(carol, carols_pager["id"]), 404, "CMN-102", "messageId")
    _error(olivia.get(f"{_store(account.ext('103').id)}/{carols_pager['id']}"), 404, "CMN-102")
    _error(carol.get(f"{STORE}/{carols_pager['id']}/content/1"), 404, "CMN-102")
    _error(carol.put(f"{STORE}/{carols_pager['id']}", json={"readStatus": "Read"}), 404, "CMN-102")
    _error(carol.delete(f"{STORE}/{carols_pager['id']}"), 404, "CMN-102")
    # The sender, an explicit member, still has the thread.
    assert thread["id"] in _ids(olivia)
    # The hidden message is not a record of the list's pages either: it neither fills a page
    # nor announces a next one.
    page = carol.get(STORE, params={"perPage": 1}).json()
    assert [m["subject"] for m in page["records"]] == [sms["subject"]]
    assert "nextPage" not in page["navigation"]
    assert page["paging"]["totalElements"] == 1
