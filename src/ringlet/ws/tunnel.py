"""REST-over-WebSocket: a `ClientRequest` answered by ringlet's own ASGI app, in process.

The request is built as an HTTP scope with the session's access token and the scope key
`ringlet.ws_session` (the session id), which no HTTP client can set: that is how the
subscription service knows a request came through a WebSocket session. Everything else (routing,
authentication, rate limits, errors, RCRequestId) is the HTTP API's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

import msgspec
from starlette.types import ASGIApp, Message, Scope

from ringlet.ws.frames import ClientRequest

WS_SESSION_SCOPE_KEY: Final = "ringlet.ws_session"

# Set by the gateway, never taken from the client's headers.
_OWN_HEADERS: Final = frozenset({"authorization", "host", "content-length", "transfer-encoding"})
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class TunnelAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def content_type(self) -> str:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value
        return ""


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def query_string(path_query: str, query: Mapping[str, Any]) -> str:
    """The path's own query (`/x?a=1`), then the meta's `query` object (lists repeat the key)."""
    pairs: list[tuple[str, str]] = []
    for name, value in query.items():
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        pairs.extend((str(name), _query_value(v)) for v in values)
    extra = urlencode(pairs)
    return "&".join(part for part in (path_query, extra) if part)


def http_scope(
    origin: Scope, request: ClientRequest, access_token: str, ws_session_id: str, body: bytes
) -> Scope:
    path, _, path_query = request.path.partition("?")
    # The Python SDK subscribes at `/restapi/v1.0/subscription/`: the gateway, like
    # RingCentral's, does not tell a trailing slash apart.
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    host = next((v for k, v in origin["headers"] if k == b"host"), b"localhost")
    headers: list[tuple[bytes, bytes]] = [
        (b"host", host),
        (b"authorization", f"Bearer {access_token}".encode("latin-1")),
    ]
    sent_type = False
    for name, value in request.headers.items():
        lower = name.lower()
        if lower in _OWN_HEADERS:
            continue
        sent_type = sent_type or lower == "content-type"
        headers.append((lower.encode("latin-1"), value.encode("latin-1", errors="replace")))
    if body:
        if not sent_type:
            headers.append((b"content-type", b"application/json"))
        headers.append((b"content-length", str(len(body)).encode("ascii")))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "https" if origin.get("scheme") == "wss" else "http",
        "path": path,
        "raw_path": path.encode("utf-8"),
        "query_string": query_string(path_query, request.query).encode("latin-1"),
        "root_path": origin.get("root_path", ""),
        "headers": headers,
        "client": origin.get("client"),
        "server": origin.get("server"),
        "state": {},
        WS_SESSION_SCOPE_KEY: ws_session_id,
    }


async def call(
    app: ASGIApp, origin: Scope, request: ClientRequest, access_token: str, ws_session_id: str
) -> TunnelAnswer:
    body = b""
    if request.has_body and request.body is not None:
        raw = request.body
        body = raw.encode("utf-8") if isinstance(raw, str) else _encoder.encode(raw)
    scope = http_scope(origin, request, access_token, ws_session_id, body)
    delivered = False
    status = 500
    headers: list[tuple[str, str]] = []
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers.extend(
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", ())
            )
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return TunnelAnswer(status, headers, b"".join(chunks))
