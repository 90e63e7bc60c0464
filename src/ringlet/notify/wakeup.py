"""Waking the dispatchers of other processes. PostgreSQL: LISTEN on the channel the outbox
NOTIFYs at every commit that wrote events. SQLite has no such thing: the dispatcher reads the
outbox's newest id every few milliseconds instead (Dispatcher.poll_s), which serves every
process on the machine sharing the file."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg
import sqlalchemy as sa

from ringlet.store.database import is_sqlite, normalize_url
from ringlet.store.outbox import CHANNEL

log = logging.getLogger(__name__)

SQLITE_POLL_S = 0.02
POSTGRESQL_POLL_S = 1.0


def poll_interval(url: str) -> float:
    return SQLITE_POLL_S if is_sqlite(url) else POSTGRESQL_POLL_S


def listener(url: str, wake: Callable[[], None]) -> Callable[[], asyncio.Future[None]] | None:
    """A coroutine factory that LISTENs and calls `wake` on each notification (None on SQLite).
    It reconnects after a failure; meanwhile the dispatcher's slow poll still runs."""
    if is_sqlite(url):
        return None
    made = sa.engine.make_url(normalize_url(url)).set(drivername="postgresql")
    conninfo = made.render_as_string(hide_password=False)

    async def listen() -> None:
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    wake()  # anything committed while we were not listening
                    async for _ in conn.notifies():
                        wake()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The connection itself failed (PostgreSQL restarting, say): one line, no
                # traceback; the dispatcher's slow poll covers the gap.
                log.warning("LISTEN %s failed (%s); retrying", CHANNEL, type(exc).__name__)
                await asyncio.sleep(1.0)

    return listen  # type: ignore[return-value]
