"""uvloop, with connections accepted the way asyncio's own loop accepts them.

Measured (bench `busy`, and a bare uvloop server doing 200 us of work a request): while uvloop's
loop is busy, libuv accepts new connections late. With 1,024 clients sending, hundreds of
connections waited in the kernel's accept queue (`ss -ltn`: Recv-Q 584 of 1,025) and a new
client's request waited 10-16 s, the whole length of the flood, for its first byte; the same
server on asyncio's loop had an empty queue. asyncio accepts, on every readiness of the
listening socket, every connection pending (up to the backlog); this loop does the same for
`create_server(sock=...)`, the only form uvicorn uses with ringlet (cli.py binds the socket),
and hands each connection to uvloop's own transport (`connect_accepted_socket`). Everything
else is uvloop's.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable
from typing import Any

import uvloop

log = logging.getLogger("ringlet.server")

# Out of file descriptors: accept again after a pause, as asyncio does (its ACCEPT_RETRY_DELAY).
_RETRY_SECONDS = 1.0
_OUT_OF_FILES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class _Acceptor(asyncio.AbstractServer):
    """A listening socket whose connections are accepted by a reader callback."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        sock: socket.socket,
        backlog: int,
    ) -> None:
        self._loop = loop
        self._factory = protocol_factory
        self._sock = sock
        self._backlog = backlog
        self._serving = False
        self._closed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        sock.setblocking(False)
        sock.listen(backlog)
        self._start()

    def _start(self) -> None:
        if not self._serving and self._sock.fileno() != -1:
            self._serving = True
            self._loop.add_reader(self._sock.fileno(), self._accept_all)

    def _pause(self) -> None:
        if self._serving:
            self._serving = False
            self._loop.remove_reader(self._sock.fileno())

    def _accept_all(self) -> None:
        for _ in range(self._backlog):
            try:
                conn, _address = self._sock.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as exc:
                if exc.errno not in _OUT_OF_FILES:
                    raise
                log.warning("cannot accept connections (%s): retrying in 1 s", exc.strerror)
                self._pause()
                self._loop.call_later(_RETRY_SECONDS, self._start)
                return
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            task = self._loop.create_task(self._loop.connect_accepted_socket(self._factory, conn))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # -- asyncio.AbstractServer -------------------------------------------------------------

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return (self._sock,)

    def close(self) -> None:
        self._pause()
        self._closed.set()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    def is_serving(self) -> bool:
        return self._serving

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    async def start_serving(self) -> None:
        self._start()

    async def serve_forever(self) -> None:
        self._start()
        await self._closed.wait()

    def close_clients(self) -> None:  # pragma: no cover - uvicorn closes its connections
        pass

    def abort_clients(self) -> None:  # pragma: no cover
        pass


class AcceptingLoop(uvloop.Loop):
    async def create_server(  # type: ignore[override]
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        host: Any = None,
        port: Any = None,
        *,
        sock: socket.socket | None = None,
        backlog: int = 100,
        ssl: Any = None,
        **more: Any,
    ) -> asyncio.AbstractServer:
        if sock is None or ssl is not None or more.get("start_serving") is False:
            server: asyncio.AbstractServer = await super().create_server(
                protocol_factory, host, port, sock=sock, backlog=backlog, ssl=ssl, **more
            )
            return server
        return _Acceptor(self, protocol_factory, sock, backlog)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvicorn's loop factory (`Config(loop="ringlet.serving.loops:new_event_loop")`)."""
    return AcceptingLoop()
