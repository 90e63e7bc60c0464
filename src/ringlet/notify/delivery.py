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
import dataclasses
import logging
import os
import signal
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
    """Deliver until SIGTERM or SIGINT (or, when `parent_pid` is given, until that process is
    gone: a `ringlet serve` killed outright leaves no delivery process behind)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    asked = threading.Event()

    def stop(*_: object) -> None:
        asked.set()
        loop.call_soon_threadsafe(stopping.set)

    # Python-level handlers: they run even while the loop is busy with a long batch.
    signal.signal(signal.SIGTERM, stop)
    # Started by a server, it is stopped by that server (SIGTERM), after the server has drained
    # its requests: a Ctrl+C that reaches the whole process group is the server's to handle.
    signal.signal(signal.SIGINT, signal.SIG_IGN if parent_pid else stop)
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
