"""`ringlet serve --webhook-delivery process`: the WebHook delivery process beside the server
(notify/delivery.py), started before the server takes requests, restarted if it dies, and
stopped after the server."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
from typing import Final

from ringlet.config import Settings

log = logging.getLogger("ringlet.server")

# Below the server's CPU priority: on a busy machine a send is answered first, and its
# notifications follow when a core is free (they wait in the database meanwhile).
NICE: Final = 10
_RESTART_DELAY_S: Final = 1.0
_STOP_TIMEOUT_S: Final = 10.0


def command(settings: Settings, log_level: str, log_format: str) -> list[str]:
    return [
        sys.executable, "-m", "ringlet", "deliver",
        "--database", settings.database_url,
        "--webhook-timeout", str(settings.webhook_timeout_ms),
        "--webhook-attempts", str(settings.webhook_attempts),
        "--webhook-backoff", str(settings.webhook_backoff_ms),
        "--log-level", log_level,
        "--log-format", log_format,
        "--nice", str(NICE),
        "--parent-pid", str(os.getpid()),
    ]  # fmt: skip


class DeliveryProcess:
    def __init__(self, settings: Settings, log_level: str, log_format: str) -> None:
        self._command = command(settings, log_level, log_format)
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        self._spawn()
        self._watcher = threading.Thread(
            target=self._watch, name="ringlet-delivery-watch", daemon=True
        )
        self._watcher.start()

    def _spawn(self) -> None:
        # Its output goes where the server's goes. It stops when its stdin closes (`stop`, or
        # this process's end, whatever the cause). In a process group of its own, so that a
        # signal to the server's group (Ctrl+C, a supervisor's stop) does not reach it, not
        # even while it starts, before it can ignore them (notify/delivery.py): killed then,
        # it was taken for a crash as the server stopped.
        self._process = subprocess.Popen(self._command, stdin=subprocess.PIPE, process_group=0)

    def _watch(self) -> None:
        while not self._stopping.is_set():
            process = self._process
            if process is None:
                return
            code = process.wait()
            if self._stopping.is_set():
                return
            log.error("the WebHook delivery process exited (%s); restarting it", code)
            if self._stopping.wait(_RESTART_DELAY_S):
                return
            self._spawn()

    def stop(self) -> None:
        self._stopping.set()
        process = self._process
        if process is None or process.poll() is not None:
            return
        assert process.stdin is not None
        with contextlib.suppress(OSError):
            process.stdin.close()
        try:
            process.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
