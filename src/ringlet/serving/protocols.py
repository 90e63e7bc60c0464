"""uvicorn's HTTP/1.1 protocols with what a server facing the network needs and uvicorn lacks:

- a deadline for the request head: from the moment a connection opens, or a response has been
  sent on it, the client has `header_timeout` seconds to complete the next request line and
  headers. uvicorn waits for ever (its keep-alive timeout only runs while nothing at all has
  arrived), so a thousand half-sent headers would hold a thousand connections;
- a deadline for the body: from the end of the head, `body_timeout` seconds to send the whole
  body (at most 16 MiB, a fixture; 1 MiB for the API), so that trickling a body byte by byte
  holds nothing for long. The handler then sees the client as gone (a debug line);
- a bound on open connections: beyond `max_connections`, a new connection's request is
  answered 503 CMN-211 with `Retry-After` and the connection closed, instead of being held;
- (httptools) a response's head leaves with its body, in one write: uvicorn writes the two
  apart, each a system call and, with TCP_NODELAY, a packet of its own that the client reads
  apart too (`_HeadWithBody`).

A deadline that passes closes the connection, as uvicorn's keep-alive timeout does. The idle
time between requests on a keep-alive connection is uvicorn's `timeout_keep_alive`.

The limits travel on uvicorn's Config (`config.ringlet_limits`), which `--workers` hands to
each worker process, so the classes are plain module-level ones.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import resource
import time
from dataclasses import dataclass
from typing import Any, Final

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ringlet.api.errors import error_body
from ringlet.api.responses import encode
from ringlet.domain.errors import ServiceUnavailable

log = logging.getLogger("ringlet.server")

_REFUSAL_LOG_SECONDS: Final = 10.0


@dataclass(frozen=True, slots=True)
class Limits:
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    max_connections: int = 2048


_REFUSAL = ServiceUnavailable(retry_after=1)
_REFUSAL_BODY: Final = encode(error_body(_REFUSAL))
_last_refusal_log = 0.0


async def _too_many_connections(scope: Any, receive: Any, send: Any) -> None:
    """The answer on a connection over the bound (an ASGI app, as uvicorn's own 503 is)."""
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json; charset=UTF-8"),
                (b"content-length", str(len(_REFUSAL_BODY)).encode()),
                (b"retry-after", str(_REFUSAL.retry_after).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _REFUSAL_BODY})


class _Deadlines:
    """Mixed into a uvicorn protocol: one timer per connection, for the phase it is in."""

    config: Any
    connections: set[Any]
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    app: Any

    _deadline: asyncio.TimerHandle | None = None

    @property
    def _limits(self) -> Limits:
        limits: Limits = getattr(self.config, "ringlet_limits", None) or Limits()
        return limits

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            log.debug("closing a connection that did not send its request in time")
            self.transport.close()

    def _admit(self) -> None:
        """Called once the connection counts among `connections`."""
        limits = self._limits
        if len(self.connections) > limits.max_connections:
            global _last_refusal_log
            self.app = _too_many_connections
            now = time.monotonic()
            if now - _last_refusal_log >= _REFUSAL_LOG_SECONDS:
                _last_refusal_log = now
                log.warning(
                    "%d connections open, the most allowed (max_connections): new ones are "
                    "answered 503",
                    limits.max_connections,
                )
        self._arm(limits.header_timeout)


class RingletH11Protocol(_Deadlines, H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._admit()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.is_closing():
            return
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            if self._phase != "body":
                self._phase = "body"
                self._arm(self._limits.body_timeout)
        elif state is not h11.IDLE:  # the whole request is in (DONE, MUST_CLOSE, ...)
            self._phase = "done"
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._phase = "head"
            self._arm(self._limits.header_timeout)

    _phase = "head"


try:  # httptools is an optional speed-up of uvicorn
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _HttpTools
except ImportError:  # pragma: no cover - httptools not installed
    _HttpTools = None  # type: ignore[assignment,misc]


class _HeadWithBody:
    """The transport a request's cycle writes to: holds the response head (status line and
    headers, one write) until the first write of the body, and sends the two as one. Anything
    else (an interim `100 Continue`) goes straight through, and `flush` (at the end of every
    response: a HEAD's head has no body to go with) or `close` sends what is held."""

    __slots__ = ("_head", "_transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._head is not None:
            data, self._head = self._head + data, None
        elif data.startswith(b"HTTP/") and not data.startswith(b"HTTP/1.1 1"):
            self._head = data
            return
        self._transport.write(data)

    def flush(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


if _HttpTools is not None:

    class HttpToolsProtocol(_Deadlines, _HttpTools):
        _coalescing: _HeadWithBody

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._coalescing = _HeadWithBody(transport)
            self._admit()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_headers_complete(self) -> None:
            self._arm(self._limits.body_timeout)
            super().on_headers_complete()
            cycle = self.cycle
            if cycle is not None and cycle.transport is self.transport:  # not yet running
                cycle.transport = self._coalescing  # type: ignore[assignment]

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

        def on_response_complete(self) -> None:
            self._coalescing.flush()
            super().on_response_complete()
            if not self.transport.is_closing() and not self.pipeline:
                self._arm(self._limits.header_timeout)


def protocol_for(http: str) -> type[asyncio.Protocol]:
    """`--http auto|httptools|h11`: auto takes httptools when it is installed, as uvicorn."""
    if http == "h11" or (http == "auto" and _HttpTools is None):
        return RingletH11Protocol
    if _HttpTools is None:
        raise RuntimeError("--http httptools: httptools is not installed")
    return HttpToolsProtocol


# Descriptors a process needs besides its connections: the database files, the reader and
# writer connections, the log, the listening socket.
_SPARE_FILES: Final = 64


def fit_to_open_files(limits: Limits) -> Limits:
    """Raise the process's limit of open files (RLIMIT_NOFILE) so that `max_connections` fit,
    as far as the hard limit allows (the soft default, 1024 on most systems, would make the
    1,000th connection fail to be accepted at all); lower `max_connections` to what fits."""
    wanted = limits.max_connections + _SPARE_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new_soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))
            soft = new_soft
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < wanted:
        fitted = max(16, soft - _SPARE_FILES)
        log.warning(
            "max connections lowered to %d: the process may open only %d files", fitted, soft
        )
        return dataclasses.replace(limits, max_connections=fitted)
    return limits
