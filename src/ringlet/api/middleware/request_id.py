"""`RCRequestId` on every response, as RingCentral sends it: a fresh uuid4 that clients log and
that the server log names next to an unexpected failure (api/errors.handle_unexpected)."""

from __future__ import annotations

import random
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER: Final = "RCRequestId"
# ASGI response header names are lower-case; HTTP header names are case-insensitive.
_HEADER_NAME: Final = REQUEST_ID_HEADER.lower().encode("latin-1")
# Where the id lives for the rest of the request (a scope key of ringlet's own).
_SCOPE_KEY: Final = "ringlet.request_id"


# The 17th hex digit of a version 4 UUID carries the variant (bits 10, RFC 9562): 8, 9, a or b.
_VARIANT: Final = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


# Request ids must be unique, not secret: a process-local generator seeded from the OS serves,
# without the system call `os.urandom` makes on every request (6% of the send path's loop).
_random = random.Random()


def new_request_id() -> str:
    """A random (version 4) UUID in its usual text form, built from 128 random bits directly:
    `str(uuid.uuid4())` costs several times as much, and this runs on every request."""
    h = f"{_random.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


def assign_request_id(scope: Scope) -> tuple[bytes, bytes]:
    """A new id for the request of `scope`, kept in the scope; returns its response header."""
    rid = new_request_id()
    scope[_SCOPE_KEY] = rid
    return (_HEADER_NAME, rid.encode("ascii"))


def request_id(scope: Scope) -> str | None:
    """The id of the request `scope` belongs to (None outside RequestIdMiddleware)."""
    value = scope.get(_SCOPE_KEY)
    return value if isinstance(value, str) else None


class RequestIdMiddleware:
    """Outermost layer, so that every answer carries the id: CORS preflights, tunnelling
    refusals and 500s included."""

    __slots__ = ("app",)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = assign_request_id(scope)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A new list: the one in the message may be the Response object's own.
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, send_with_id)
