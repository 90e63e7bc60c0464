"""Domain objects -> RingCentral's JSON shapes. camelCase lives here and nowhere else."""

from __future__ import annotations

from typing import Any

from ringlet.api.uris import message_uri
from ringlet.clock import iso
from ringlet.domain.enums import Availability, MessageType
from ringlet.domain.model import Message, Party

TEXT_ATTACHMENT_ID = 1  # R11: the one attachment of an SMS or Pager message is number 1


def party(p: Party) -> dict[str, Any]:
    out: dict[str, Any] = {}
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


def message(m: Message, base: str) -> dict[str, Any]:
    """GetMessageInfoResponse (R11). A purged message keeps only its metadata."""
    uri = message_uri(base, m.account_id, m.extension_id, m.id)
    body: dict[str, Any] = {
        "id": m.id,
        "uri": uri,
        "extensionId": str(m.extension_id),
        "type": m.type.value,
        "direction": m.direction.value,
        "from": party(m.sender),
        "to": [party(r) for r in m.recipients],
        "creationTime": iso(m.creation_time_ms),
        "lastModifiedTime": iso(m.last_modified_ms),
        "readStatus": m.read_status.value,
        "priority": "Normal",
        "availability": m.availability.value,
        "messageStatus": m.message_status.value,
        "conversationId": m.conversation_id,
        "conversation": {"id": str(m.conversation_id)},
    }
    if m.availability is not Availability.PURGED:
        body["subject"] = m.subject
        body["attachments"] = [
            {
                "id": TEXT_ATTACHMENT_ID,
                "uri": f"{uri}/content/{TEXT_ATTACHMENT_ID}",
                "type": "Text",
                "contentType": "text/plain",
            }
        ]
    if m.type is MessageType.PAGER:
        body["pgToDepartment"] = bool(m.pg_to_department)
    elif m.type is MessageType.SMS:
        body["smsSendingAttemptsCount"] = 1
    return body


def sent_message(m: Message, base: str) -> dict[str, Any]:
    """The send response: the sender's copy (GetSMSMessageInfoResponse or
    GetInternalTextMessageInfoResponse), which lacks the store-only `extensionId`."""
    body = message(m, base)
    del body["extensionId"]
    return body
