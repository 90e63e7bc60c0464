"""Request bodies: size bound, media type, JSON decoding into typed structs.

Every failure names what was wrong (CMN-101 with the parameter, CMN-103 for JSON that does
not parse, with the byte where it stops, 413/415 for size and media type), and nothing has been
written when it is raised. Every JSON document a request carries is decoded here, under one bound
on its nesting (`MAX_JSON_DEPTH`): msgspec decodes recursively, also the values of unknown
fields and free-form objects, so a body nested 100,000 deep would exhaust the stack.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request

from ringlet.api.headers import header
from ringlet.domain.errors import (
    InvalidParameter,
    RequestTooLarge,
    UnparsableRequest,
    UnsupportedMediaType,
)

T = TypeVar("T")

# Documented in the README: large enough for any message (1024 UTF-16 units of text) with
# room to spare, small enough that nobody fills the server's memory with one request.
DEFAULT_MAX_BODY_BYTES = 1 << 20

# Far above any request RingCentral defines (a fixture file is 6 deep), far below the stack.
MAX_JSON_DEPTH = 64

_PATH_INDEX = re.compile(r"\[\d+\]")
# A JSON string (skipped whole: brackets inside it do not nest) or a bracket.
_STRING_OR_BRACKET = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")


async def read_body(request: Request, limit: int) -> bytes:
    declared = header(request, b"content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def is_json_media(content_type: str | None) -> bool:
    if not content_type:
        return True  # RingCentral treats a body without a media type as JSON
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _parameter_of(error: msgspec.ValidationError) -> str:
    """`Expected `str`, got `int` - at `$.to[0].phoneNumber`` -> `to.phoneNumber`, the name
    RingCentral reports; a missing field names the field itself."""
    text = str(error)
    path = ""
    if " - at `$" in text:
        path = text.rsplit(" - at `$", 1)[1].rstrip("`").lstrip(".")
        path = _PATH_INDEX.sub("", path)
    missing = _MISSING_FIELD.search(text)
    if missing:
        path = f"{path}.{missing.group(1)}" if path else missing.group(1)
    return path or "body"


def check_nesting(raw: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse a document whose arrays and objects nest deeper than `limit` (400 CMN-103, with
    the byte where it does), before any decoder recurses into it."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return  # the usual body: too few brackets to nest that deep, nothing to scan
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(raw):
        first = raw[match.start()]
        if first in b"[{":
            depth += 1
            if depth > limit:
                raise UnparsableRequest(
                    f"JSON can't be parsed: nested deeper than {limit} levels"
                    f" (byte {match.start()})",
                    error_code="CMN-103",
                )
        elif first in b"]}":
            depth -= 1


def _unparsable(exc: msgspec.DecodeError) -> UnparsableRequest:
    # msgspec names the cause and the byte: "JSON is malformed: ... (byte 8)".
    return UnparsableRequest(f"JSON can't be parsed: {exc}", error_code="CMN-103")


def decode_document(raw: bytes) -> Any:
    """Any JSON document (a multipart part, a fixture), under the nesting bound."""
    check_nesting(raw)
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise _unparsable(exc) from None


def decode_json(raw: bytes, content_type: str | None, into: type[T]) -> T:
    if not is_json_media(content_type):
        raise UnsupportedMediaType(content_type or "", "application/json")
    if not raw.strip():
        raise UnparsableRequest(
            "JSON can't be parsed: the request body is empty.", error_code="CMN-103"
        )
    check_nesting(raw)
    try:
        return msgspec.json.decode(raw, type=into)
    except msgspec.ValidationError as exc:
        name = _parameter_of(exc)
        detail = str(exc).split(" - at ", 1)[0]
        raise InvalidParameter(name, detail) from None
    except msgspec.DecodeError as exc:
        raise _unparsable(exc) from None


async def read_json(request: Request, into: type[T], limit: int = DEFAULT_MAX_BODY_BYTES) -> T:
    raw = await read_body(request, limit)
    return decode_json(raw, header(request, b"content-type"), into)
