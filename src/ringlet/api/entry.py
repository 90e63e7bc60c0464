"""The ASGI entry point of the server: the usual API request answered in one step, every other
request by the full Starlette stack (api/middleware/stack.py) as before.

Why: each layer of the stack is an ASGI call, and most wrap `send` to add a header or watch the
answer, so the two messages of every answer went through nine wrappers, and every request
through seven calls, before uvicorn wrote a byte. Profiled on the send scenario (`python -m
bench --scenarios send`), that was a fifth of the event loop's time; see bench/README.md.

The usual request is one that no layer changes: HTTP, a method with a route of the table for
its path, no `Origin` (an SDK, curl, a server: not a browser on another origin, which the CORS
layer answers), nothing tunnelled (`X-HTTP-Method-Override`, `_method=`), each header once, a
`Host` this server accepts, no root path, no access log. For it this does what each layer
would do, with the layer's own code and state (`Gates`): a request id, the admission bound
(the health check excepted), the route's endpoint (which answers every failure itself, as the
layers inside it would), then `Vary: Origin` and `RCRequestId` added to the answer, in the
order the layers add them. Every other request goes through the stack, so what is decided
there (preflights, refusals of Host or tunnelling, redirects, 404, 405) stays decided there.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Final, Protocol, cast

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from ringlet.api import headers as request_headers
from ringlet.api.middleware.admission import NEVER_WAITS
from ringlet.api.middleware.cors import VARY_ORIGIN
from ringlet.api.middleware.method_override import may_tunnel
from ringlet.api.middleware.request_id import assign_request_id
from ringlet.api.middleware.stack import Gates
from ringlet.api.router import IndexedRouter

# HEAD and OPTIONS have answers of the stack's own (a body-less GET, CORS preflights).
_DIRECT_METHODS: Final = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


class _Responder(Protocol):
    """What every route of the table has for endpoint (api/app.py's `_Endpoint`)."""

    def respond(self, request: Request) -> Awaitable[Response]: ...


class RingletApp:
    """The application uvicorn runs: `starlette` (the full stack) and the direct path."""

    __slots__ = ("_direct", "_gates", "_router", "starlette")

    def __init__(self, starlette: Starlette, router: IndexedRouter, gates: Gates, *, direct: bool):
        self.starlette = starlette
        self._router = router
        self._gates = gates
        self._direct = direct  # False with --access-log: its layer must see every request

    @property
    def state(self) -> object:
        return self.starlette.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._direct or scope["method"] not in _DIRECT_METHODS:
            await self.starlette(scope, receive, send)
            return
        raw = scope["headers"]
        index = dict(raw)
        policy = self._gates.host_policy
        if (
            len(index) != len(raw)  # a header sent twice: the layers decide
            or b"origin" in index
            or may_tunnel(index, scope["query_string"])
            or scope.get("root_path")
            or (policy is not None and not policy.accepts(index.get(b"host", b"")))
        ):
            await self.starlette(scope, receive, send)
            return
        path = scope["path"]
        found = self._router.find(scope["method"], path)
        if found is None:
            await self.starlette(scope, receive, send)
            return
        route, params = found
        endpoint = cast(_Responder, route.endpoint)
        request_headers.keep_index(scope, index)
        id_header = assign_request_id(scope)
        scope["app"] = self.starlette
        scope["router"] = self._router
        scope["endpoint"] = route.endpoint
        scope["path_params"] = dict(params)
        request = Request(scope, receive, send)
        extra = [VARY_ORIGIN, id_header]
        if path in NEVER_WAITS:
            await _answer(await endpoint.respond(request), scope, receive, send, extra)
            return
        async with self._gates.admission:
            await _answer(await endpoint.respond(request), scope, receive, send, extra)


async def _answer(
    response: Response, scope: Scope, receive: Receive, send: Send, extra: list[tuple[bytes, bytes]]
) -> None:
    """`response`, with the `extra` headers after its own."""
    if type(response) is Response and response.background is None:
        # The whole body is in hand: the two messages Response.__call__ would send.
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [*response.raw_headers, *extra],
            }
        )
        await send({"type": "http.response.body", "body": response.body})
        return

    async def send_with_extra(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *extra]
        await send(message)

    await response(scope, receive, send_with_extra)
