"""At most `Settings.max_active_requests` (64) requests are worked on at once; the others wait
their turn, first come first served, before anything is done for them. `GET /_ringlet/health`
never waits.

Why: the event loop serves every request in small steps, one after another. With 1,024
clients sending at once, each turn of the loop steps through all of them, so a new request,
even one that costs nothing, waits for as many turns as it has steps, each as long as a
thousand steps of other requests. Waiting requests cost the loop nothing, so with a bound a
turn is as long as the bound's worth of steps, and the health check (the probe of a load
balancer, which must not time out because the server is busy) is answered in a few short
turns. The others lose nothing: the writer's group commit is at its best by 64 concurrent sends
(the bench's send scenario), and a request's wait was there before, spread over the loop's
turns. Measured in bench `busy` on a 2-core machine at load 8-9: with 128, max 1.3 s; with 64,
0.75-0.8 s.
"""

from __future__ import annotations

import asyncio
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

_NEVER_WAITS: Final = frozenset({"/_ringlet/health"})


class AdmissionMiddleware:
    __slots__ = ("_slots", "app")

    def __init__(self, app: ASGIApp, max_active: int) -> None:
        self.app = app
        self._slots = asyncio.Semaphore(max_active)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _NEVER_WAITS:
            await self.app(scope, receive, send)
            return
        async with self._slots:
            await self.app(scope, receive, send)
