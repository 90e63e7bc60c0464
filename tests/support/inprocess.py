"""A ringlet server inside the test process, on a real port, whose clock the test holds: for
behaviour that takes minutes of real time (token expiry, rate-limit penalties)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from ringlet.api.app import create_app
from ringlet.bootstrap import build
from ringlet.config import Settings
from tests.support.server import ADMIN_HEADER, FIXTURES_PATH, free_port

START_MS = 1_800_000_000_000


@contextmanager
def clocked_server(settings: Settings, now_ms: list[int]) -> Iterator[str]:
    """Serve `settings` in a thread until the block ends; the server's time is `now_ms[0]`
    (milliseconds), which the test advances. Yields the base URL."""
    services = build(settings, clock=lambda: now_ms[0])
    config = uvicorn.Config(
        create_app(services), host="127.0.0.1", port=free_port(), log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="ringlet-clocked-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def provision(base_url: str, document: Mapping[str, Any], admin_token: str) -> None:
    """Load a fixture document through /_ringlet/fixtures."""
    with httpx.Client(base_url=base_url) as admin:
        response = admin.post(FIXTURES_PATH, json=document, headers={ADMIN_HEADER: admin_token})
        assert response.status_code == 200, response.text
