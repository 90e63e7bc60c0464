"""Who may use ringlet's inspection endpoints under /_ringlet/ (handsets, the carrier, reset,
the web inbox, and other branches' journals and controls).

- `--no-inspect`: nobody; they answer 404 as unknown paths do.
- `--admin-token` set: only requests presenting it in X-Ringlet-Admin-Token (403 otherwise).
- neither: everyone who can reach the server, which then listens on loopback only: a server
  asked to listen on another interface refuses to start (`startup_problem`).
"""

from __future__ import annotations

import hmac
import ipaddress

from ringlet.api.context import Ctx
from ringlet.config import Settings
from ringlet.domain.errors import Forbidden, InvalidUri

ADMIN_TOKEN_HEADER = "X-Ringlet-Admin-Token"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def startup_problem(settings: Settings) -> str | None:
    """Why the server must not start with these settings, in one line; None if it may."""
    if settings.inspect and not settings.admin_token and not is_loopback(settings.host):
        return (
            f"refusing to listen on {settings.host} with the /_ringlet/ inspection endpoints "
            "open to the network: set --admin-token, or turn them off with --no-inspect"
        )
    return None


def token_presented(ctx: Ctx, expected: str) -> bool:
    presented = ctx.request.headers.get(ADMIN_TOKEN_HEADER, "")
    # Constant time: the token is all that guards these endpoints.
    return hmac.compare_digest(presented.encode(), expected.encode())


def require_inspect_access(ctx: Ctx) -> None:
    settings = ctx.services.settings
    if not settings.inspect:
        raise InvalidUri()
    expected = settings.admin_token
    if expected:
        if not token_presented(ctx, expected):
            raise Forbidden(
                f"Header [{ADMIN_TOKEN_HEADER}] is missing or wrong",
                parameter_name=ADMIN_TOKEN_HEADER,
            )
    elif not is_loopback(settings.host):
        # Not started so (startup_problem); refused all the same if built some other way.
        raise Forbidden("Inspection endpoints are open on loopback servers only")
