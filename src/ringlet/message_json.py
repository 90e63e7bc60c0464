"""The JSON record of a stored message (GetMessageInfoResponse, R11), written by one code path
for every answer that carries one: the list, read by id (also inside 207 parts), update,
message-sync, and the send response (which lacks `extensionId`). Shapes cannot drift apart.

A record is built from two parts, so that a page of 100 records costs neither JSON decoding nor a
dict per record:

- the *fixed* members, which never change once a message is stored: type, direction, from, to,
  conversationId, conversation, priority, creationTime, and pgToDepartment (Pager) or
  smsSendingAttemptsCount (SMS). `fixed_members` encodes them once, when the message is stored,
  and the store keeps the text in `messages.fixed_json` (store/messages.py);
- the rest, added by `RecordWriter` at read time: the id and uris (they depend on the request's
  base URL), readStatus, availability, messageStatus, lastModifiedTime, deliveryErrorCode and
  smsDeliveryTime (they change), subject
  and attachments (a Purged message loses them, R15), and extensionId.

Every string that reaches the output is escaped by msgspec's encoder; only ASCII digits and the
constants below are written as they are. `fixed_members` output is stored data: changing what it
produces needs a migration that renders `messages.fixed_json` again (as 0002 filled it).
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from ringlet.clock import iso
from ringlet.domain.enums import (
    Availability,
    Direction,
    MessageStatus,
    MessageType,
    ReadStatus,
)
from ringlet.domain.model import Message, Party

TEXT_ATTACHMENT_ID = 1  # R11: the one attachment of an SMS or Pager message is number 1

# What a record needs at read time, in the order store/messages.py selects it:
# (id, fixed_json, subject, read_status, availability, message_status, modified_ms, creation_ms,
#  delivery_error_code, sms_delivery_ms): the last two are set on SMS sent to a handset only.
StoredRecord = tuple[int, str, str, str, str, str, int, int, str | None, int | None]

_encoder = msgspec.json.Encoder()


class FixedPart(Protocol):
    """What `fixed_members` reads: a NewMessage being stored, or a stored Message."""

    @property
    def type(self) -> MessageType: ...
    @property
    def direction(self) -> Direction: ...
    @property
    def sender(self) -> Party: ...
    @property
    def recipients(self) -> tuple[Party, ...]: ...
    @property
    def conversation_id(self) -> int: ...
    @property
    def pg_to_department(self) -> bool | None: ...


def party(p: Party) -> dict[str, object]:
    out: dict[str, object] = {}
    if p.phone_number is not None:
        out["phoneNumber"] = p.phone_number
    if p.extension_number is not None:
        out["extensionNumber"] = p.extension_number
    if p.extension_id is not None:
        out["extensionId"] = str(p.extension_id)
    if p.name is not None:
        out["name"] = p.name
    if p.target is not None:
        out["target"] = p.target
    if p.message_status is not None:
        out["messageStatus"] = p.message_status.value
    return out


def fixed_members(m: FixedPart, creation_ms: int) -> str:
    """The members of the record that never change, as JSON object members without the braces
    (`"type":"SMS",...`): what `messages.fixed_json` holds."""
    fixed: dict[str, object] = {
        "type": m.type.value,
        "direction": m.direction.value,
        "from": party(m.sender),
        "to": [party(r) for r in m.recipients],
        "conversationId": m.conversation_id,
        "conversation": {"id": str(m.conversation_id)},
        "priority": "Normal",
        "creationTime": iso(creation_ms),
    }
    if m.type is MessageType.PAGER:
        fixed["pgToDepartment"] = bool(m.pg_to_department)
    elif m.type is MessageType.SMS:
        fixed["smsSendingAttemptsCount"] = 1
    return _encoder.encode(fixed)[1:-1].decode()


def stored_record(m: Message) -> StoredRecord:
    """The read-time form of a Message (the send response, read by id, update): the fixed part
    is rendered by the very function that filled the stored column."""
    return (
        m.id,
        fixed_members(m, m.creation_time_ms),
        m.subject,
        m.read_status.value,
        m.availability.value,
        m.message_status.value,
        m.last_modified_ms,
        m.creation_time_ms,
        m.delivery_error_code,
        m.sms_delivery_ms,
    )


class _Tokens(dict[str, str]):
    """The JSON of the values of the columns that change (readStatus, availability,
    messageStatus), encoded once; a value met for the first time is encoded then."""

    def __missing__(self, value: str) -> str:
        token = _encoder.encode(value).decode()
        self[value] = token
        return token


_TOKENS = _Tokens(
    (member.value, _encoder.encode(member.value).decode())
    for kind in (ReadStatus, Availability, MessageStatus)
    for member in kind
)
_PURGED = Availability.PURGED.value


class RecordWriter:
    """Writes the records of one extension's store for one response: `store_uri` is the store's
    canonical uri (`.../extension/{id}/message-store`); `extension_id` None leaves extensionId
    out (the send response).

    Records are assembled as text with f-strings (the cheapest way found in CPython: 0.9 us a
    record, where a Message built from the row, its parties decoded, then a dict encoded by
    msgspec took 14 us) from pieces that are each valid JSON already: the stored fixed part,
    tokens and strings encoded by msgspec, decimal ids, and the constants here."""

    __slots__ = ("_tail", "_uri", "key")

    def __init__(self, store_uri: str, extension_id: int | None) -> None:
        # The uri prefix as an open JSON string: `"https://host/.../message-store/`. JSON escapes
        # character by character, so appending the id's digits and closing the quote later
        # yields exactly the encoding of the whole uri.
        self._uri = _encoder.encode(store_uri + "/").decode()[:-1]
        self._tail = (
            "}"
            if extension_id is None
            else ',"extensionId":' + _encoder.encode(str(extension_id)).decode() + "}"
        )
        # What makes two writers' output differ, for memos of rendered records.
        self.key = (self._uri, self._tail)

    def raw(self, records: list[StoredRecord]) -> list[msgspec.Raw]:
        """The records as pre-encoded values, to place in a body that msgspec encodes. One loop
        over the page, with everything it needs in locals: the hot path of the list."""
        uri, tail = self._uri, self._tail
        tokens, purged, encode = _TOKENS, _PURGED, _encoder.encode
        out = []
        for (
            message_id,
            fixed,
            subject,
            read_status,
            availability,
            message_status,
            modified,
            _creation,  # in fixed already
            error_code,
            delivery_ms,
        ) in records:
            head = (
                f'{{"id":{message_id},"uri":{uri}{message_id}",{fixed},'
                f'"readStatus":{tokens[read_status]},"availability":{tokens[availability]},'
                f'"messageStatus":{tokens[message_status]},"lastModifiedTime":"{iso(modified)}"'
            )
            if error_code is not None:  # a carrier's failure (carrier/)
                head += f',"deliveryErrorCode":{encode(error_code).decode()}'
            if delivery_ms is not None:  # the carrier's delivery receipt
                head += f',"smsDeliveryTime":"{iso(delivery_ms)}"'

            if availability == purged:  # R15: a purged message keeps only its metadata
                text = head + tail
            else:
                text = (
                    f'{head},"subject":{encode(subject).decode()},"attachments":[{{"id":'
                    f'{TEXT_ATTACHMENT_ID},"uri":{uri}{message_id}/content/{TEXT_ATTACHMENT_ID}'
                    f'","type":"Text","contentType":"text/plain"}}]{tail}'
                )
            out.append(msgspec.Raw(text.encode()))
        return out

    def __call__(self, record: StoredRecord) -> msgspec.Raw:
        """One record (read by id, the send response): the list's code, for one."""
        return self.raw([record])[0]
