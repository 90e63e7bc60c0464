"""The reference of the large-store benchmark (bench/scale.py): a bare Starlette app on the paths
of the operations measured, answering each with the bytes ringlet answered with (captured once,
before timing). Nothing is stored, looked up or authenticated.

Which captured answer a request gets is chosen by its path and by the names of its query
parameters (not their values), as the benchmark's requests differ:

    GET    .../message-store?conversationId=...          list_conversation
    GET    .../message-store?readStatus=...              list_unread
    GET    .../message-store?messageType=...             list_pager
    GET    .../message-store?distinctConversations=...   list_distinct
    GET    .../message-store?...                         list_default
    GET    .../message-store/{id}                        read
    GET    .../message-sync?...                          isync
    DELETE .../message-store?...                         204, no body

BENCH_SCALE_RESPONSES names a JSON file mapping each operation's name to a file of its bytes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_STORE = "/restapi/v1.0/account/~/extension/~/message-store"
_SYNC = "/restapi/v1.0/account/~/extension/~/message-sync"
# The first query parameter of this list that a list request carries names its operation.
_LIST_KEYS = (
    ("conversationId", "list_conversation"),
    ("readStatus", "list_unread"),
    ("messageType", "list_pager"),
    ("distinctConversations", "list_distinct"),
)


def _load() -> dict[str, bytes]:
    index = os.environ.get("BENCH_SCALE_RESPONSES")
    if not index:
        return {}
    files: dict[str, str] = json.loads(Path(index).read_text())
    return {name: Path(path).read_bytes() for name, path in files.items()}


RESPONSES = _load()
_EMPTY = b'{"records":[]}'


def _json(name: str) -> Response:
    return Response(RESPONSES.get(name, _EMPTY), media_type="application/json")


async def message_store(request: Request) -> Response:
    if request.method == "DELETE":
        return Response(status_code=204)
    params = request.query_params
    for key, name in _LIST_KEYS:
        if key in params:
            return _json(name)
    return _json("list_default")


async def message(request: Request) -> Response:
    return _json("read")


async def message_sync(request: Request) -> Response:
    return _json("isync")


app = Starlette(
    routes=[
        Route(_STORE, message_store, methods=["GET", "DELETE"]),
        Route(_STORE + "/{message_id}", message, methods=["GET"]),
        Route(_SYNC, message_sync, methods=["GET"]),
    ]
)
