"""A WebHook receiver written as RingCentral's documentation shows one: a real HTTP server on
127.0.0.1 that echoes `Validation-Token` and records every notification it gets.

`status` (what notifications are answered with), `echo_token` and `handshake_status` can be
changed while it runs, to play a receiver that is down, broken or wrong."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any


class WebHookReceiver:
    def __init__(self, path: str = "/hook") -> None:
        self.path = path
        self.status = 200
        self.echo_token = True
        self.handshake_status = 200
        self.delay_s = 0.0  # how long a notification waits for its answer
        self.handshakes: list[dict[str, str]] = []
        self.notifications: list[Received] = []
        self.refused = 0  # notifications answered with a status other than 2xx
        self._lock = threading.Condition()
        self._connections: set[socket.socket] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with receiver._lock:
                    receiver._connections.add(self.connection)

            def finish(self) -> None:
                with receiver._lock:
                    receiver._connections.discard(self.connection)
                super().finish()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                token = headers.get("validation-token")
                if token is not None and not raw:
                    with receiver._lock:
                        receiver.handshakes.append(headers)
                        receiver._lock.notify_all()
                    self.send_response(receiver.handshake_status)
                    if receiver.echo_token:
                        self.send_header("Validation-Token", token)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                status = receiver.status
                if 200 <= status < 300:
                    with receiver._lock:
                        receiver.notifications.append(Received(self.path, headers, json.loads(raw)))
                        receiver._lock.notify_all()
                else:
                    with receiver._lock:
                        receiver.refused += 1
                        receiver._lock.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.path}"

    def start(self) -> WebHookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        # Keep-alive connections the server's clients left open end here, not at garbage
        # collection (a ResourceWarning).
        with self._lock:
            open_connections, self._connections = self._connections, set()
        for conn in open_connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        """The first `count` notifications, once they have arrived."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.notifications) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} notifications, got {len(self.notifications)}: "
                        f"{[n.body for n in self.notifications]}"
                    )
                self._lock.wait(left)
            return list(self.notifications[:count])

    def wait_refused(self, count: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.refused < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} refused attempts, got {self.refused}")
                self._lock.wait(left)

    def quiet_for(self, seconds: float) -> list[Received]:
        """Everything received once nothing more has come for `seconds`."""
        while True:
            with self._lock:
                before = len(self.notifications)
                self._lock.wait(seconds)
                if len(self.notifications) == before:
                    return list(self.notifications)
