"""The ASGI application: the route table, the error mapping, and the service container."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ringlet.api.auth import authenticate
from ringlet.api.context import Ctx
from ringlet.api.errors import (
    error_response,
    handle_http_exception,
    handle_ringlet_error,
    handle_unexpected,
)
from ringlet.api.middleware.stack import http_middleware
from ringlet.api.rate_limit import RateLimiter, auth_key
from ringlet.api.router import IndexedRouter
from ringlet.api.routes import OPERATIONS, Operation
from ringlet.domain import permissions
from ringlet.domain.errors import AppPermissionMissing, RingletError

if TYPE_CHECKING:
    from ringlet.bootstrap import Services


def _endpoint(operation: Operation, rate_limiter: RateLimiter) -> object:
    """The one wrapper around every handler: authentication, the rate limit of the operation's
    throttling group, the app permission, the user permission; then the handler. Each check
    costs a lookup or two: this runs before every send."""
    handler = operation.handler
    app_permission = operation.app_permission
    user_permission = operation.user_permission
    # Most operations need a permission every user holds: checked once here, not per request.
    check_user_permission = not permissions.everyone_holds(user_permission)
    public = operation.public
    throttle = rate_limiter.group(operation.throttling_group)
    unspent = throttle.limit if throttle is not None else 0

    async def endpoint(request: Request) -> Response:
        services: Services = request.app.state.services
        request.state.operation = operation
        # Nothing is counted until the key is known (a 401 does not count).
        remaining = unspent
        try:
            caller = None
            if not public:
                caller = await authenticate(request, services)
                if throttle is not None:
                    remaining = 0  # what a refused request shows
                    remaining = throttle.take((caller.extension_id, caller.app_id))
                if app_permission is not None and app_permission not in caller.app_permissions:
                    raise AppPermissionMissing(app_permission.value)
                if check_user_permission:
                    account_ref = request.path_params.get("accountId")
                    permissions.require(caller, user_permission, account_ref)
            elif throttle is not None:
                key = await auth_key(request, services.settings.max_body_bytes)
                remaining = 0
                remaining = throttle.take(key)
            response = await handler(Ctx(request, services, caller))
        except RingletError as exc:
            # Answered here rather than by the app's exception handlers (the same functions)
            # so that errors, too, carry the rate headers.
            response = error_response(exc, request)
        except HTTPException as exc:
            response = await handle_http_exception(request, exc)
        except Exception as exc:
            response = await handle_unexpected(request, exc)
        if throttle is not None:
            response.raw_headers.extend(throttle.headers(remaining))
        return response

    endpoint.__name__ = operation.operation_id
    return endpoint


def create_app(services: Services) -> Starlette:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        services.db.start()
        try:
            yield
        finally:
            services.db.close()

    routes = [
        Route(
            op.path,
            endpoint=_endpoint(op, services.rate_limiter),  # type: ignore[arg-type]
            methods=[op.method],
        )
        for op in OPERATIONS
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=http_middleware(services.settings),
        exception_handlers={
            RingletError: handle_ringlet_error,
            HTTPException: handle_http_exception,
            # For failures in the layers outside ServerErrorsMiddleware; the others are
            # answered there (api/middleware/server_errors.py).
            Exception: handle_unexpected,
        },
    )
    # The same routes and lifespan, matched faster (api/router.py). Set before the first
    # request, when Starlette builds its middleware stack around `app.router`.
    app.router = IndexedRouter(routes, lifespan=lifespan)
    app.state.services = services
    return app
