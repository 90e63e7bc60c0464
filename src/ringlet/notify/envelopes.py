"""Notification bodies and the common envelope (facts 13.3), from outbox events.

    {uuid, event, timestamp, subscriptionId, ownerId, body}

What a subscriber is shown is decided when the notification is built, not when the change was
recorded: R12 and R14 apply as they would to a read at that moment (`EventView` carries what
the store's owner may read now).
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

from ringlet.clock import iso
from ringlet.domain.enums import Direction, MessageType
from ringlet.domain.model import Extension, Message
from ringlet.message_json import TEXT_ATTACHMENT_ID
from ringlet.notify.filters import EventFilter, Kind
from ringlet.store.outbox import EXTENSION, STORE, Event

_NAMESPACE = uuidlib.UUID("6f0f9a52-3a1e-4c55-9d43-6b3f6c2f5d11")


@dataclass(slots=True)
class EventView:
    """An event as its store's owner may read it now: the new Pager copies still in a thread
    the owner belongs to (R12), the new inbound SMS themselves, and the owner."""

    event: Event
    readable_ids: frozenset[int] = frozenset()
    messages: dict[int, Message] = field(default_factory=dict)
    owner: Extension | None = None
    # The bodies each filter selects (by its text, ids resolved): the same for every
    # subscription with that filter, so built once per view. Never changed once built.
    bodies: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)


def notification_uuid(subscription_id: str, event_id: int, filter_text: str) -> str:
    """Stable across retries and processes: a receiver can recognise a repeat."""
    return str(uuidlib.uuid5(_NAMESPACE, f"{subscription_id}:{event_id}:{filter_text}"))


def envelope(
    subscription_id: str,
    owner_id: int,
    f: EventFilter,
    view: EventView,
    body: dict[str, Any],
    suffix: str = "",
) -> dict[str, Any]:
    return {
        "uuid": notification_uuid(subscription_id, view.event.id, f.text + suffix),
        "event": f.text,
        "timestamp": iso(view.event.created_ms),
        "subscriptionId": subscription_id,
        "ownerId": str(owner_id),
        "body": body,
    }


def bodies(f: EventFilter, view: EventView) -> list[tuple[str, dict[str, Any]]]:
    """The bodies `f` selects from the event (usually one; an instant filter gives one per
    inbound SMS), each with a key that tells notifications of one event apart. Built once per
    view and filter: a store with 100 subscribers has its event's body made once, not 100
    times."""
    found = view.bodies.get(f.text)
    if found is None:
        found = view.bodies[f.text] = _bodies(f, view)
    return found


def _bodies(f: EventFilter, view: EventView) -> list[tuple[str, dict[str, Any]]]:
    e = view.event
    if e.kind == STORE and f.kind is Kind.STORE and f.extension_id == e.extension_id:
        changes = []
        for change in e.changes:
            if not f.selects(change):
                continue
            new_ids = [
                i
                for i in change.new_ids
                if change.type != MessageType.PAGER.value or i in view.readable_ids
            ]
            if not new_ids and not change.updated:
                continue
            entry: dict[str, Any] = {
                "type": change.type,
                "newCount": len(new_ids),
                "updatedCount": change.updated,
            }
            if new_ids:
                entry["newMessageIds"] = new_ids
            changes.append(entry)
        if not changes:
            return []
        return [
            (
                "",
                {
                    "accountId": e.account_id,
                    "extensionId": e.extension_id,
                    "lastUpdated": iso(e.created_ms),
                    "changes": changes,
                },
            )
        ]
    if e.kind == STORE and f.kind is Kind.INSTANT and f.extension_id == e.extension_id:
        found = []
        for change in e.changes:
            if change.type != MessageType.SMS.value or change.direction != Direction.INBOUND.value:
                continue
            for message_id in change.new_ids:
                message = view.messages.get(message_id)
                if message is not None and view.owner is not None:
                    found.append((f":{message_id}", instant_body(message, view.owner)))
        return found
    if e.kind == EXTENSION and f.account_id == e.account_id:
        if f.kind is Kind.EXTENSION and f.extension_id == e.extension_id:
            body = {
                "extensionId": str(e.extension_id),
                "eventType": "Update",
                "hints": list(e.hints),
            }
            return [("", body)]
        if f.kind is Kind.EXTENSIONS:
            return [
                ("", {"extensions": [{"extensionId": str(e.extension_id), "eventType": "Update"}]})
            ]
    return []


def merge_store_bodies(found: list[dict[str, Any]]) -> dict[str, Any]:
    """Several message-store bodies of one store, oldest first, as one: the counts of each
    message type summed, the new ids in order, `lastUpdated` the newest. A subscriber that is
    behind (a backlog, a receiver that was slow) catches up in one notification."""
    by_type: dict[str, dict[str, Any]] = {}
    for body in found:
        for change in body["changes"]:
            merged = by_type.get(change["type"])
            if merged is None:
                merged = by_type[change["type"]] = {
                    "type": change["type"],
                    "newCount": 0,
                    "updatedCount": 0,
                }
            merged["newCount"] += change["newCount"]
            merged["updatedCount"] += change["updatedCount"]
            if "newMessageIds" in change:
                merged.setdefault("newMessageIds", []).extend(change["newMessageIds"])
    return {**found[-1], "changes": list(by_type.values())}


def instant_body(m: Message, owner: Extension) -> dict[str, Any]:
    """An inbound SMS as `message-store/instant?type=SMS` carries it: the message itself, with
    string ids (facts 13.3)."""
    sender: dict[str, Any] = {"phoneNumber": m.sender.phone_number}
    if m.sender.name:
        sender["name"] = m.sender.name
    to = []
    for party in m.recipients:
        entry: dict[str, Any] = {"phoneNumber": party.phone_number, "target": True}
        if party.name:
            entry["name"] = party.name
        to.append(entry)
    return {
        "id": str(m.id),
        "to": to,
        "from": sender,
        "type": m.type.value,
        "creationTime": iso(m.creation_time_ms),
        "lastModifiedTime": iso(m.last_modified_ms),
        "readStatus": m.read_status.value,
        "priority": "Normal",
        "attachments": [
            {"id": str(TEXT_ATTACHMENT_ID), "type": "Text", "contentType": "text/plain"}
        ],
        "direction": m.direction.value,
        "availability": m.availability.value,
        "subject": m.subject,
        "messageStatus": m.message_status.value,
        "conversationId": str(m.conversation_id),
        "conversation": {"id": str(m.conversation_id)},
        "eventType": "Create",
        "owner": {
            "extensionId": str(owner.id),
            "extensionType": owner.type.value,
            "name": owner.name,
        },
    }
