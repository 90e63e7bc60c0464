"""The message record (ringlet/message_json.py) and list paging (api/paging.py) on plain
objects: the record is the shape RingCentral documents, every string in it is escaped, and a
list that is not counted carries its totals only on a page known to be the last."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from ringlet.api import wire
from ringlet.api.paging import PageRequest, paged_body
from ringlet.clock import iso
from ringlet.domain.enums import Availability, Direction, MessageStatus, MessageType, ReadStatus
from ringlet.domain.model import Message, Party
from ringlet.message_json import RecordWriter, stored_record

# Everything JSON must escape, and text beyond ASCII.
AWKWARD = 'quote " backslash \\ slash / newline \n tab \t nul \x00 bell \x07 ü 👋 \u2028'
BASE = 'http://host:8080/odd"path\\'


def _message(**changes: Any) -> Message:
    fields: dict[str, Any] = {
        "id": 42,
        "account_id": 7,
        "extension_id": 8,
        "type": MessageType.SMS,
        "direction": Direction.OUTBOUND,
        "sender": Party(phone_number="+16505550100", name=AWKWARD),
        "recipients": (Party(phone_number="+16505550101"),),
        "subject": AWKWARD,
        "conversation_id": 4_503_599_627_370_497,
        "message_status": MessageStatus.SENT,
        "read_status": ReadStatus.READ,
        "availability": Availability.ALIVE,
        "creation_time_ms": 1_700_000_000_123,
        "last_modified_ms": 1_700_000_999_456,
        "pg_to_department": None,
    }
    fields.update(changes)
    return Message(**fields)


def _decoded(raw: msgspec.Raw) -> Any:
    return json.loads(bytes(raw))


def test_sms_record_is_the_documented_shape_with_every_string_escaped() -> None:
    record = _decoded(wire.message(_message(), BASE))
    uri = f"{BASE}/restapi/v1.0/account/7/extension/8/message-store/42"
    assert record == {
        "id": 42,
        "uri": uri,
        "extensionId": "8",
        "type": "SMS",
        "direction": "Outbound",
        "from": {"phoneNumber": "+16505550100", "name": AWKWARD},
        "to": [{"phoneNumber": "+16505550101"}],
        "creationTime": "2023-11-14T22:13:20.123Z",
        "lastModifiedTime": "2023-11-14T22:29:59.456Z",
        "readStatus": "Read",
        "priority": "Normal",
        "availability": "Alive",
        "messageStatus": "Sent",
        "conversationId": 4_503_599_627_370_497,
        "conversation": {"id": "4503599627370497"},
        "subject": AWKWARD,
        "attachments": [
            {"id": 1, "uri": f"{uri}/content/1", "type": "Text", "contentType": "text/plain"}
        ],
        "smsSendingAttemptsCount": 1,
    }


def test_pager_record_parties_and_department_flag() -> None:
    olivia = Party(extension_number="101", extension_id=100, name="Olivia")
    queue = Party(extension_number="201", extension_id=201, name="Queue", target=True)
    bob = Party(extension_number="102", extension_id=102, message_status=MessageStatus.RECEIVED)
    record = _decoded(
        wire.message(
            _message(
                type=MessageType.PAGER,
                direction=Direction.INBOUND,
                sender=olivia,
                recipients=(olivia, queue, bob),
                pg_to_department=True,
                read_status=ReadStatus.UNREAD,
                message_status=MessageStatus.RECEIVED,
            ),
            "http://h",
        )
    )
    assert record["from"] == {"extensionNumber": "101", "extensionId": "100", "name": "Olivia"}
    assert record["to"][1] == {
        "extensionNumber": "201",
        "extensionId": "201",
        "name": "Queue",
        "target": True,
    }
    assert record["to"][2]["messageStatus"] == "Received"
    assert record["pgToDepartment"] is True
    assert "smsSendingAttemptsCount" not in record
    assert (record["readStatus"], record["messageStatus"]) == ("Unread", "Received")


def test_purged_record_keeps_only_metadata() -> None:
    record = _decoded(wire.message(_message(availability=Availability.PURGED), "http://h"))
    assert record["availability"] == "Purged"
    assert "subject" not in record and "attachments" not in record
    assert record["from"]["name"] == AWKWARD  # the fixed part stays


def test_send_response_is_the_record_without_extension_id() -> None:
    m = _message()
    sent = _decoded(wire.sent_message(m, BASE))
    stored = _decoded(wire.message(m, BASE))
    assert "extensionId" not in sent
    assert {**sent, "extensionId": "8"} == stored


def test_list_records_are_the_records_read_by_id() -> None:
    """One writer for every answer: the list writes a stored row exactly as read-by-id writes
    the message it holds."""
    m = _message()
    row = stored_record(m)
    listed = wire.records([row, row], BASE, m.account_id, m.extension_id)
    assert [bytes(r) for r in listed] == [bytes(wire.message(m, BASE))] * 2
    assert bytes(RecordWriter("x", None)(row)).endswith(b"}")


@pytest.mark.parametrize(
    "ms",
    [0, 1, 999, 1000, -1, -1001, 1_700_000_000_123, 253_402_300_799_999, -62_135_596_800_000],
)
def test_iso_matches_datetime(ms: int) -> None:
    from datetime import UTC, datetime

    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    # The year with four digits, as ISO 8601 has it (glibc's %Y writes year 1 as "1").
    expected = f"{dt.year:04d}" + dt.strftime("-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    assert iso(ms) == expected


# -- paging -------------------------------------------------------------------------------------


def _page(records: int, total: int | None, page: int, per_page: int, **kw: Any) -> Any:
    return paged_body(
        list(range(records)), total, PageRequest(page, per_page), "http://h/l", [("a", "b")], **kw
    )


def test_counted_lists_are_unchanged() -> None:
    body = _page(2, 5, 1, 2)
    assert body["uri"] == "http://h/l?a=b&page=1&perPage=2"
    assert body["paging"] == {
        "page": 1,
        "perPage": 2,
        "pageStart": 0,
        "pageEnd": 1,
        "totalPages": 3,
        "totalElements": 5,
    }
    assert list(body["navigation"]) == ["firstPage", "nextPage", "lastPage"]
    assert body["navigation"]["lastPage"]["uri"] == "http://h/l?a=b&page=3&perPage=2"


def test_uncounted_page_with_more_records_has_no_totals() -> None:
    body = _page(2, None, 2, 2, has_more=True)
    assert body["paging"] == {"page": 2, "perPage": 2, "pageStart": 2, "pageEnd": 3}
    assert list(body["navigation"]) == ["firstPage", "nextPage", "previousPage"]
    assert body["navigation"]["nextPage"]["uri"] == "http://h/l?a=b&page=3&perPage=2"


def test_uncounted_last_page_knows_the_total() -> None:
    body = _page(1, None, 3, 2)
    assert body["paging"]["totalElements"] == 5 and body["paging"]["totalPages"] == 3
    assert list(body["navigation"]) == ["firstPage", "previousPage", "lastPage"]
    empty = _page(0, None, 1, 2)
    assert empty["paging"] == {"page": 1, "perPage": 2, "totalPages": 1, "totalElements": 0}


def test_uncounted_page_past_the_end_knows_nothing() -> None:
    body = _page(0, None, 9, 2)
    assert body["paging"] == {"page": 9, "perPage": 2}
    assert list(body["navigation"]) == ["firstPage", "previousPage"]
    assert body["navigation"]["previousPage"]["uri"] == "http://h/l?a=b&page=8&perPage=2"
