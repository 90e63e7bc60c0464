"""The HTTP-convention layers (api/middleware) in process, for what a real server cannot be made
to do on demand: fail unexpectedly. The rest is tested end to end (e2e/test_http_conventions)."""

from __future__ import annotations

import asyncio
import logging
import uuid

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ringlet.api.errors import handle_unexpected
from ringlet.api.middleware.cors import parse_origins
from ringlet.api.middleware.request_id import new_request_id
from ringlet.api.middleware.stack import http_middleware
from ringlet.config import Settings


async def _boom(request: Request) -> Response:
    raise RuntimeError("boom")


def _failing_app() -> Starlette:
    return Starlette(
        routes=[Route("/restapi/v1.0/boom", _boom, methods=["GET", "PUT"])],
        middleware=http_middleware(Settings()),
        exception_handlers={Exception: handle_unexpected},
    )


def _get(app: Starlette, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.request(method, path, headers=headers)

    return asyncio.run(call())


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/restapi/v1.0/boom", {}),
        # Tunnelled: the failure is answered the same way.
        ("POST", "/restapi/v1.0/boom?_method=PUT", {}),
    ],
)
def test_an_unexpected_failure_is_a_500_with_cors_and_request_id(
    caplog: pytest.LogCaptureFixture, method: str, path: str, headers: dict[str, str]
) -> None:
    with caplog.at_level(logging.ERROR, logger="ringlet.api"):
        response = _get(_failing_app(), method, path, {"Origin": "http://app.example", **headers})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    assert response.json()["errorCode"] == "CMN-500"
    # A browser can read it: the CORS headers are there.
    assert response.headers["access-control-allow-origin"] == "*"
    rid = response.headers["rcrequestid"]
    # Logged once, naming the request id the client saw.
    failures = [r for r in caplog.records if r.name == "ringlet.api"]
    assert len(failures) == 1
    assert rid in failures[0].getMessage()
    assert failures[0].exc_info is not None


def test_request_ids_are_random_uuid4() -> None:
    ids = [new_request_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    for raw in ids:
        parsed = uuid.UUID(raw)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == raw
    # Every variant digit occurs (the two random bits of that digit are not fixed).
    assert {raw[19] for raw in ids} == set("89ab")


@pytest.mark.parametrize(
    ("setting", "origins"),
    [
        ("*", ("*",)),
        ("http://a.example, *", ("*",)),
        (
            " http://a.example , HTTPS://B.example:8443/ ",
            ("http://a.example", "https://b.example:8443"),
        ),
        ("http://a.example,http://a.example/", ("http://a.example",)),
        ("", ()),
        (" , ", ()),
    ],
)
def test_parse_origins(setting: str, origins: tuple[str, ...]) -> None:
    assert parse_origins(setting) == origins
