"""The one place that turns errors into HTTP responses.

Domain errors carry only codes and messages; the status comes from the family an error
belongs to, found along its MRO. Under /restapi/oauth/ the body is OAuth's (RFC 6749 `error`
and `error_description`, plus RingCentral's `errors[]`); elsewhere RingCentral's envelope:
the first error repeated at the top level (what the SDKs read) and the list in `errors`.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Match, Route

from ringlet.api.middleware.request_id import REQUEST_ID_HEADER, request_id
from ringlet.api.responses import json_response
from ringlet.domain import errors as e

log = logging.getLogger("ringlet.api")

_STATUS_BY_FAMILY: dict[type[e.RingletError], int] = {
    e.InvalidInput: 400,
    e.Unauthenticated: 401,
    e.Forbidden: 403,
    e.NotFound: 404,
    e.MethodNotAllowed: 405,
    e.RequestTooLarge: 413,
    e.UnsupportedMediaType: 415,
    e.RangeNotSatisfiable: 416,
    e.RateLimited: 429,
    e.ServiceUnavailable: 503,
    e.OAuthError: 400,
}


def status_of(error: e.RingletError) -> int:
    for cls in type(error).__mro__:
        status = _STATUS_BY_FAMILY.get(cls)
        if status is not None:
            return status
    return 500


def error_body(error: e.RingletError, *, oauth: bool = False) -> dict[str, Any]:
    """RingCentral's envelope, or OAuth's (`oauth`, or an OAuthError) for /restapi/oauth/*."""
    item: dict[str, Any] = {"errorCode": error.error_code, "message": error.message}
    for key, value in (
        ("parameterName", error.parameter_name),
        ("parameterValue", error.parameter_value),
        ("permissionName", error.permission_name),
    ):
        if value is not None:
            item[key] = value
    if oauth or isinstance(error, e.OAuthError):
        word = error.oauth_error if isinstance(error, e.OAuthError) else "invalid_request"
        if isinstance(error, e.ServiceUnavailable):
            word = "temporarily_unavailable"  # RFC 6749 §5.2's word for it
        return {"error": word, "error_description": error.message, "errors": [item]}
    return {**item, "errors": [item]}


def _is_oauth(request: Request | None) -> bool:
    return request is not None and request.url.path.startswith("/restapi/oauth/")


def error_response(error: e.RingletError, request: Request | None = None) -> Response:
    headers: dict[str, str] = {}
    if isinstance(error, e.Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="RingCentral REST API"'
    if isinstance(error, e.RateLimited | e.ServiceUnavailable):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, e.RangeNotSatisfiable):
        headers["Content-Range"] = f"bytes */{error.length}"
    if isinstance(error, e.MethodNotAllowed) and error.allowed:
        headers["Allow"] = ", ".join(error.allowed)
    return json_response(error_body(error, oauth=_is_oauth(request)), status_of(error), headers)


async def handle_ringlet_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, e.RingletError)
    return error_response(exc, request)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no route, wrong method) in RingCentral's envelope."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return error_response(e.MethodNotAllowed(request.method, _allowed(request)), request)
    if exc.status_code == 404:
        return error_response(e.InvalidUri(), request)
    return error_response(e.InvalidInput(str(exc.detail)), request)


def _allowed(request: Request) -> tuple[str, ...]:
    """Every method some route of this path serves. Starlette's own 405 names only the first
    route that matched the path, and the table has one route per operation and method."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches(request.scope)
            if match is not Match.NONE:
                methods |= route.methods
    if methods:
        methods.add("OPTIONS")  # every path answers CORS preflights (api/middleware/cors.py)
    return tuple(sorted(methods))


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    if isinstance(exc, ClientDisconnect):
        # The client went away before its body was read: nothing to answer, nothing wrong
        # here, and a line per occurrence would let anyone flood the log.
        log.debug("client left during %s %s", request.method, request.url.path)
        return Response(status_code=400)
    log.exception(
        "unhandled error on %s %s (%s %s)",
        request.method,
        request.url.path,
        REQUEST_ID_HEADER,
        request_id(request.scope),
    )
    return json_response(
        {
            "errorCode": "CMN-500",
            "message": "Internal server error",
            "errors": [{"errorCode": "CMN-500", "message": "Internal server error"}],
        },
        500,
    )
