"""distinctConversations through the HTTP API, after every kind of write that moves the newest
message of a conversation: sends, deletes (one message, a conversation), purges, restores of
read status and R12 membership changes (imported history: tests/e2e/test_import_messages.py).

Without dateTo the list reads conversation_heads (store/conversation_heads.py); with a dateTo
it walks its window as before. Both must agree with each other and with the newest message of
each conversation picked from the plain list, at every step.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.messaging import (
    EXT,
    records,
    remove_from_department,
    send_pager,
    send_sms,
    sent,
)
from tests.support.client import ApiClient

pytestmark = pytest.mark.usefixtures("server")

STORE = f"{EXT}/message-store"
SINCE = "2020-01-01T00:00:00Z"


def _until() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _newest_of_each(listed: list[Any]) -> list[int]:
    seen: set[str] = set()
    newest = []
    for m in listed:  # newest first
        if m["conversationId"] not in seen:
            seen.add(m["conversationId"])
            newest.append(m["id"])
    return newest


def distinct(client: ApiClient, **params: Any) -> list[int]:
    """The distinct list read from the heads, checked against the walk and the plain list."""
    params.setdefault("dateFrom", SINCE)
    heads = [m["id"] for m in records(client, distinctConversations="true", **params)]
    walked = [
        m["id"] for m in records(client, distinctConversations="true", dateTo=_until(), **params)
    ]
    assert heads == walked
    assert heads == _newest_of_each(records(client, **params))
    return heads


def test_distinct_follows_sends_deletes_and_purges(account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    o, b, handset = account.ext("101").number, account.ext("102").number, account.handset(7)
    first = sent(send_sms(olivia, o, b, "one"))
    second_sent = sent(send_sms(bob, b, o, "two"))  # the same conversation, from the other side
    (second,) = records(olivia, direction="Inbound")  # olivia's copy of it
    mobile_1 = sent(send_sms(olivia, o, handset, "to the phone"))
    mobile_2 = sent(send_sms(olivia, o, handset, "again"))
    pager = sent(send_pager(olivia, ["102"], "page"))
    assert distinct(olivia) == [pager["id"], mobile_2["id"], second["id"]]
    (bobs_pager,) = records(bob, messageType="Pager")
    assert distinct(bob) == [bobs_pager["id"], second_sent["id"]]

    # Reading changes nothing; deleting the newest makes the one before it the head.
    assert olivia.put(f"{STORE}/{mobile_2['id']}", json={"readStatus": "Read"}).status_code == 200
    assert olivia.delete(f"{STORE}/{mobile_2['id']}").status_code == 204
    assert distinct(olivia) == [pager["id"], mobile_1["id"], second["id"]]
    assert distinct(olivia, availability="Deleted") == [mobile_2["id"]]

    # A whole conversation deleted: gone from the Alive heads, its newest the Deleted head.
    response = olivia.delete(STORE, params={"conversationId": second["conversationId"]})
    assert response.status_code == 204
    assert distinct(olivia) == [pager["id"], mobile_1["id"]]
    assert distinct(olivia, availability="Deleted") == [mobile_2["id"], second["id"]]
    assert distinct(bob) == [bobs_pager["id"], second_sent["id"]]  # bob's copies are his own

    # Purging the Deleted head moves it to the Purged heads.
    assert olivia.delete(f"{STORE}/{second['id']}").status_code == 204
    assert distinct(olivia, availability="Deleted") == [mobile_2["id"], first["id"]]
    assert distinct(olivia, availability="Purged") == [second["id"]]
    assert distinct(olivia, availability=["Deleted", "Purged"]) == [
        mobile_2["id"],
        second["id"],
    ]

    # A new message revives the conversation in the Alive list, as its only Alive message.
    third = sent(send_sms(olivia, o, b, "three"))
    assert distinct(olivia) == [third["id"], pager["id"], mobile_1["id"]]
    # Paging and dateFrom over the heads.
    page = records(olivia, distinctConversations="true", perPage=1, page=2)
    assert [m["id"] for m in page] == [pager["id"]]
    after = datetime.fromisoformat(pager["creationTime"].replace("Z", "+00:00"))
    assert distinct(olivia, dateFrom=after.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z") == [
        third["id"],
        pager["id"],
    ]


def test_distinct_hides_threads_the_reader_left(account, client_for) -> None:
    olivia, carol = client_for(account, "101"), client_for(account, "103")
    thread = sent(send_pager(olivia, ["201"], "to the queue"))
    sent(send_sms(olivia, account.ext("101").number, account.ext("103").number, "stays"))
    (sms,) = records(carol, messageType="SMS")  # carol's copy
    assert distinct(carol) == [sms["id"], _carols_copy(carol, thread)]
    removed = remove_from_department(olivia, account, "201", "103")
    assert removed.status_code in (200, 204), removed.text
    assert distinct(carol) == [sms["id"]]
    assert thread["id"] in distinct(olivia)


def _carols_copy(carol: ApiClient, thread: Any) -> int:
    (copy,) = records(carol, messageType="Pager")
    assert copy["conversationId"] == thread["conversationId"]
    return int(copy["id"])
