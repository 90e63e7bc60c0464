"""What rate limiting and the user-permission check add to every request: a micro-benchmark.

    python -m bench.rate_limit_overhead

Times, per request, in this process and without HTTP:
1. `GroupLimiter.take` + `headers` alone, with the real clock, counting (off) and enforcing (on);
2. the whole endpoint wrapper of api/app.py around a handler that only builds a response, with
   authentication answered from memory, against a copy of the wrapper as it was before (no
   rate limit, no user permission): the difference is what the new checks cost each send.

10,000 users take turns, each well under RingCentral's Medium limit (40 a minute), so the dict
of buckets is realistically large and nothing is refused: refusing is not the hot path.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ringlet.api.app import _endpoint
from ringlet.api.auth import authenticate
from ringlet.api.context import Ctx
from ringlet.api.rate_limit import DEFAULT_LIMITS, GroupLimiter, RateLimiter
from ringlet.api.routes import OPERATIONS, Operation
from ringlet.clock import system_clock
from ringlet.domain.enums import AppPermission
from ringlet.domain.errors import AppPermissionMissing
from ringlet.domain.model import Caller

ROUNDS = 9
USERS = 10_000
CALLS = 10 * USERS  # 10 per user and round: the fresh limiter of each round never refuses
CALLERS = [
    Caller(
        account_id=1,
        extension_id=100_000 + n,
        app_id=7,
        app_permissions=frozenset(AppPermission),
        is_admin=False,
    )
    for n in range(USERS)
]
Endpoint = Callable[[Request], Awaitable[Response]]


def _time_ns(run: Callable[[], None]) -> float:
    start = time.perf_counter_ns()
    run()
    return (time.perf_counter_ns() - start) / CALLS


def _compare(runs: dict[str, Callable[[], None]]) -> dict[str, tuple[float, float]]:
    """(fastest, median) ns per call of each run, taking turns round by round so that a busy
    machine (others' tests) slows them alike; the fastest round is the least disturbed."""
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(ROUNDS):
        for name, run in runs.items():
            samples[name].append(_time_ns(run))
    return {name: (min(found), statistics.median(found)) for name, found in samples.items()}


def limiter_alone(enforce: bool) -> Callable[[], None]:
    keys = [(c.extension_id, c.app_id) for c in CALLERS] * (CALLS // USERS)

    def run() -> None:
        group = GroupLimiter("Medium", DEFAULT_LIMITS["Medium"], system_clock, enforce=enforce)
        take, headers = group.take, group.headers
        for key in keys:
            headers(take(key))

    return run


# -- the endpoint wrapper -------------------------------------------------------------------


async def _handler(ctx: Ctx) -> Response:
    return Response(b"{}", media_type="application/json")


def _old_endpoint(operation: Operation) -> Endpoint:
    """api/app.py's wrapper before rate limits and user permissions, verbatim."""
    handler = operation.handler
    permission = operation.app_permission
    public = operation.public

    async def endpoint(request: Request) -> Response:
        services: Any = request.app.state.services
        caller = None
        if not public:
            caller = await authenticate(request, services)
            if permission is not None and permission not in caller.app_permissions:
                raise AppPermissionMissing(permission.value)
        request.state.operation = operation
        return await handler(Ctx(request, services, caller))

    return endpoint


class _OAuth:
    """Authentication from memory (as the memoised real one answers), one user after another."""

    def __init__(self) -> None:
        self._next = itertools.cycle(CALLERS).__next__

    async def authenticate(self, _token: str) -> Caller:
        return self._next()


def _request(services: Any) -> Request:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/restapi/v1.0/account/~/extension/~/sms",
        "headers": [(b"authorization", b"Bearer token")],
        "query_string": b"",
        "path_params": {"accountId": "~", "extensionId": "~"},
        "app": SimpleNamespace(state=SimpleNamespace(services=services)),
    }
    return Request(scope)


def wrapper(kind: str) -> Callable[[], None]:
    """`kind`: "before", "off" or "on"."""
    sms = next(op for op in OPERATIONS if op.operation_id == "createSMSMessage")
    fields = {name: getattr(sms, name) for name in Operation.__dataclass_fields__}
    operation = Operation(**{**fields, "handler": _handler})
    services = SimpleNamespace(oauth=_OAuth(), settings=SimpleNamespace(max_body_bytes=1 << 20))
    request = _request(services)

    def run() -> None:
        endpoint: Endpoint
        if kind == "before":
            endpoint = _old_endpoint(operation)
        else:
            limiter = RateLimiter(DEFAULT_LIMITS, system_clock, enforce=kind == "on")
            endpoint = _endpoint(operation, limiter)  # type: ignore[assignment]

        async def loop() -> None:
            for _ in range(CALLS):
                response = await endpoint(request)
                assert response.status_code == 200

        asyncio.run(loop())

    return run


def main() -> None:
    print(
        f"ns per request over {CALLS:,} requests of {USERS:,} users: fastest / median of {ROUNDS}"
    )
    found = _compare(
        {
            "limiter take + headers, off (counting)": limiter_alone(False),
            "limiter take + headers, on (enforcing)": limiter_alone(True),
            "endpoint wrapper before": wrapper("before"),
            "endpoint wrapper now, limits off": wrapper("off"),
            "endpoint wrapper now, limits on": wrapper("on"),
        }
    )
    before = found["endpoint wrapper before"][0]
    for name, (fastest, median) in found.items():
        extra = f"  (+{fastest - before:.0f})" if name.startswith("endpoint wrapper now") else ""
        print(f"  {name:<40} {fastest:6.0f} / {median:6.0f}{extra}")


if __name__ == "__main__":
    main()
