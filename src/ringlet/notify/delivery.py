"""The WebHook delivery process: `ringlet deliver`, which `ringlet serve` starts beside its
server processes (`--webhook-delivery process`, the default), or which an operator runs apart
(`--webhook-delivery external`), on this host or another sharing the database.

Why a process of its own: a notification to N subscribers is N POSTs, each answered, timed and
journalled. In the server's event loop that work competes with every request; here it runs
beside them, on another core when there is one, and at a lower CPU priority (`--nice`) when
the cores are busy, so that a send is acknowledged first and its notifications follow. What
must be delivered is in the database (the outbox and the subscriptions' cursors), so nothing
waits on this process: a slow receiver, or this process stopped, costs a send nothing.

It runs the same dispatcher as a server process (notify/dispatcher.py) with no WebSocket
gateway: it claims the WebHook subscriptions' leases, learns of new events and of created,
changed and deleted subscriptions from the commits' wake-ups (notify/wakeup.py), and delivers.
Several of them (one per `ringlet serve`, say) share the subscriptions through the leases.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

from ringlet.clock import system_clock
from ringlet.config import INLINE, Settings
from ringlet.notify.service import NotificationService
from ringlet.store.cache import Caches
from ringlet.store.database import Database

log = logging.getLogger(__name__)

_PARENT_CHECK_S = 1.0
_STOP_GRACE_S = 10


async def deliver(settings: Settings, parent_pid: int | None = None, nice: int = 0) -> None:
    """Deliver until SIGTERM or SIGINT; or, started by a server (`parent_pid`), until that
    server closes this process's stdin: when it has drained its requests and stops, or when it
    is gone (the kernel closes the pipe of a `ringlet serve` killed outright, so no delivery
    process is left behind). Such a process runs in a process group of its own and ignores
    SIGTERM and SIGINT: a signal to the server's group (Ctrl+C, a supervisor's stop) is for the
    server, which then stops this process after itself. Stopping first, it would leave the
    server's last sends to the next start, and the server would take it for a crash."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    asked = threading.Event()

    def stop(*_: object) -> None:
        asked.set()
        loop.call_soon_threadsafe(stopping.set)

    # Python-level handlers: they run even while the loop is busy with a long batch.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_IGN if parent_pid else stop)
    if parent_pid:
        threading.Thread(
            target=_until_stdin_closes, args=(stop,), name="ringlet-delivery-stdin", daemon=True
        ).start()
    threading.Thread(
        target=_watchdog,
        args=(asked, parent_pid, stop),
        name="ringlet-delivery-watchdog",
        daemon=True,
    ).start()
    db = Database(settings.database_url, read_threads=2)
    db.start()
    if nice:
        # This thread only (on Linux the nice value is a thread's): the POSTs, timing and
        # bookkeeping yield to the servers, but the writer thread, started above, keeps the
        # normal priority. It holds the database's write lock while it records deliveries; at
        # a low priority it would be preempted holding it, and the servers' writers would wait
        # behind it (a priority inversion that cost sends more than the POSTs did).
        os.nice(nice)
    notify = NotificationService(
        db,
        system_clock,
        Caches(system_clock),
        dataclasses.replace(settings, webhook_delivery=INLINE),
    )
    await notify.start()
    log.info("ringlet WebHook delivery running (pid %d)", os.getpid())
    try:
        await stopping.wait()
    finally:
        await notify.stop()
        db.close()


def _until_stdin_closes(stop: Callable[[], None]) -> None:
    with contextlib.suppress(OSError, ValueError):
        while sys.stdin.buffer.read(4096):
            pass
    stop()


def _watchdog(asked: threading.Event, parent_pid: int | None, stop: Callable[[], None]) -> None:
    """Stop when the server is gone; and end the process if a stop takes longer than
    `_STOP_GRACE_S` (its event loop busy with a backlog): what was not recorded as delivered
    is delivered again by the next deliverer, so an abrupt end loses nothing."""
    while not asked.wait(_PARENT_CHECK_S):
        if parent_pid is not None and os.getppid() != parent_pid:
            log.warning("the server process %d is gone: delivery stops", parent_pid)
            stop()
    time.sleep(_STOP_GRACE_S)
    log.warning("delivery did not stop within %d s: ending it", _STOP_GRACE_S)
    os._exit(1)


def run(settings: Settings, *, parent_pid: int | None, nice: int) -> None:
    import uvloop  # a dependency, as for the server

    uvloop.run(deliver(settings, parent_pid, nice))
