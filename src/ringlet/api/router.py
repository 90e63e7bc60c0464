"""Starlette's router, with the routes grouped by how many segments their path has.

Starlette tries every route in turn, a regular expression each: the message list, 16th in the
table, cost 16 matches a request (~8 us, the largest single cost of a memoised list page). A
request is matched here only against the routes of its own length (a path parameter never
spans a `/`), in table order, so the answer is the one the full table would give: the first
route that matches wins, a route of the right path but another method answers 405. Whatever
its group does not match goes through Starlette's full matching (trailing-slash redirects, 404).

`find` gives the entry point's direct path (api/entry.py) the same answer without the ASGI
call: the route that serves a method on a path, remembered for the paths seen last.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Final

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Route, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send

# Paths remembered by `find`: the usual ones (`.../extension/~/sms`) are few; those with ids
# come and go, and the memory starts over when full.
_FOUND_MAX: Final = 1024


def _segments(path: str) -> int:
    return path.count("/")


class IndexedRouter(Router):
    def __init__(self, routes: Sequence[BaseRoute], **options: Any) -> None:
        super().__init__(routes=list(routes), **options)
        grouped: dict[int, list[BaseRoute]] = defaultdict(list)
        for route in routes:
            if isinstance(route, WebSocketRoute):
                continue  # matched by Starlette's own table: WebSocket scopes go there
            if not isinstance(route, Route) or ":path}" in route.path:
                raise ValueError(f"not a fixed-length route: {route!r}")
            grouped[_segments(route.path)].append(route)
        unmatched = functools.partial(Router.app, self)  # the full table's own answer
        self._groups = {
            n: Router(routes=group, redirect_slashes=False, default=unmatched)
            for n, group in grouped.items()
        }
        self._grouped = dict(grouped)
        self._found: dict[tuple[str, str], tuple[Route, dict[str, Any]]] = {}

    def find(self, method: str, path: str) -> tuple[Route, dict[str, Any]] | None:
        """The route `app` would hand an HTTP `method` on `path` (a route path, without any
        root path) to, and its path parameters; None when `app` would answer otherwise: 405,
        a redirect, 404. The parameters are shared: read them, never change them."""
        key = (method, path)
        found = self._found.get(key)
        if found is not None:
            return found
        for route in self._grouped.get(_segments(path), ()):
            assert isinstance(route, Route)
            match = route.path_regex.match(path)
            if match is None or route.methods is None or method not in route.methods:
                continue  # as Starlette: a later route of this path and method still wins
            params = {
                name: route.param_convertors[name].convert(value)
                for name, value in match.groupdict().items()
            }
            if len(self._found) >= _FOUND_MAX:
                self._found.clear()
            self._found[key] = found = (route, params)
            return found
        return None

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            group = self._groups.get(_segments(get_route_path(scope)))
            if group is not None:
                scope.setdefault("router", self)
                await group.app(scope, receive, send)
                return
        await super().app(scope, receive, send)
