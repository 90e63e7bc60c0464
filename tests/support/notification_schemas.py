"""Schemas of notification bodies, which the 2022 OpenAPI file does not describe: written from
RingCentral's 2025 description (S25: MessageEventBody, MessageChanges, InstantMessageEventBody)
and the developer guide's envelope (facts 13.3). Strict like the spec's: a field not listed is
an error."""

from __future__ import annotations

from typing import Any, Final

from openapi_schema_validator import OAS30ReadValidator

from tests.support.openapi import describe_errors, strictify

_STRING: Final = {"type": "string"}
_DATE_TIME: Final = {"type": "string", "format": "date-time"}

ENVELOPE: Final = {
    "type": "object",
    "required": ["uuid", "event", "timestamp", "subscriptionId", "ownerId", "body"],
    "properties": {
        "uuid": _STRING,
        "event": _STRING,
        "timestamp": _DATE_TIME,
        "subscriptionId": _STRING,
        "ownerId": _STRING,
        "body": {"type": "object"},
    },
}

MESSAGE_EVENT_BODY: Final = {
    "type": "object",
    "required": ["accountId", "extensionId", "lastUpdated", "changes"],
    "properties": {
        "accountId": {"type": "integer", "format": "int64"},
        "extensionId": {"type": "integer", "format": "int64"},
        "lastUpdated": _DATE_TIME,
        "changes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type"],
                "properties": {
                    "type": {
                        "type": "string",
                        "enum": ["Fax", "SMS", "VoiceMail", "Pager", "Text"],
                    },
                    "newCount": {"type": "integer"},
                    "updatedCount": {"type": "integer"},
                    "newMessageIds": {"type": "array", "items": {"type": "integer"}},
                },
            },
        },
        "ownerId": _STRING,
    },
}

_PARTY: Final = {
    "type": "object",
    "properties": {
        "phoneNumber": _STRING,
        "extensionNumber": _STRING,
        "name": _STRING,
        "location": _STRING,
        "target": {"type": "boolean"},
        "phoneNumberInfo": {"type": "object"},
    },
}

INSTANT_MESSAGE_EVENT_BODY: Final = {
    "type": "object",
    "required": ["id", "from", "to", "type", "creationTime", "direction", "subject"],
    "properties": {
        "id": _STRING,
        "to": {"type": "array", "items": _PARTY},
        "from": _PARTY,
        "type": {"type": "string", "enum": ["SMS"]},
        "creationTime": _DATE_TIME,
        "lastModifiedTime": _DATE_TIME,
        "readStatus": {"type": "string", "enum": ["Read", "Unread"]},
        "priority": {"type": "string", "enum": ["Normal", "High"]},
        "attachments": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": _STRING,
                    "uri": _STRING,
                    "type": _STRING,
                    "contentType": _STRING,
                    "size": {"type": "integer"},
                },
            },
        },
        "direction": {"type": "string", "enum": ["Inbound"]},
        "availability": {"type": "string", "enum": ["Alive", "Deleted", "Purged"]},
        "subject": _STRING,
        "messageStatus": _STRING,
        "conversationId": _STRING,
        "conversation": {"type": "object", "properties": {"id": _STRING, "uri": _STRING}},
        "eventType": _STRING,
        "owner": {
            "type": "object",
            "properties": {"extensionId": _STRING, "extensionType": _STRING, "name": _STRING},
        },
    },
}

EXTENSION_EVENT_BODY: Final = {
    "type": "object",
    "required": ["extensionId", "eventType"],
    "properties": {
        "extensionId": _STRING,
        "eventType": {"type": "string", "enum": ["Create", "Update", "Delete"]},
        "hints": {"type": "array", "items": _STRING},
        "ownerId": _STRING,
    },
}


def _validator(schema: dict[str, Any]) -> Any:
    strictify(schema)
    return OAS30ReadValidator(schema, format_checker=OAS30ReadValidator.FORMAT_CHECKER)


_VALIDATORS: Final = {
    "envelope": _validator(dict(ENVELOPE)),
    "message-store": _validator(dict(MESSAGE_EVENT_BODY)),
    "instant": _validator(dict(INSTANT_MESSAGE_EVENT_BODY)),
    "extension": _validator(dict(EXTENSION_EVENT_BODY)),
}


def validate_notification(notification: Any) -> None:
    """Raise AssertionError unless the envelope and its body have RingCentral's shapes."""
    _check("envelope", notification)
    event = str(notification["event"])
    path = event.split("?", 1)[0]
    if path.endswith("/message-store/instant"):
        _check("instant", notification["body"])
    elif path.endswith("/message-store"):
        _check("message-store", notification["body"])
    elif "/extension/" in path:
        _check("extension", notification["body"])


def _check(name: str, instance: Any) -> None:
    errors = list(_VALIDATORS[name].iter_errors(instance))
    if errors:
        lines = "\n  ".join(describe_errors(errors))
        raise AssertionError(f"notification ({name}) does not match the schema:\n  {lines}")
