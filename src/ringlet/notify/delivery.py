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

from ringlet.clock import system_clock
from ringlet.config import Settings
from ringlet.notify.service import INLINE, NotificationService
from ringlet.store.cache import Caches
from ringlet.store.database import Database

log = logging.getLogger(__name__)

_PARENT_CHECK_S = 1.0


async def deliver(settings: Settings, parent_pid: int | None = None) -> None:
    """Deliver until SIGTERM or SIGINT (or, when `parent_pid` is given, until that process is
    gone: a `ringlet serve` killed outright leaves no delivery process behind)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    # Started by a server, it is stopped by that server (SIGTERM), after the server has drained
    # its requests: a Ctrl+C that reaches the whole process group is the server's to handle.
    loop.add_signal_handler(signal.SIGINT, (lambda: None) if parent_pid else stopping.set)
    db = Database(settings.database_url, read_threads=2)
    db.start()
    notify = NotificationService(
        db,
        system_clock,
        Caches(system_clock),
        dataclasses.replace(settings, webhook_delivery=INLINE),
    )
    await notify.start()
    log.info("ringlet WebHook delivery running (pid %d)", os.getpid())
    try:
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=_PARENT_CHECK_S)
            if parent_pid is not None and os.getppid() != parent_pid:
                log.warning("the server process %d is gone: delivery stops", parent_pid)
                break
    finally:
        await notify.stop()
        db.close()


def run(settings: Settings, *, parent_pid: int | None, nice: int) -> None:
    if nice:
        os.nice(nice)
    import uvloop  # a dependency, as for the server

    uvloop.run(deliver(settings, parent_pid))
