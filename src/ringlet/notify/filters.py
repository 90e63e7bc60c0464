"""Event filters (facts 13.3) as pure rules: parsing one (with `~` resolved), who may use it,
and which part of an outbox event it selects.

    /restapi/v1.0/account/{a}/extension/{e}/message-store[?type=..&direction=..]
    /restapi/v1.0/account/{a}/extension/{e}/message-store/instant?type=SMS
    /restapi/v1.0/account/{a}/extension/{e}
    /restapi/v1.0/account/{a}/extension
    /restapi/v1.0/subscription/~?threshold=<s>&interval=<s>    (renewal reminder)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import parse_qsl

from ringlet.domain.enums import AppPermission
from ringlet.domain.model import Caller
from ringlet.store.outbox import Change

PREFIX = "/restapi/v1.0"
_PATH = re.compile(
    r"^/restapi/v1\.0/account/(?P<a>~|\d{1,18})/extension"
    r"(?:/(?P<e>~|\d{1,18})(?P<store>/message-store(?P<instant>/instant)?)?)?$"
)
_REMINDER = re.compile(r"^/restapi/v1\.0/subscription/~$")
MAX_FILTER_CHARS = 512
STORE_TYPES = frozenset({"SMS", "Pager", "Fax", "VoiceMail"})
DIRECTIONS = frozenset({"Inbound", "Outbound"})


class Kind(Enum):
    STORE = "message-store"
    INSTANT = "instant"
    EXTENSION = "extension"
    EXTENSIONS = "extension-list"
    REMINDER = "reminder"


@dataclass(frozen=True, slots=True)
class EventFilter:
    kind: Kind
    text: str  # as answered: ids resolved
    account_id: int
    extension_id: int | None = None
    types: frozenset[str] = frozenset()  # empty: every type
    directions: frozenset[str] = frozenset()

    @property
    def permission(self) -> AppPermission | None:
        if self.kind in (Kind.STORE, Kind.INSTANT):
            return AppPermission.READ_MESSAGES
        if self.kind in (Kind.EXTENSION, Kind.EXTENSIONS):
            return AppPermission.READ_ACCOUNTS
        return None

    def selects(self, change: Change) -> bool:
        return (not self.types or change.type in self.types) and (
            not self.directions or change.direction in self.directions
        )


def parse(raw: str, caller: Caller) -> EventFilter | None:
    """The filter `raw` names, `~` resolved for `caller`; None if it names no filter."""
    if not raw or len(raw) > MAX_FILTER_CHARS:
        return None
    path, _, query = raw.partition("?")
    params = parse_qsl(query, keep_blank_values=True)
    if _REMINDER.match(path):
        names = {k for k, _ in params}
        if not names <= {"threshold", "interval"} or not all(v.isdigit() for _, v in params):
            return None
        return EventFilter(Kind.REMINDER, raw, caller.account_id)
    found = _PATH.match(path)
    if found is None:
        return None
    account_id = caller.account_id if found["a"] == "~" else int(found["a"])
    base = f"{PREFIX}/account/{account_id}/extension"
    if found["e"] is None:
        return EventFilter(Kind.EXTENSIONS, base, account_id) if not params else None
    extension_id = caller.extension_id if found["e"] == "~" else int(found["e"])
    base = f"{base}/{extension_id}"
    if found["store"] is None:
        return EventFilter(Kind.EXTENSION, base, account_id, extension_id) if not params else None
    types: set[str] = set()
    directions: set[str] = set()
    for name, value in params:
        if name == "type" and value in STORE_TYPES:
            types.add(value)
        elif name == "direction" and value in DIRECTIONS:
            directions.add(value)
        else:
            return None
    text = base + "/message-store"
    if found["instant"]:
        # Inbound SMS only (facts 13.3): `type=SMS` is the filter's only form.
        if types != {"SMS"} or directions:
            return None
        return EventFilter(Kind.INSTANT, text + "/instant?type=SMS", account_id, extension_id)
    if query:
        text += "?" + query
    return EventFilter(
        Kind.STORE, text, account_id, extension_id, frozenset(types), frozenset(directions)
    )


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a caller may not use a filter: DisabledFilterInfo's reason and message."""

    reason: str
    message: str


def refusal(f: EventFilter, caller: Caller, extension_exists: bool) -> Refusal | None:
    """R14 for subscriptions: a message store is the caller's own, or any of its account's for
    an admin; the directory is the caller's account's; the app must hold the permission the
    filter's resource needs."""
    if f.account_id != caller.account_id:
        return Refusal("CMN-102", "Resource for parameter [accountId] is not found")
    if f.extension_id is not None and not extension_exists:
        return Refusal("CMN-102", "Resource for parameter [extensionId] is not found")
    permission = f.permission
    if permission is not None and permission not in caller.app_permissions:
        return Refusal(
            "CMN-401",
            f"In order to call this API endpoint, application needs to have [{permission.value}]"
            " permission",
        )
    if f.kind in (Kind.STORE, Kind.INSTANT) and not may_read_store(caller, f.extension_id):
        return Refusal("SUB-405", "Not allowed subscribe for messages to other extensions")
    return None


def may_read_store(caller: Caller, extension_id: int | None) -> bool:
    return extension_id == caller.extension_id or caller.is_admin
