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
from collections import deque
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

NEVER_WAITS: Final = frozenset({"/_ringlet/health"})


class Admission:
    """The bound itself, one per application: shared by the layer below and by the entry
    point's direct path (api/entry.py), so that both count against it.

    A turn freed goes straight to the longest waiter, so nobody overtakes a waiting request.
    Written out rather than an asyncio.Semaphore: the semaphore's `acquire` scans its waiters
    with a generator on every call, a cost paid by every request of the send path."""

    __slots__ = ("_free", "_waiters")

    def __init__(self, max_active: int) -> None:
        self._free = max_active
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def __aenter__(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        turn = asyncio.get_running_loop().create_future()
        self._waiters.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._leave()  # handed a turn just as it was cancelled: pass it on
            else:
                self._waiters.remove(turn)
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._leave()

    def _leave(self) -> None:
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_result(None)  # the turn passes on; `_free` stays as it is
                return
        self._free += 1


class AdmissionMiddleware:
    __slots__ = ("_admission", "app")

    def __init__(self, app: ASGIApp, admission: Admission) -> None:
        self.app = app
        self._admission = admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in NEVER_WAITS:
            await self.app(scope, receive, send)
            return
        async with self._admission:
            await self.app(scope, receive, send)
