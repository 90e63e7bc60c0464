"""Bulk requests (facts 3): several ids in one path segment (`.../message-store/1,2,3`), their
request bodies, and the 207 Multi-Status answer in the two representations RingCentral serves.

- By default (`Accept` absent, `*/*`, `application/json`): `multipart/mixed`. The first part is
  JSON `{"response": [{"href", "status", "responseDescription"}, ...]}`, then one part per id in
  request order. The Python SDK parses it with the `email` package and requires
  len(response) == parts - 1; the JS SDK splits the text on `--<boundary>` (taken from the
  Content-Type), drops an empty preamble and the closing `--`, and splits each part's headers
  from its body at the first blank line. The layout below satisfies both.
- With `Accept: application/vnd.ringcentral.multipart+json`: a JSON array of
  `{"resourceId", "status", "body"}`.

A part's body is whatever the single-id request would have answered: the record, an error
body (api/errors.error_body), or nothing for a 204.

A bulk PUT may carry one JSON object for every id, a JSON array of `{"resourceId"?, "body"}`
(by position, or with `*` in the path naming the ids), or a multipart/mixed body with one JSON
part per id (facts 3).

createSMSMessage also takes its request as `multipart/form-data` or `multipart/mixed` (the
Python SDK's MultipartBuilder, facts 7.4): the JSON request in a part named `json`, files in
further parts. Both needs share one parser of request bodies (`body_parts`).
"""

from __future__ import annotations

import email.parser
import email.policy
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from http import HTTPStatus
from typing import Any, Generic, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from ringlet.api.body import decode_document, decode_json, is_json_media, read_body
from ringlet.api.responses import encode
from ringlet.domain.errors import BatchTooLarge, InvalidParameter, UnparsableRequest
from ringlet.domain.ids import parse_id

T = TypeVar("T")

MULTIPART_JSON = "application/vnd.ringcentral.multipart+json"
MULTI_STATUS = 207
ALL_IDS = "*"  # `PUT .../message-store/*`: the ids come with the bodies, as resourceId


@dataclass(frozen=True, slots=True)
class BulkIds:
    """The ids of a path segment, in request order. `bulk` when the segment has a comma: then
    the answer is per id (207), even for a single id."""

    ids: tuple[str, ...]
    bulk: bool


def bulk_ids(segment: str, limit: int) -> BulkIds:
    ids = tuple(part.strip() for part in segment.split(",") if part.strip())
    if len(ids) > limit:
        raise BatchTooLarge(limit)
    return BulkIds(ids, "," in segment)


def numeric_id(raw: str) -> int | None:
    """The id as a number, or None for anything that cannot name a record (then: not found)."""
    return parse_id(raw)


@dataclass(frozen=True, slots=True)
class Part:
    resource_id: str
    href: str
    status: int
    body: Any = None  # JSON-able; None for a part without content (204)


def wants_json_array(request: Request) -> bool:
    return MULTIPART_JSON in request.headers.get("accept", "").lower()


def multi_status(request: Request, parts: Sequence[Part]) -> Response:
    """The 207 answer, in the representation the client's `Accept` asks for."""
    if wants_json_array(request):
        items: list[dict[str, Any]] = []
        for part in parts:
            item: dict[str, Any] = {"resourceId": part.resource_id, "status": part.status}
            if part.body is not None:
                item["body"] = part.body
            items.append(item)
        return Response(encode(items), MULTI_STATUS, media_type=f"{MULTIPART_JSON}; charset=UTF-8")
    boundary = f"Boundary_{secrets.token_hex(16)}"
    return Response(
        _multipart_body(boundary, parts),
        MULTI_STATUS,
        # The charset spares clients (requests, in the Python SDK) a guess at the encoding.
        media_type=f"multipart/mixed; charset=UTF-8; boundary={boundary}",
    )


def _multipart_body(boundary: str, parts: Sequence[Part]) -> bytes:
    statuses = {
        "response": [
            {
                "href": part.href,
                "status": part.status,
                "responseDescription": HTTPStatus(part.status).phrase,
            }
            for part in parts
        ]
    }
    delimiter = f"--{boundary}\r\n".encode()
    chunks = [delimiter, _json_part(statuses)]
    for part in parts:
        chunks.append(b"\r\n" + delimiter)
        # A part without content has no headers either: just the blank line that ends them.
        chunks.append(b"\r\n" if part.body is None else _json_part(part.body))
    chunks.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(chunks)


def _json_part(body: Any) -> bytes:
    # Compact JSON never holds a bare newline, so no line of it can look like a boundary.
    return b"Content-Type: application/json\r\n\r\n" + encode(body)


# -- bulk request bodies ------------------------------------------------------------------------


async def read_bulk_bodies(
    request: Request, ids: BulkIds, *, max_bytes: int, max_ids: int
) -> list[tuple[str, Any]]:
    """The body meant for each id, in order. A request naming one id gets its body as sent
    (the caller checks its shape); `max_ids` bounds the ids a `*` body may name."""
    raw = await read_body(request, max_bytes)
    content_type = request.headers.get("content-type", "")
    entries: list[tuple[str | None, Any]]
    if content_type.lower().startswith("multipart/mixed"):
        entries = [(None, document) for document in json_parts(raw, content_type)]
    else:
        # The array form may come as application/vnd.ringcentral.multipart+json.
        document = decode_json(raw, content_type or None, Any)
        if not ids.bulk or (isinstance(document, dict) and ids.ids != (ALL_IDS,)):
            return [(raw_id, document) for raw_id in ids.ids]
        if not isinstance(document, list):
            raise InvalidParameter("body", "expected a list of {resourceId, body}")
        entries = [_entry(item) for item in document]
    if ids.ids == (ALL_IDS,):
        if len(entries) > max_ids:
            raise BatchTooLarge(max_ids)
        named = [(resource_id, body) for resource_id, body in entries if resource_id is not None]
        if len(named) != len(entries):
            raise InvalidParameter("resourceId", "required with `*` in the path")
        return named
    if not ids.bulk or len(entries) != len(ids.ids):
        raise InvalidParameter("body", "one entry per id of the path is expected")
    for raw_id, (resource_id, _) in zip(ids.ids, entries, strict=True):
        if resource_id is not None and resource_id != raw_id:
            raise InvalidParameter(
                "resourceId", "must follow the order of the path", value=resource_id
            )
    return [(raw_id, body) for raw_id, (_, body) in zip(ids.ids, entries, strict=True)]


def _entry(item: Any) -> tuple[str | None, Any]:
    if not isinstance(item, dict) or set(item) - {"resourceId", "body"}:
        raise InvalidParameter("body", "expected a list of {resourceId, body}")
    resource_id = item.get("resourceId")
    if resource_id is not None and not isinstance(resource_id, str | int):
        raise InvalidParameter("resourceId", value=str(resource_id))
    return (None if resource_id is None else str(resource_id)), item.get("body")


def json_parts(raw: bytes, content_type: str) -> list[Any]:
    """The JSON documents of a `multipart/mixed` request body, one per part, in order."""
    parts = body_parts(raw, content_type)
    if not parts:
        raise UnparsableRequest("Cannot parse request: the multipart body has no parts")
    documents: list[Any] = []
    for part in parts:
        documents.append(decode_document(part.payload))
    return documents


# -- multipart requests (createSMSMessage) -------------------------------------------------------

_FORM_MEDIA_TYPES = frozenset({"multipart/form-data", "multipart/mixed"})
JSON_PART = "json"  # the part MultipartBuilder names; also the parameter its errors name


@dataclass(frozen=True, slots=True)
class BodyPart:
    """One part of a multipart request body, as sent."""

    name: str | None  # Content-Disposition's `name`; the SDK sends it in multipart/mixed too
    content_type: str | None  # None when the part has no Content-Type header
    payload: bytes  # after any Content-Transfer-Encoding


@dataclass(frozen=True, slots=True)
class MultipartRequest(Generic[T]):
    """A multipart request: its JSON part, decoded, and every other non-empty part."""

    body: T
    attachments: tuple[BodyPart, ...]


def is_multipart_form(content_type: str) -> bool:
    """`multipart/form-data` or `multipart/mixed`, in any case, parameters aside."""
    # A prefix test first: a JSON send, nearly every request, is decided by it alone.
    if content_type[:10].lower() != "multipart/":
        return False
    return content_type.split(";", 1)[0].strip().lower() in _FORM_MEDIA_TYPES


def body_parts(raw: bytes, content_type: str) -> list[BodyPart]:
    """The parts of a multipart request body in order; none when it cannot be parsed as one
    (no boundary, the boundary never found). The email parser is lenient about the rest (a
    missing closing delimiter), as servers commonly are."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        return []
    return [_body_part(part) for part in message.iter_parts()]


def _body_part(part: Message) -> BodyPart:
    name = part.get_param("name", header="content-disposition")
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        # A nested multipart (or message/rfc822) part has no payload of its own: keep it
        # whole, so that it still counts as content and never reads as an empty part.
        payload = part.as_bytes()
    content_type = part.get("content-type")
    return BodyPart(
        name=name if isinstance(name, str) else None,
        content_type=None if content_type is None else str(content_type),
        payload=payload,
    )


async def read_multipart_request(
    request: Request, content_type: str, into: type[T], *, max_bytes: int
) -> MultipartRequest[T]:
    """A multipart request body (`is_multipart_form`), read within the same bound as a JSON
    body. The JSON part is the part named `json`, or else the first non-empty part whose type
    is JSON or unstated; it is decoded exactly as a JSON body would be (CMN-101 naming the
    field, CMN-103). Every other non-empty part is returned as an attachment, for the caller
    to judge. A body without a JSON part, or that does not parse: CMN-101 naming `json`."""
    raw = await read_body(request, max_bytes)
    parts = body_parts(raw, content_type)
    if not parts:
        raise InvalidParameter(JSON_PART, "the multipart body cannot be parsed")
    chosen = _pick_json_part(parts)
    if chosen is None:
        raise InvalidParameter(JSON_PART, "the multipart body has no JSON part")
    # The part is JSON by its place, whatever type it states: read it as a body without one.
    body = decode_json(chosen.payload, None, into)
    attachments = tuple(part for part in parts if part is not chosen and part.payload)
    return MultipartRequest(body, attachments)


def _pick_json_part(parts: Sequence[BodyPart]) -> BodyPart | None:
    for part in parts:
        if part.name == JSON_PART:
            return part
    for part in parts:
        # An empty form field without a type is not a request; skip it like an empty file.
        if part.payload and is_json_media(part.content_type):
            return part
    return None
