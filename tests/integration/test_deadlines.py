"""The deadlines of ringlet's HTTP protocols (serving/protocols.py), on both of uvicorn's HTTP
implementations: ringlet's app served in this process on a real port, with deadlines short
enough to wait for (`ringlet serve` runs them at 10 s and 60 s; tests/e2e/test_operations.py
checks that wiring)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from ringlet.api.app import create_app
from ringlet.bootstrap import build
from ringlet.config import Settings
from ringlet.serving.protocols import Limits, protocol_for
from tests.support.server import free_port

SHORT = Limits(header_timeout=0.5, body_timeout=0.5, max_connections=64)
WAIT = 30.0  # how long a test waits for the server to close: far beyond the deadlines


@contextmanager
def serving(http: str, directory: Path) -> Iterator[int]:
    services = build(Settings(database_url=f"sqlite:///{directory / 'ringlet.db'}"))
    config = uvicorn.Config(
        create_app(services),
        host="127.0.0.1",
        port=free_port(),
        log_level="warning",
        http=protocol_for(http),
        loop="asyncio",
    )
    config.ringlet_limits = SHORT  # type: ignore[attr-defined]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        yield config.port
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def _closed_without_answer(sock: socket.socket) -> bool:
    sock.settimeout(WAIT)
    return sock.recv(65536) == b""


HEAD = (
    b"POST /restapi/oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\n"
)


@pytest.mark.parametrize("http", ["httptools", "h11"])
def test_deadlines(http: str, tmp_path: Path) -> None:
    with serving(http, tmp_path) as port:
        # Nothing sent at all, and half a head.
        for first in (b"", HEAD):
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(first)
                assert _closed_without_answer(sock)
        # A body that does not come in time.
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(HEAD + b"Content-Length: 100\r\n\r\ngrant_type=pass")
            assert _closed_without_answer(sock)
        # A request that keeps to the deadlines is answered, and the connection serves the next
        # request (the deadline starts again after each answer).
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.settimeout(WAIT)
            for _ in range(2):
                sock.sendall(b"GET /_ringlet/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                answer = b""
                while not answer.endswith(b'{"status":"ok"}'):
                    chunk = sock.recv(65536)
                    assert chunk, f"closed after {answer!r}"
                    answer += chunk
                assert answer.startswith(b"HTTP/1.1 200 "), answer
                time.sleep(0.2)
