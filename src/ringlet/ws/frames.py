"""The gateway's frames (facts 13.4), as @rc-ex/ws and the Python SDK read them.

Every frame is a JSON array `[meta, body?]`; meta is `{type, messageId, status, headers, wsc?}`
and always has `headers` (the Python SDK indexes it). Nothing here does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import msgspec

from ringlet.api.middleware.request_id import REQUEST_ID_HEADER, new_request_id

CONNECTION_DETAILS: Final = "ConnectionDetails"
CLIENT_REQUEST: Final = "ClientRequest"
SERVER_NOTIFICATION: Final = "ServerNotification"
HEARTBEAT: Final = "Heartbeat"
ERROR: Final = "Error"

# The header the Python SDK looks for to recognise the answer to its subscription request.
SUBSCRIPTION_ID_HEADER: Final = "WSG-SubscriptionId"

MAX_CLIENT_FRAME_BYTES: Final = 1 << 20  # as an HTTP request body (Settings.max_body_bytes)

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def encode(frame: list[Any]) -> str:
    return _encoder.encode(frame).decode("utf-8")


def meta(
    frame_type: str,
    status: int = 200,
    *,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    wsc: dict[str, Any] | None = None,
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "type": frame_type,
        "messageId": message_id or new_request_id(),
        "status": status,
        "headers": {REQUEST_ID_HEADER: new_request_id(), **(headers or {})},
    }
    if wsc is not None:
        found["wsc"] = wsc
    return found


def error_frame(
    error_code: str, message: str, status: int, *, message_id: str | None = None
) -> list[Any]:
    """`[{type: Error, ...}, {errorCode, message, errors[]}]`: the body is RingCentral's error
    envelope, whose `errorCode` and `message` are what @rc-ex/ws types as WsgError."""
    item = {"errorCode": error_code, "message": message}
    return [meta(ERROR, status, message_id=message_id), {**item, "errors": [item]}]


# -- what clients send -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientRequest:
    message_id: str
    method: str
    path: str
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False


@dataclass(frozen=True, slots=True)
class Heartbeat:
    message_id: str


@dataclass(frozen=True, slots=True)
class Malformed:
    """A frame the gateway cannot act on; answered with an Error frame."""

    reason: str
    message_id: str | None = None


ClientFrame = ClientRequest | Heartbeat | Malformed

_METHODS: Final = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


def parse_client_frame(text: str) -> ClientFrame:
    try:
        frame = _decoder.decode(text)
    except msgspec.DecodeError:
        return Malformed("the frame is not JSON")
    if not isinstance(frame, list) or not frame or not isinstance(frame[0], dict):
        return Malformed("a frame is a JSON array whose first item is an object")
    head: dict[str, Any] = frame[0]
    raw_id = head.get("messageId")
    message_id = raw_id if isinstance(raw_id, str) and raw_id else None
    frame_type = head.get("type")
    if frame_type == HEARTBEAT:
        return Heartbeat(message_id or new_request_id())
    if frame_type != CLIENT_REQUEST:
        return Malformed(f"unknown frame type {frame_type!r}", message_id)
    if message_id is None:
        return Malformed("a ClientRequest needs a messageId")
    method = head.get("method")
    path = head.get("path")
    if not isinstance(method, str) or method.upper() not in _METHODS:
        return Malformed("a ClientRequest needs a method (GET, POST, PUT...)", message_id)
    if not isinstance(path, str) or not path.startswith("/"):
        return Malformed("a ClientRequest needs a path starting with /", message_id)
    query = head.get("query") or {}
    headers = head.get("headers") or {}
    if not isinstance(query, dict) or not isinstance(headers, dict):
        return Malformed("query and headers must be objects", message_id)
    return ClientRequest(
        message_id=message_id,
        method=method.upper(),
        path=path,
        query=query,
        headers={str(k): str(v) for k, v in headers.items() if v is not None},
        body=frame[1] if len(frame) > 1 else None,
        has_body=len(frame) > 1,
    )


# -- wsc: the session-recovery token ------------------------------------------------------------

# `<session key>.<sequence>`: the key names the session (unguessable), the sequence says which
# frames the client has seen, so a recovery replays exactly what it missed.
_WSC: Final = re.compile(r"([A-Za-z0-9_-]{20,100})\.(\d{1,18})")

RecoveryState = Literal["Successful", "Failed"]


def wsc_token(session_key: str, sequence: int) -> str:
    return f"{session_key}.{sequence}"


def parse_wsc(token: str) -> tuple[str, int] | None:
    """(session key, sequence), or None when `token` is not one ringlet made (WSG-400)."""
    match = _WSC.fullmatch(token)
    if match is None:
        return None
    return match.group(1), int(match.group(2))
