"""CORS, so that browser apps (RingCentral's JS SDK in a page) can call ringlet from another
origin. Starlette's CORSMiddleware does the work; this module holds ringlet's policy.

- Origins: Settings.cors_origins (`--cors-origins`, RINGLET_CORS_ORIGINS): "*" or a comma list.
- No credentials mode. The SDKs carry the access token in the Authorization header, which a
  script sets itself: that needs the header allowed in the preflight, not credentials (which
  are cookies and the browser's own HTTP authentication). So "*" works for every origin.
- Request headers: whatever the preflight asks for is allowed (mirrored back). The JS SDK sends
  Authorization, Content-Type (even on GET), Client-Id and X-User-Agent; proxies and other
  SDKs add their own (X-HTTP-Method-Override, tracing headers...). None of them grants anything
  without a valid token.
- Response headers scripts may read: the ones RingCentral's clients use (rate limits,
  Retry-After, RCRequestId, Content-Range...).
- Private network access (Chrome's `Access-Control-Request-Private-Network`) is allowed: ringlet
  is self-hosted, often on a laptop or a private network, and called from pages served
  elsewhere.
- A refused preflight (origin not listed, method not offered) answers 400 in the route's error
  envelope, like every other refusal, rather than Starlette's plain text.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ringlet.api.errors import error_response
from ringlet.api.middleware.request_id import REQUEST_ID_HEADER
from ringlet.domain.errors import InvalidParameter

ALLOW_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
EXPOSE_HEADERS: Final = (
    "X-Rate-Limit-Group",
    "X-Rate-Limit-Limit",
    "X-Rate-Limit-Remaining",
    "X-Rate-Limit-Window",
    "Retry-After",
    REQUEST_ID_HEADER,
    "Content-Range",
    "Accept-Ranges",
    "Content-Disposition",
    "Location",
    "WWW-Authenticate",
)
# Browsers cap it (Chromium at 2 hours); one preflight per URL and method is the floor anyway,
# since message URLs carry ids.
MAX_AGE_SECONDS: Final = 7200
# Named in the preflight so that the refusal says which header to fix.
_ORIGIN: Final = "Origin"
_REQUEST_METHOD: Final = "Access-Control-Request-Method"
# Added to every answer to a request without Origin (here and in api/entry.py).
VARY_ORIGIN: Final = (b"vary", b"Origin")


def parse_origins(setting: str) -> tuple[str, ...]:
    """("*",) for "*" (also within a list); else the listed origins. Browsers send an origin
    as scheme://host[:port] in lower case and without a path, so a trailing slash or capitals
    in the setting are forgiven. Empty: no origin may call (CORS off)."""
    origins = tuple(
        dict.fromkeys(o.strip().rstrip("/").lower() for o in setting.split(",") if o.strip())
    )
    return ("*",) if "*" in origins else origins


class CorsMiddleware(CORSMiddleware):
    def __init__(self, app: ASGIApp, origins: str) -> None:
        super().__init__(
            app,
            allow_origins=parse_origins(origins),
            allow_methods=ALLOW_METHODS,
            allow_headers=("*",),
            allow_credentials=False,
            allow_private_network=True,
            expose_headers=EXPOSE_HEADERS,
            max_age=MAX_AGE_SECONDS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, _ in scope["headers"]:
            if key == b"origin":
                break
        else:
            # No Origin: an SDK, curl, a proxy, or a browser on ringlet's own origin. Nothing
            # to add but Vary, so that a cache never hands this answer to a cross-origin page.
            # Starlette's general path would cost about 8 µs a request instead of 1 (measured
            # on the ASGI app), on every request of the send path.
            await self.app(scope, receive, _with_vary_origin(send))
            return
        if scope["method"] == "OPTIONS":
            headers = Headers(scope=scope)
            if "access-control-request-method" in headers:
                response = self.preflight_response(request_headers=headers)
                if response.status_code != 200:
                    # Starlette refuses in plain text; the API's refusals have its envelope.
                    response = self._refusal(Request(scope), headers, response)
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def _refusal(self, request: Request, headers: Headers, refused: Response) -> Response:
        # Headers are always allowed and private network access too, so only the origin or the
        # method can be the reason.
        name = _REQUEST_METHOD if self.is_allowed_origin(headers["origin"]) else _ORIGIN
        value = headers[name]
        response = error_response(
            InvalidParameter(name, "not allowed by this server's CORS settings", value=value),
            request,
        )
        # Keep Starlette's preflight headers (Vary, allowed methods...) on the refusal.
        for key, header_value in refused.headers.items():
            if key not in ("content-length", "content-type"):
                response.headers[key] = header_value
        return response


def _with_vary_origin(send: Send) -> Send:
    # A separate `Vary` field line: HTTP reads several as one comma-separated list.
    async def send_with_vary(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), VARY_ORIGIN]
        await send(message)

    return send_with_vary
