"""The message store: listMessages, readMessage, updateMessage/patchMessage, deleteMessage,
deleteMessageByFilter, readMessageContent (R11, R12, R14, R15; facts 3, 4, 8).

Every operation addresses `{accountId}/extension/{extensionId}`: the caller's own store, or as
an account admin any extension of the account (R14, Reach.OWN_OR_ADMIN). Several ids separated
by commas make a bulk request, answered per id (api/multipart.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import quote

from starlette.responses import Response

from ringlet.api.context import Ctx
from ringlet.api.errors import error_body
from ringlet.api.multipart import (
    ALL_IDS,
    BulkIds,
    Part,
    bulk_ids,
    multi_status,
    numeric_id,
    read_bulk_bodies,
)
from ringlet.api.paging import page_request, paged_body
from ringlet.api.query import Query
from ringlet.api.responses import empty_response, json_response
from ringlet.api.uris import message_store_uri
from ringlet.api.wire import TEXT_ATTACHMENT_ID, message, record_writer
from ringlet.clock import EARLIEST_MS, iso
from ringlet.domain.access import Reach
from ringlet.domain.enums import Availability, Direction, MessageType, ReadStatus
from ringlet.domain.errors import (
    BatchTooLarge,
    InvalidParameter,
    RangeNotSatisfiable,
    ResourceNotFound,
)
from ringlet.domain.lifecycle import EDITABLE_FIELDS
from ringlet.domain.phone_numbers import DEFAULT_COUNTRY, parse_number
from ringlet.store.messages import MessageFilter

DAY_MS = 24 * 3600 * 1000
# updateMessage/deleteMessage: at most 50 ids in the path (spec); the same bound for GET, whose
# own limit no source gives (facts 16.8). A PUT with `*` may name up to 1000 ids in its body.
MAX_PATH_IDS = 50
MAX_BODY_IDS = 1000


class WireMessageType(StrEnum):
    """The message types a filter may name. ringlet stores only SMS and Pager: the others are
    accepted, as RingCentral accepts them, and simply match nothing."""

    FAX = "Fax"
    SMS = "SMS"
    VOICEMAIL = "VoiceMail"
    PAGER = "Pager"
    TEXT = "Text"


_STORED_TYPES = {WireMessageType.SMS: MessageType.SMS, WireMessageType.PAGER: MessageType.PAGER}


def stored_types(wanted: Sequence[WireMessageType]) -> tuple[MessageType, ...] | None:
    """None: no filter; empty: only types ringlet never stores were asked for."""
    if not wanted:
        return None
    return tuple(dict.fromkeys(_STORED_TYPES[t] for t in wanted if t in _STORED_TYPES))


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose store a request addresses (R14 checked), and where its records live."""

    account_id: int
    extension_id: int
    base_url: str

    @property
    def store_uri(self) -> str:
        return message_store_uri(self.base_url, self.account_id, self.extension_id)

    def href(self, raw_id: str) -> str:
        return f"{self.store_uri}/{quote(raw_id, safe='')}"


def conversation_ids(query: Query) -> list[int]:
    """conversationId values, each a positive int64 (a larger number names nothing, but would
    overflow the database's integer)."""
    values = query.integers("conversationId")
    for value in values:
        if not 0 < value < 2**63:
            raise InvalidParameter("conversationId", value=str(value))
    return list(dict.fromkeys(values))


def owner(ctx: Ctx) -> Owner:
    return Owner(ctx.account_id(), ctx.extension_id(Reach.OWN_OR_ADMIN), ctx.base_url)


def _not_found(raw_id: str) -> ResourceNotFound:
    return ResourceNotFound("messageId", raw_id)


def _path_ids(ctx: Ctx) -> BulkIds:
    return bulk_ids(ctx.path("messageId"), MAX_PATH_IDS)


def _numbers(raw_ids: Sequence[str]) -> list[int]:
    return [n for n in map(numeric_id, raw_ids) if n is not None]


def _single_id(ids: BulkIds, present: Collection[int]) -> int:
    """The id of a request that names one message, if the store has it; else not found."""
    raw = ids.ids[0] if ids.ids else ""
    number = numeric_id(raw)
    if number is None or number not in present:
        raise _not_found(raw)
    return number


def _parts(
    who: Owner, raw_ids: Sequence[str], outcome: Callable[[int], tuple[int, Any] | None]
) -> list[Part]:
    """One part per requested id, in request order: `outcome(id)` gives the status and body of
    an id the store has; any other id is not found (404 and the error body)."""
    parts = []
    for raw in raw_ids:
        number = numeric_id(raw)
        result = None if number is None else outcome(number)
        status, body = (404, error_body(_not_found(raw))) if result is None else result
        parts.append(Part(raw, who.href(raw), status, body))
    return parts


_R = TypeVar("_R")  # what `found` holds: a Message or a stored record


def _records(
    found: Mapping[int, _R], render: Callable[[_R], Any]
) -> Callable[[int], tuple[int, Any] | None]:
    """`_parts`' outcome for ids looked up in `found`: 200 and the rendered record."""

    def outcome(number: int) -> tuple[int, Any] | None:
        record = found.get(number)
        return None if record is None else (200, render(record))

    return outcome


# -- listMessages ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListQuery:
    selection: MessageFilter | None  # None: selects nothing
    echo: list[tuple[str, str]]  # the effective query, defaults included, for the list `uri`


def list_query(query: Query, now_ms: int, country: str = DEFAULT_COUNTRY) -> ListQuery:
    """Every filter of listMessages, each bad value refused with CMN-101 naming it."""
    availability = query.enums("availability", Availability) or [Availability.ALIVE]
    conversations = conversation_ids(query)  # the spec names one; several are a superset
    date_to = query.time_ms("dateTo")
    date_from = query.time_ms("dateFrom")
    if date_from is None:
        date_from = max((now_ms if date_to is None else date_to) - DAY_MS, EARLIEST_MS)
    directions = query.enums("direction", Direction)
    distinct = query.boolean("distinctConversations")
    wire_types = query.enums("messageType", WireMessageType)
    read_statuses = query.enums("readStatus", ReadStatus)
    raw_number = query.text("phoneNumber")
    number = None if raw_number is None else parse_number(raw_number, "phoneNumber", country)

    types = stored_types(wire_types)
    selection = None
    if types != ():
        selection = MessageFilter(
            availability=tuple(dict.fromkeys(availability)),
            conversation_ids=tuple(conversations),
            date_from_ms=date_from,
            # Without dateTo there is no upper bound: "now" would only hide a message stored
            # within the current millisecond.
            date_to_ms=date_to,
            directions=tuple(directions),
            types=types or (),
            read_statuses=tuple(read_statuses),
            phone_number=number,
            distinct_conversations=bool(distinct),
        )
    echo = [("availability", a.value) for a in availability]
    echo += [("conversationId", str(c)) for c in conversations]
    echo.append(("dateFrom", iso(date_from)))
    if date_to is not None:
        echo.append(("dateTo", iso(date_to)))
    echo += [("direction", d.value) for d in directions]
    if distinct is not None:
        echo.append(("distinctConversations", str(distinct).lower()))
    echo += [("messageType", t.value) for t in wire_types]
    if number is not None:
        echo.append(("phoneNumber", number))
    echo += [("readStatus", r.value) for r in read_statuses]
    return ListQuery(selection, echo)


async def list_messages(ctx: Ctx) -> Response:
    who = owner(ctx)
    parsed = list_query(ctx.query, ctx.services.clock(), ctx.caller.country)
    page = page_request(ctx.query)
    body, has_more = await ctx.services.message_store.list_messages(
        who.account_id,
        who.extension_id,
        parsed.selection,
        page.offset,
        page.per_page,
        record_writer(who.base_url, who.account_id, who.extension_id),
    )
    # Not counted (services/message_store.py): totals only on a page known to be the last.
    return json_response(
        paged_body(body, None, page, who.store_uri, parsed.echo, has_more=has_more)
    )


# -- readMessage ----------------------------------------------------------------------------


async def read_message(ctx: Ctx) -> Response:
    who = owner(ctx)
    ids = _path_ids(ctx)
    found = await ctx.services.message_store.get_records(
        who.account_id, who.extension_id, _numbers(ids.ids)
    )
    write = record_writer(who.base_url, who.account_id, who.extension_id)
    if not ids.bulk:
        return json_response(write(found[_single_id(ids, found)]))
    return multi_status(ctx.request, _parts(who, ids.ids, _records(found, write)))


# -- updateMessage / patchMessage -------------------------------------------------------------


_READ_STATUSES = frozenset(status.value for status in ReadStatus)


def read_status_of(body: Any) -> ReadStatus:
    """R15: a body may change readStatus and nothing else; any other field is refused by name."""
    if not isinstance(body, dict):
        raise InvalidParameter("body", "expected a JSON object")
    for field in body:
        if field not in EDITABLE_FIELDS:
            raise InvalidParameter(field, "only readStatus can be changed")
    value = body.get("readStatus")
    if isinstance(value, str) and value in _READ_STATUSES:
        return ReadStatus(value)
    raise InvalidParameter(
        "readStatus", "expected Read or Unread", value=None if value is None else str(value)
    )


async def update_message(ctx: Ctx) -> Response:
    who = owner(ctx)
    ids = BulkIds((ALL_IDS,), True) if ctx.path("messageId") == ALL_IDS else _path_ids(ctx)
    bodies = await read_bulk_bodies(
        ctx.request, ids, max_bytes=ctx.services.settings.max_body_bytes, max_ids=MAX_BODY_IDS
    )
    # Every body is checked before anything is written.
    plan = [(raw_id, read_status_of(body)) for raw_id, body in bodies]
    changes = {n: status for raw_id, status in plan if (n := numeric_id(raw_id)) is not None}
    found = await ctx.services.message_store.set_read_status(
        who.account_id, who.extension_id, changes
    )
    if not ids.bulk:
        return json_response(message(found[_single_id(ids, found)], who.base_url))
    return multi_status(
        ctx.request,
        _parts(who, [r for r, _ in plan], _records(found, lambda m: message(m, who.base_url))),
    )


# -- deleteMessage / deleteMessageByFilter ---------------------------------------------------


async def delete_message(ctx: Ctx) -> Response:
    """R15. A body (the SDKs send `{}` or JSON headers on DELETE) is never read."""
    who = owner(ctx)
    ids = _path_ids(ctx)
    purge = ctx.query.boolean("purge") or False
    # Accepted (spec), checked, and without effect: the ids already name the messages.
    conversation_ids(ctx.query)
    deleted = await ctx.services.message_store.delete_messages(
        who.account_id, who.extension_id, _numbers(ids.ids), purge=purge
    )
    if not ids.bulk:
        _single_id(ids, deleted)
        return empty_response()
    parts = _parts(who, ids.ids, lambda n: (204, None) if n in deleted else None)
    if all(part.status == 204 for part in parts):
        return empty_response()  # facts 3: a bulk delete that fully succeeds answers 204
    return multi_status(ctx.request, parts)


class DeleteType(StrEnum):
    ALL = "All"
    FAX = "Fax"
    SMS = "SMS"
    VOICEMAIL = "VoiceMail"
    PAGER = "Pager"
    TEXT = "Text"


async def delete_message_by_filter(ctx: Ctx) -> Response:
    """Deletes whole conversations (R15: their Alive messages become Deleted). conversationId
    is required: without it RingCentral's table names only CMN-101 for it, and deleting a whole
    store by accident is not something to make easy."""
    who = owner(ctx)
    conversations = conversation_ids(ctx.query)
    if not conversations:
        raise InvalidParameter("conversationId", "at least one conversationId is required")
    if len(conversations) > MAX_PATH_IDS:
        raise BatchTooLarge(MAX_PATH_IDS)
    before = ctx.query.time_ms("dateTo")
    kind = ctx.query.enum("type", DeleteType) or DeleteType.ALL
    types = None if kind is DeleteType.ALL else stored_types([WireMessageType(kind.value)])
    await ctx.services.message_store.delete_conversations(
        who.account_id, who.extension_id, conversations, before_ms=before, types=types
    )
    return empty_response()


# -- readMessageContent -----------------------------------------------------------------------


class ContentDisposition(StrEnum):
    INLINE = "Inline"
    ATTACHMENT = "Attachment"


_BYTE_RANGE = re.compile(r"\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*", re.IGNORECASE)


def byte_range(header: str | None, length: int) -> tuple[int, int] | None:
    """The one `bytes=` range of a Range header as (first, last), inclusive, or None to send the
    whole content. As RFC 9110 allows, a header that is not one valid byte range (another unit,
    several ranges, bad syntax) is ignored; a valid one outside the content is refused (416)."""
    match = None if header is None else _BYTE_RANGE.fullmatch(header)
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text:
            return None
        suffix = int(last_text)  # `-N`: the last N bytes
        if suffix == 0 or length == 0:
            raise RangeNotSatisfiable(length)
        return max(0, length - suffix), length - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # an invalid range, which is ignored, not an unsatisfiable one
    if first >= length:
        raise RangeNotSatisfiable(length)
    last = int(last_text) if last_text else length - 1
    return first, min(last, length - 1)


async def read_message_content(ctx: Ctx) -> Response:
    who = owner(ctx)
    raw_id = ctx.path("messageId")
    message_id = numeric_id(raw_id)
    if message_id is None:
        raise _not_found(raw_id)
    raw_attachment = ctx.path("attachmentId")
    if numeric_id(raw_attachment) != TEXT_ATTACHMENT_ID:
        raise ResourceNotFound("attachmentId", raw_attachment)
    disposition = ctx.query.enum("contentDisposition", ContentDisposition)
    text = await ctx.services.message_store.text_content(
        who.account_id, who.extension_id, message_id
    )
    data = text.encode("utf-8")
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": (
            f'attachment; filename="{message_id}.txt"'
            if disposition is ContentDisposition.ATTACHMENT
            else "inline"
        ),
    }
    media_type = "text/plain; charset=UTF-8"
    wanted = byte_range(ctx.request.headers.get("range"), len(data))
    if wanted is None:
        return Response(data, 200, headers, media_type=media_type)
    first, last = wanted
    headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
    return Response(data[first : last + 1], 206, headers, media_type=media_type)
