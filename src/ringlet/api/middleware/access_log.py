"""The access log (`ringlet serve --access-log`, off by default): one line per request on
logger `ringlet.access`, after its answer, with RingCentral's request id so that a client's
`RCRequestId` finds its line:

    127.0.0.1:50412 "POST /restapi/v1.0/account/~/extension/~/sms HTTP/1.1" 200 612 4.1ms \
    RCRequestId=5c1a...

With `--log-format json` the same facts are fields: `client`, `method`, `path`, `query`,
`httpVersion`, `status`, `bytes`, `durationMs`, `requestId`. The query string is logged as
sent; ringlet takes no secret in a query. A request whose client left before any answer is
logged with status 0.

Outermost layer, so that it times everything, and reads the id RequestIdMiddleware (inside
it) writes into the scope.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ringlet.api.middleware.request_id import REQUEST_ID_HEADER, request_id

log = logging.getLogger("ringlet.access")


class AccessLogMiddleware:
    __slots__ = ("app",)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        size = 0

        async def watch(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            _log(scope, status, size, (time.perf_counter() - started) * 1000)


def _log(scope: Scope, status: int, size: int, duration_ms: float) -> None:
    client = scope.get("client")
    peer = f"{client[0]}:{client[1]}" if client else "-"
    query = scope.get("query_string", b"").decode("latin-1")
    target = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
    if query:
        target += "?" + query
    rid = request_id(scope) or "-"
    version = scope.get("http_version", "1.1")
    log.info(
        '%s "%s %s HTTP/%s" %d %d %.1fms %s=%s',
        peer,
        scope["method"],
        target,
        version,
        status,
        size,
        duration_ms,
        REQUEST_ID_HEADER,
        rid,
        extra={
            "client": peer,
            "method": scope["method"],
            "path": scope["path"],
            "query": query,
            "httpVersion": version,
            "status": status,
            "bytes": size,
            "durationMs": round(duration_ms, 1),
            "requestId": rid,
        },
    )
