"""Request bodies: size bound, media type, JSON decoding into typed structs.

Every failure names what was wrong (CMN-101 with the parameter, CMN-103 for JSON that does
not parse, 413/415 for size and media type), and nothing has been written when it is raised.
"""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec
from starlette.requests import Request

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

_PATH_INDEX = re.compile(r"\[\d+\]")
_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
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


def decode_json(raw: bytes, content_type: str | None, into: type[T]) -> T:
    if not is_json_media(content_type):
        raise UnsupportedMediaType(content_type or "", "application/json")
    if not raw.strip():
        raise UnparsableRequest(
            "JSON can't be parsed: the request body is empty.", error_code="CMN-103"
        )
    try:
        return msgspec.json.decode(raw, type=into)
    except msgspec.ValidationError as exc:
        name = _parameter_of(exc)
        detail = str(exc).split(" - at ", 1)[0]
        raise InvalidParameter(name, detail) from None
    except msgspec.DecodeError:
        raise UnparsableRequest("JSON can't be parsed.", error_code="CMN-103") from None


async def read_json(request: Request, into: type[T], limit: int = DEFAULT_MAX_BODY_BYTES) -> T:
    raw = await read_body(request, limit)
    return decode_json(raw, request.headers.get("content-type"), into)
