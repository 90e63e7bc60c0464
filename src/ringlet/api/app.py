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
from ringlet.api.errors import handle_http_exception, handle_ringlet_error, handle_unexpected
from ringlet.api.routes import OPERATIONS, Operation
from ringlet.domain.errors import AppPermissionMissing, RingletError

if TYPE_CHECKING:
    from ringlet.bootstrap import Services


def _endpoint(operation: Operation) -> object:
    handler = operation.handler
    permission = operation.app_permission
    public = operation.public

    async def endpoint(request: Request) -> Response:
        services: Services = request.app.state.services
        caller = None
        if not public:
            caller = await authenticate(request, services)
            if permission is not None and permission not in caller.app_permissions:
                raise AppPermissionMissing(permission.value)
        request.state.operation = operation
        return await handler(Ctx(request, services, caller))

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
        Route(op.path, endpoint=_endpoint(op), methods=[op.method])  # type: ignore[arg-type]
        for op in OPERATIONS
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            RingletError: handle_ringlet_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
    )
    app.state.services = services
    return app
