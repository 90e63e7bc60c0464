"""The indexed router answers every request as Starlette's plain router over the same table:
the same route for each path and method, 405 for a known path with another method, the same
trailing-slash redirect and 404 otherwise."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, Router

from ringlet.api.router import IndexedRouter
from ringlet.api.routes import OPERATIONS


def _routes() -> list[Route]:
    def endpoint_for(operation_id: str) -> Any:
        async def endpoint(request: Request) -> PlainTextResponse:
            return PlainTextResponse(f"{operation_id} {sorted(request.path_params.items())}")

        return endpoint

    return [Route(op.path, endpoint_for(op.operation_id), methods=[op.method]) for op in OPERATIONS]


def _answer(router_class: type[Router], method: str, path: str) -> httpx.Response:
    app = Starlette()
    app.router = router_class(_routes())

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ringlet") as client:
            return await client.request(method, path)

    return asyncio.run(call())


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "~" if "Id}" in m.group(0) else "v1.0", path)


PATHS = [
    *sorted({_concrete(op.path) for op in OPERATIONS}),
    "/restapi/v1.0/account/~/extension/~/message-store/1,2,3",
    "/restapi/v1.0/account/~/extension/~/sms/",  # trailing slash: redirected
    "/restapi/v1.0/account/~/extension/~/nothing-here",
    "/restapi/v1.0/account/~/extension/~/message-store/1/content/1/extra",
    "/",
    "/_ringlet/health/",
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_same_answer_as_starlettes_router(path: str, method: str) -> None:
    plain = _answer(Router, method, path)
    indexed = _answer(IndexedRouter, method, path)
    assert (indexed.status_code, indexed.text, indexed.headers.get("location")) == (
        plain.status_code,
        plain.text,
        plain.headers.get("location"),
    )


def test_every_operation_is_reached() -> None:
    for op in OPERATIONS:
        answer = _answer(IndexedRouter, op.method, _concrete(op.path))
        assert answer.text.startswith(op.operation_id + " "), (op.operation_id, answer.text)
