"""What a handler gets: the request, the caller, the services, and parsed parameters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from ringlet.api.query import Query
from ringlet.domain.access import Reach, resolve_account, resolve_extension
from ringlet.domain.model import Caller

if TYPE_CHECKING:
    from ringlet.bootstrap import Services


@dataclass
class Ctx:
    request: Request
    services: Services
    _caller: Caller | None

    @property
    def caller(self) -> Caller:
        """The authenticated caller; only public operations run without one."""
        assert self._caller is not None, "operation declared public but reads the caller"
        return self._caller

    @cached_property
    def query(self) -> Query:
        return Query(self.request.scope["query_string"].decode("latin-1"))

    def path(self, name: str) -> str:
        return str(self.request.path_params[name])

    @cached_property
    def base_url(self) -> str:
        """The prefix of every `uri`: `--public-url`, else `scheme://host[:port]` as the client
        reached us (its Host checked by api/middleware/host.py)."""
        return self.services.settings.public_url or base_url(self.request)

    def account_id(self) -> int:
        """R14: the `{accountId}` of the path, `~` resolved."""
        return resolve_account(self.caller, self.path("accountId"))

    def extension_id(self, reach: Reach) -> int:
        """R14: the `{extensionId}` of the path, `~` resolved, if the caller may reach it."""
        self.account_id()
        return resolve_extension(self.caller, self.path("extensionId"), reach)


Handler = Callable[[Ctx], Awaitable[Response]]


def base_url(request: Request) -> str:
    """Starlette's `request.base_url` without its trailing slash. The usual case, a Host header
    and no root path, is written out here: Starlette builds and parses two URL objects for it,
    and every answer with a `uri` asks."""
    scope = request.scope
    if not scope.get("root_path"):
        for name, value in scope["headers"]:
            if name == b"host":
                return f"{scope['scheme']}://{value.decode('latin-1')}"
    return str(request.base_url).rstrip("/")
