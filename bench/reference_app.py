"""The fixed reference the benchmark compares ringlet against.

A bare Starlette app on the same paths as the two benchmarked operations. It does the least a JSON
API can do: the send endpoint parses the request's JSON body, and both endpoints answer with the
bytes ringlet answered with (captured by the benchmark once, before timing), so the response size is
the same. Nothing is stored, nothing is authenticated.

The benchmark starts it with uvicorn (one worker, loop/http auto) and tells it which bytes to return
through two environment variables naming files:

    BENCH_SEND_RESPONSE   bytes returned by POST .../extension/~/sms
    BENCH_LIST_RESPONSE   bytes returned by GET  .../extension/~/message-store
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_DEFAULT = b'{"uri":"reference"}'


def _load(variable: str) -> bytes:
    path = os.environ.get(variable)
    return Path(path).read_bytes() if path else _DEFAULT


SEND_RESPONSE = _load("BENCH_SEND_RESPONSE")
LIST_RESPONSE = _load("BENCH_LIST_RESPONSE")


async def send_sms(request: Request) -> Response:
    body = await request.json()
    if not isinstance(body, dict) or "text" not in body:
        return Response(b'{"errorCode":"CMN-101"}', status_code=400, media_type="application/json")
    return Response(SEND_RESPONSE, media_type="application/json")


async def list_messages(request: Request) -> Response:
    return Response(LIST_RESPONSE, media_type="application/json")


app = Starlette(
    routes=[
        Route("/restapi/v1.0/account/~/extension/~/sms", send_sms, methods=["POST"]),
        Route("/restapi/v1.0/account/~/extension/~/message-store", list_messages, methods=["GET"]),
    ]
)
