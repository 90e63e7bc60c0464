"""JSON responses as RingCentral sends them: `application/json; charset=UTF-8`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from starlette.responses import Response

JSON_MEDIA_TYPE = "application/json; charset=UTF-8"
_encoder = msgspec.json.Encoder()


def encode(body: Any) -> bytes:
    return _encoder.encode(body)


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(encode(body), status_code=status, headers=headers, media_type=JSON_MEDIA_TYPE)


def empty_response(status: int = 204, headers: Mapping[str, str] | None = None) -> Response:
    return Response(b"", status_code=status, headers=headers)
