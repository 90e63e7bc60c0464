"""Who may use the inspection endpoints under /_ringlet/: callers on the loopback interface.
(A minimal stand-in with the shared signature; the full rules, admin token included, come
with the carrier's version.)"""

from __future__ import annotations

import ipaddress

from ringlet.api.context import Ctx
from ringlet.domain.errors import Forbidden


def require_inspect_access(ctx: Ctx) -> None:
    client = ctx.request.scope.get("client")
    host = client[0] if client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise Forbidden("The inspection endpoints answer only on the loopback interface")
