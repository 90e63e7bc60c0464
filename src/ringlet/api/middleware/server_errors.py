"""The last resort for failures nothing else handled, inside the CORS layer.

Starlette answers them from ServerErrorMiddleware, the outermost layer of all, so its 500
would leave without the CORS headers (a browser then reports a network error instead of the
500) and without `RCRequestId`. Answered here instead, by the same handler
(api/errors.handle_unexpected, which logs the failure with the request id), the 500 passes
through the CORS and request-id layers like any other answer. The exception is not raised
again: it has been logged and answered, and raising it would only log it a second time.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ringlet.api.errors import handle_unexpected


class ServerErrorsMiddleware:
    __slots__ = ("app",)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:
                raise  # too late to answer: let the server close the connection
            response = await handle_unexpected(Request(scope), exc)
            await response(scope, receive, send)
