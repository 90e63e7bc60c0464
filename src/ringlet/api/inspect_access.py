"""Who may use ringlet's inspection and control endpoints under /_ringlet/: callers on the
loopback interface. (Minimal version; the carrier area extends it with `--admin-token` and
`--no-inspect`, same signature.)"""

from __future__ import annotations

import ipaddress

from ringlet.api.context import Ctx
from ringlet.domain.errors import Forbidden


def require_inspect_access(ctx: Ctx) -> None:
    client = ctx.request.client
    host = client.host if client is not None else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise Forbidden("ringlet's inspection endpoints answer only on the loopback interface")
