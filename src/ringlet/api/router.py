"""Starlette's router, with the routes grouped by how many segments their path has.

Starlette tries every route in turn, a regular expression each: the message list, 16th in the
table, cost 16 matches a request (~8 us, the largest single cost of a memoised list page). A
request is matched here only against the routes of its own length (a path parameter never
spans a `/`), in table order, so the answer is the one the full table would give: the first
route that matches wins, a route of the right path but another method answers 405. Whatever
its group does not match goes through Starlette's full matching (trailing-slash redirects, 404).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Route, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send


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

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            group = self._groups.get(_segments(get_route_path(scope)))
            if group is not None:
                scope.setdefault("router", self)
                await group.app(scope, receive, send)
                return
        await super().app(scope, receive, send)
