"""A request's headers by name, looked up without Starlette's `Headers`: its `get` decodes and
compares every header for each lookup, and the send path asks for three (Authorization,
Content-Length, Content-Type). Here the raw headers become one dict per request, built once:
by the entry point (api/entry.py), which has it already, or at the first lookup."""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.types import Scope

_SCOPE_KEY: Final = "ringlet.headers"


def keep_index(scope: Scope, index: dict[bytes, bytes]) -> None:
    """Keep `index` (raw name -> value, each name once) for the lookups of this request."""
    scope[_SCOPE_KEY] = index


def header(request: Request, name: bytes) -> str | None:
    """The first value of the header `name` (lower case), or None; as `request.headers.get`."""
    scope = request.scope
    index: dict[bytes, bytes] | None = scope.get(_SCOPE_KEY)
    if index is None:
        # reversed: where a name comes twice, the first value wins, as in Starlette's Headers.
        index = dict(reversed(scope["headers"]))
        scope[_SCOPE_KEY] = index
    value = index.get(name)
    return None if value is None else value.decode("latin-1")
