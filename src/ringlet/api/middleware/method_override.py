"""Method tunnelling (facts 1; RingCentral's guide, "Method Tunneling"): a `POST` carrying
`X-HTTP-Method-Override: PUT|PATCH|DELETE`, or `?_method=PUT|PATCH|DELETE`, is served as that
method, for clients and proxies that can only send GET and POST.

Refused with 400 CMN-101 naming the header or the parameter, in the route's error envelope
(api/errors.error_response): the two given with different values, an override on anything
but a POST, and an override to any other method.

Innermost layer: it rewrites `scope["method"]` before the router sees it, so routing, the 405
for a method a path does not have, and the handlers all see the tunnelled method. It runs on
every request, so the common case (no override) is one scan of the header list and one
substring test of the query string.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ringlet.api.errors import error_response
from ringlet.domain.errors import InvalidParameter

HEADER: Final = "X-HTTP-Method-Override"
PARAMETER: Final = "_method"
TUNNELLED: Final = frozenset({"PUT", "PATCH", "DELETE"})

_HEADER_KEY: Final = HEADER.lower().encode("latin-1")
_PARAMETER_MARK: Final = PARAMETER.encode("latin-1") + b"="


def may_tunnel(headers: dict[bytes, bytes], query_string: bytes) -> bool:
    """False when the request surely tunnels no method: neither the header nor the parameter."""
    return _HEADER_KEY in headers or _PARAMETER_MARK in query_string


class MethodOverrideMiddleware:
    __slots__ = ("app",)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = [value for key, value in scope["headers"] if key == _HEADER_KEY]
        query_string: bytes = scope["query_string"]
        if not headers and _PARAMETER_MARK not in query_string:
            await self.app(scope, receive, send)
            return
        params = [
            value
            for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
            if key == PARAMETER
        ]
        if not headers and not params:  # the mark was part of another name (`x_method=`)
            await self.app(scope, receive, send)
            return
        try:
            method = _tunnelled_method(
                scope["method"], [v.decode("latin-1") for v in headers], params
            )
        except InvalidParameter as refusal:
            await error_response(refusal, Request(scope))(scope, receive, send)
            return
        # A copy, as ASGI asks of a layer that changes the scope: the outer layers keep the
        # request as it arrived.
        await self.app({**scope, "method": method}, receive, send)


def _tunnelled_method(actual: str, headers: list[str], params: list[str]) -> str:
    """The method to serve the request as, or InvalidParameter naming what is wrong."""
    named: list[tuple[str, str]] = [(HEADER, v) for v in headers] + [(PARAMETER, v) for v in params]
    name, raw = named[0]
    if actual != "POST":
        raise InvalidParameter(name, f"only a POST may be tunnelled, not {actual}", value=raw)
    for other_name, other in named[1:]:
        if other.strip().upper() != raw.strip().upper():
            raise InvalidParameter(other_name, f"[{other}] contradicts {name} [{raw}]", value=other)
    method = raw.strip().upper()
    if method not in TUNNELLED:
        raise InvalidParameter(
            name, f"a POST may be tunnelled as {', '.join(sorted(TUNNELLED))}", value=raw
        )
    return method
