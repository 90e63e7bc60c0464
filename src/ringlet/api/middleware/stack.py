"""The layers around the router, outermost first, and why in this order.

0. AccessLogMiddleware (only with --access-log): outermost, so that it times the whole
   request and reads the id the next layer writes into the scope.
1. RequestIdMiddleware: outermost, so that every answer carries `RCRequestId`, including the
   ones the inner layers give themselves (preflights, tunnelling refusals, 500s). It also
   writes the id into the scope in place, so that even Starlette's ServerErrorMiddleware
   (outside every user layer) can log it.
2. CorsMiddleware: answers preflights before anything else looks at the method (a preflight is
   an OPTIONS that no route has), and adds the CORS headers to every answer inside it.
3. ServerErrorsMiddleware: turns an unhandled failure into the 500 inside the CORS layer, so a
   browser can read it.
3a. HostMiddleware (unless --public-url fixes the base of every uri): refuses a Host that does
   not name this server before any layer inside could echo it; inside CORS so that a browser
   can read the refusal.
3b. AdmissionMiddleware: the bound on requests worked on at once, which the health check
   skips; after the Host check so that a refused request does not wait for a turn.
4. MethodOverrideMiddleware: innermost, so that the router sees the tunnelled method.

The usual API request skips these layers (api/entry.py) but meets the same rules: it shares
their state (`Gates`: the admission bound, the Host policy and its memory) and their code.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.middleware import Middleware

from ringlet.api.middleware.access_log import AccessLogMiddleware
from ringlet.api.middleware.admission import Admission, AdmissionMiddleware
from ringlet.api.middleware.cors import CorsMiddleware
from ringlet.api.middleware.host import HostMiddleware, HostPolicy
from ringlet.api.middleware.method_override import MethodOverrideMiddleware
from ringlet.api.middleware.request_id import RequestIdMiddleware
from ringlet.api.middleware.server_errors import ServerErrorsMiddleware
from ringlet.config import Settings


@dataclass(frozen=True, slots=True)
class Gates:
    """What the layers hold across requests, one per application."""

    admission: Admission
    host_policy: HostPolicy | None  # None with --public-url: Host is not checked

    @classmethod
    def from_settings(cls, settings: Settings) -> Gates:
        policy = HostPolicy(settings.host) if settings.public_url is None else None
        return cls(Admission(settings.max_active_requests), policy)


def http_middleware(settings: Settings, gates: Gates | None = None) -> list[Middleware]:
    gates = gates or Gates.from_settings(settings)
    layers = [
        Middleware(RequestIdMiddleware),
        Middleware(CorsMiddleware, origins=settings.cors_origins),
        Middleware(AdmissionMiddleware, admission=gates.admission),
        Middleware(ServerErrorsMiddleware),
        Middleware(MethodOverrideMiddleware),
    ]
    if gates.host_policy is not None:
        layers.insert(2, Middleware(HostMiddleware, policy=gates.host_policy))
    if settings.access_log:
        layers.insert(0, Middleware(AccessLogMiddleware))
    return layers
