"""The ASGI application: the route table, the error mapping, and the service container."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from ringlet.api.auth import authenticate
from ringlet.api.context import Ctx
from ringlet.api.entry import RingletApp
from ringlet.api.errors import (
    error_response,
    handle_http_exception,
    handle_ringlet_error,
    handle_unexpected,
)
from ringlet.api.middleware.stack import Gates, http_middleware
from ringlet.api.rate_limit import RateLimiter, auth_key
from ringlet.api.router import IndexedRouter
from ringlet.api.routes import OPERATIONS, Operation
from ringlet.domain import permissions
from ringlet.domain.errors import AppPermissionMissing, RingletError
from ringlet.ws import gateway

if TYPE_CHECKING:
    from ringlet.bootstrap import Services


class _Endpoint:
    """The one wrapper around every handler: authentication, the rate limit of the operation's
    throttling group, the app permission, the user permission; then the handler. Each check
    costs a lookup or two: this runs before every send.

    A plain ASGI app rather than a function for Starlette to wrap: Starlette's wrapper adds a
    Request and an exception-handling layer per request, and every failure is answered here
    already."""

    __slots__ = (
        "app_permission",
        "check_user_permission",
        "handler",
        "operation",
        "public",
        "throttle",
        "unspent",
        "user_permission",
    )

    def __init__(self, operation: Operation, rate_limiter: RateLimiter) -> None:
        self.operation = operation
        self.handler = operation.handler
        self.app_permission = operation.app_permission
        self.user_permission = operation.user_permission
        # Most operations need a permission every user holds: checked once here, not per request.
        self.check_user_permission = not permissions.everyone_holds(operation.user_permission)
        self.public = operation.public
        self.throttle = rate_limiter.group(operation.throttling_group)
        self.unspent = self.throttle.limit if self.throttle is not None else 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        response = await self.respond(request)
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        services: Services = request.app.state.services
        throttle = self.throttle
        # Nothing is counted until the key is known (a 401 does not count).
        remaining = self.unspent
        try:
            caller = None
            if not self.public:
                caller = await authenticate(request, services)
                if throttle is not None:
                    remaining = 0  # what a refused request shows
                    remaining = throttle.take((caller.extension_id, caller.app_id))
                app_permission = self.app_permission
                if app_permission is not None and app_permission not in caller.app_permissions:
                    raise AppPermissionMissing(app_permission.value)
                if self.check_user_permission:
                    account_ref = request.path_params.get("accountId")
                    permissions.require(caller, self.user_permission, account_ref)
            elif throttle is not None:
                key = await auth_key(request, services.settings.max_body_bytes)
                remaining = 0
                remaining = throttle.take(key)
            response = await self.handler(Ctx(request, services, caller))
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


def create_app(services: Services) -> RingletApp:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        services.db.start()
        services.carrier_worker.start()
        try:
            await services.notify.start()
            try:
                yield
            finally:
                await services.notify.stop()
        finally:
            await services.carrier_worker.stop()
            await services.ws_gateway.close_all()
            services.db.close()

    routes: list[BaseRoute] = [
        Route(
            op.path,
            endpoint=_Endpoint(op, services.rate_limiter),
            name=op.operation_id,
            methods=[op.method],
        )
        for op in OPERATIONS
    ]
    routes.append(WebSocketRoute(gateway.GATEWAY_PATH, gateway.endpoint, name="webSocketGateway"))
    gates = Gates.from_settings(services.settings)
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=http_middleware(services.settings, gates),
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
    router = IndexedRouter(routes, lifespan=lifespan)
    app.router = router
    app.state.services = services
    return RingletApp(app, router, gates, direct=not services.settings.access_log)
