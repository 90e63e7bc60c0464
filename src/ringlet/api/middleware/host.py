"""The `Host` header, checked before anything can echo it: every `uri` in an answer starts with
`scheme://<Host>` (api/context.base_url), so an unchecked Host would let a client or a cache in
between make the server hand out links to somewhere else, or smuggle markup into the JSON.

A request is served only if its Host names this server:
- syntax first (RFC 9110 §7.2, RFC 3986 §3.2.2): a DNS name, an IPv4 address or a bracketed
  IPv6 address, then an optional port of digits; anything else is refused;
- then the name: the address the server listens on (`--host`), and when that is a loopback
  address or every interface (`0.0.0.0`, `::`), `localhost` and the loopback addresses; on every
  interface also the machine's host names and any IP address that is this machine's. The port
  is not compared: a container or a port forward may show the server under another one.

Refused: 400 CMN-101 naming `Host`, and the value is never repeated back. Missing on HTTP/1.1,
or sent twice: refused as well (RFC 9112 §3.2).

A server behind a proxy, reached under a name it cannot know, is given `--public-url`: every
uri then starts with it whatever the Host says, and Host is not checked (the proxy is the
gate). Accepted values are remembered (up to a few dozen), so the usual request costs one scan
of its headers and a set lookup.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Final

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ringlet.api.errors import error_response
from ringlet.domain.errors import InvalidParameter

_HOST: Final = re.compile(
    r"(?P<name>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\.?)"
    r"(?::(?P<port>[0-9]{1,5}))?"
)
_WILDCARDS: Final = frozenset({"", "0.0.0.0", "::"})
_LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.", "127.0.0.1", "::1"})
_REMEMBERED: Final = 64


class HostPolicy:
    """Which Host values name this server, bound to `listen_host`."""

    def __init__(self, listen_host: str) -> None:
        bound = listen_host.strip("[]").lower()
        self.any_interface = bound in _WILDCARDS
        names: set[str] = set()
        addresses: set[str] = set()
        if not self.any_interface:
            names.add(bound)
            addresses.update(_addresses_of(bound))
        loopback = self.any_interface or bound in _LOOPBACK_NAMES or _is_loopback(addresses)
        if loopback:
            names.update(_LOOPBACK_NAMES)
        if self.any_interface:
            for name in {socket.gethostname(), socket.getfqdn()}:
                if name:
                    names.add(name.lower())
        self.names = frozenset(names | addresses)
        self._accepted: set[bytes] = set()

    def accepts(self, value: bytes) -> bool:
        """`allows`, remembering the values it accepted (a set lookup for the usual request)."""
        if value in self._accepted:
            return True
        if not self.allows(value.decode("latin-1")):
            return False
        if len(self._accepted) < _REMEMBERED:
            self._accepted.add(value)
        return True

    def allows(self, value: str) -> bool:
        match = _HOST.fullmatch(value)
        if match is None:
            return False
        port = match["port"]
        if port is not None and int(port) > 65535:
            return False
        name = match["name"].strip("[]").lower()
        if name in self.names or name.rstrip(".") in self.names:
            return True
        if not self.any_interface:
            return False
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False
        return address.is_loopback or _is_local(address)


def _addresses_of(host: str) -> set[str]:
    try:
        return {str(info[4][0]).lower() for info in socket.getaddrinfo(host, None)}
    except OSError:
        return set()


def _is_loopback(addresses: set[str]) -> bool:
    return any(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses)


def _is_local(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """An address of this machine is one a socket can be bound to."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((str(address), 0))
    except OSError:
        return False
    return True


class HostMiddleware:
    __slots__ = ("app", "policy")

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        values = [value for key, value in scope["headers"] if key == b"host"]
        if len(values) == 1:
            if self.policy.accepts(values[0]):
                await self.app(scope, receive, send)
                return
        elif not values and scope.get("http_version") == "1.0":
            await self.app(scope, receive, send)  # uris then take the address it reached
            return
        refusal = InvalidParameter(
            "Host",
            "it does not name this server (behind a proxy, start the server with --public-url)",
        )
        await error_response(refusal, Request(scope))(scope, receive, send)
