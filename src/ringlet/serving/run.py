"""uvicorn, configured by ringlet: on the socket cli.py bound, with ringlet's protocols
(serving/protocols.py), its logging configuration, and `--workers` processes."""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING, Any, Final

import uvicorn
from uvicorn.supervisors import Multiprocess

from ringlet.serving.protocols import Limits, protocol_for

if TYPE_CHECKING:
    from ringlet.bootstrap import Services

log = logging.getLogger("ringlet.server")

# Connections the kernel queues before uvicorn accepts them (uvicorn's default).
BACKLOG: Final = 2048
# Seconds an idle keep-alive connection stays open (uvicorn's default; RingCentral's SDKs
# open a new connection when one was closed).
KEEP_ALIVE_SECONDS: Final = 5


def _loop_factory(loop: str) -> str:
    """`--loop auto|uvloop|asyncio`: uvloop (when installed, for auto) with ringlet's own
    accepting of connections (serving/loops.py), else asyncio's loop."""
    if loop == "asyncio":
        return "asyncio"
    try:
        import uvloop  # noqa: F401
    except ImportError:
        if loop == "uvloop":
            raise
        return "asyncio"
    return "ringlet.serving.loops:new_event_loop"


def serve(
    services: Services,
    sock: socket.socket,
    *,
    workers: int,
    http: str,
    loop: str,
    log_level: str,
    log_config: dict[str, Any],
    limits: Limits,
) -> None:
    from ringlet.api.app import create_app

    target: Any
    if workers == 1:
        target = create_app(services)
    else:
        # Migrated and provisioned already, once: each worker builds its own services.
        services.db.close()
        from ringlet import workers as worker_processes

        worker_processes.export_settings(services.settings)
        target = "ringlet.workers:app"
    config = uvicorn.Config(
        target,
        factory=workers > 1,
        workers=workers,
        log_config=log_config,
        log_level=log_level,
        access_log=False,
        server_header=False,
        # X-Forwarded-For/-Proto are not read (uvicorn would trust them from 127.0.0.1): a
        # proxy in front gives the server --public-url instead (docs/behaviour.md, Host), and
        # scanning every request's headers for them cost the send path 2 % of its loop.
        proxy_headers=False,
        http=protocol_for(http),
        loop=_loop_factory(loop),
        backlog=BACKLOG,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        # Long-polls (`wait`, the web inbox) would otherwise hold a stopping server for up to
        # 30 s; any other request is over long before.
        timeout_graceful_shutdown=5,
    )
    config.ringlet_limits = limits  # type: ignore[attr-defined]  # read by the protocols
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    log.info("ringlet listening on http://%s:%d (Ctrl+C to stop)", shown, port)
    if workers == 1:
        uvicorn.Server(config).run(sockets=[sock])
    else:
        Multiprocess(config, sockets=[sock]).run()
