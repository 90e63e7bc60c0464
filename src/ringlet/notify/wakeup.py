"""Waking the dispatchers of other processes when a commit wrote outbox events or signals
(store/outbox.py: EVENTS, SUBSCRIPTIONS, RESET).

PostgreSQL: LISTEN on the channel the outbox NOTIFYs at commit, the signal as the payload; it
reaches every process on every host.

SQLite serves the processes of one machine, so the wake-up does too: every dispatcher binds a
Unix datagram socket in a folder named after the database file (`Bell`), and the process that
committed sends the signals to each socket there, right after its commit. A datagram that
cannot be sent (the peer's queue is full, so it has wake-ups pending already; a peer gone) is
dropped. Each dispatcher also reads the outbox every `SQLITE_POLL_S` whatever happens, so a
lost wake-up delays a notification, never loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
import secrets
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from ringlet.store.database import is_sqlite, normalize_url
from ringlet.store.outbox import CHANNEL, EVENTS

log = logging.getLogger(__name__)

SQLITE_POLL_S = 0.5
POSTGRESQL_POLL_S = 1.0
_MAX_DATAGRAM = 64

Signals = frozenset[str]


def poll_interval(url: str) -> float:
    return SQLITE_POLL_S if is_sqlite(url) else POSTGRESQL_POLL_S


def listener(
    url: str, wake: Callable[[Signals], None]
) -> Callable[[], asyncio.Future[None]] | None:
    """A coroutine factory that LISTENs and calls `wake` with each notification's signal (None
    on SQLite). It reconnects after a failure; meanwhile the dispatcher's slow poll still runs."""
    if is_sqlite(url):
        return None
    made = sa.engine.make_url(normalize_url(url)).set(drivername="postgresql")
    conninfo = made.render_as_string(hide_password=False)

    async def listen() -> None:
        # Imported here: on SQLite psycopg is never loaded (about 5 MiB of each process).
        import psycopg

        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    # Anything committed while we were not listening.
                    wake(frozenset((EVENTS,)))
                    async for notice in conn.notifies():
                        wake(frozenset(notice.payload or EVENTS))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The connection itself failed (PostgreSQL restarting, say): one line, no
                # traceback; the dispatcher's slow poll covers the gap.
                log.warning("LISTEN %s failed (%s); retrying", CHANNEL, type(exc).__name__)
                await asyncio.sleep(1.0)

    return listen  # type: ignore[return-value]


def bell_folder(url: str) -> Path | None:
    """Where the dispatchers sharing a SQLite file keep their sockets (None: not a file).
    Under the temporary folder, named by a digest of the file's path: a socket's path must
    stay under ~100 bytes, whatever the database's path."""
    if not is_sqlite(url):
        return None
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    digest = hashlib.sha256(os.path.realpath(database).encode()).hexdigest()[:20]
    return Path(tempfile.gettempdir()) / f"ringlet-bell-{digest}"


class Bell:
    """One process's socket in the bell folder (to be woken) and its ringing of the others'."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._path: Path | None = None
        self._inbox: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sender.setblocking(False)

    @classmethod
    def for_database(cls, url: str) -> Bell | None:
        folder = bell_folder(url)
        if folder is None:
            return None
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            if folder.stat().st_uid != os.getuid():
                log.warning("%s belongs to another user: wake-ups by polling only", folder)
                return None
        except OSError as exc:
            log.warning("no wake-up folder %s (%s): wake-ups by polling only", folder, exc)
            return None
        return cls(folder)

    def open(self, on_ring: Callable[[Signals], None]) -> None:
        """Listen on a socket of this process's own; `on_ring` runs on the current loop."""
        loop = asyncio.get_running_loop()
        path = self.folder / f"{os.getpid()}-{secrets.token_hex(4)}.sock"
        inbox = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        inbox.setblocking(False)
        inbox.bind(str(path))
        self._path, self._inbox, self._loop = path, inbox, loop

        def readable() -> None:
            signals: set[str] = set()
            while True:
                try:
                    signals.update(inbox.recv(_MAX_DATAGRAM).decode("ascii", "replace"))
                except OSError:  # BlockingIOError: nothing more to read
                    break
            if signals:
                on_ring(frozenset(signals))

        loop.add_reader(inbox.fileno(), readable)

    def ring(self, signals: Signals) -> None:
        """Send `signals` to every other process's socket (any thread; never blocks)."""
        payload = "".join(sorted(signals)).encode("ascii")
        try:
            names = os.listdir(self.folder)
        except OSError:
            return
        mine = self._path.name if self._path is not None else None
        for name in names:
            if name == mine or not name.endswith(".sock"):
                continue
            path = self.folder / name
            try:
                self._sender.sendto(payload, str(path))
            except (BlockingIOError, InterruptedError):
                pass  # its queue is full: it has wake-ups to read already
            except OSError as exc:
                if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):
                    # A process that ended without removing its socket (kill -9).
                    with contextlib.suppress(OSError):
                        path.unlink()

    def close(self) -> None:
        if self._inbox is not None:
            if self._loop is not None and not self._loop.is_closed():
                with contextlib.suppress(Exception):
                    self._loop.remove_reader(self._inbox.fileno())
            self._inbox.close()
            self._inbox = None
        if self._path is not None:
            with contextlib.suppress(OSError):
                self._path.unlink()
            self._path = None
        self._sender.close()
