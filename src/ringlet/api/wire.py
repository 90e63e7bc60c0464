"""Domain objects -> RingCentral's JSON shapes. camelCase lives here and nowhere else, but for
the message record, which ringlet/message_json.py writes (part of it is stored pre-encoded)."""

from __future__ import annotations

import msgspec

from ringlet.api.uris import message_store_uri
from ringlet.domain.model import Message
from ringlet.message_json import TEXT_ATTACHMENT_ID, RecordWriter, StoredRecord, stored_record

__all__ = ["TEXT_ATTACHMENT_ID", "message", "record_writer", "records", "sent_message"]


def record_writer(base: str, account_id: int, extension_id: int) -> RecordWriter:
    """Writes GetMessageInfoResponse records of one extension's store (the list, message-sync)
    as pre-encoded values for a body that msgspec encodes."""
    return RecordWriter(message_store_uri(base, account_id, extension_id), extension_id)


def records(
    found: list[StoredRecord], base: str, account_id: int, extension_id: int
) -> list[msgspec.Raw]:
    """`record_writer`'s records of `found`."""
    return record_writer(base, account_id, extension_id).raw(found)


def message(m: Message, base: str) -> msgspec.Raw:
    """GetMessageInfoResponse (R11). A purged message keeps only its metadata."""
    writer = RecordWriter(message_store_uri(base, m.account_id, m.extension_id), m.extension_id)
    return writer(stored_record(m))


def sent_message(m: Message, base: str) -> msgspec.Raw:
    """The send response: the sender's copy (GetSMSMessageInfoResponse or
    GetInternalTextMessageInfoResponse), which lacks the store-only `extensionId`."""
    writer = RecordWriter(message_store_uri(base, m.account_id, m.extension_id), None)
    return writer(stored_record(m))
