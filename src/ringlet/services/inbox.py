"""The web inbox's reads: everything it shows, and waiting until that changes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from ringlet.store import inbox
from ringlet.store.carrier import HandsetRecord, recent_handset_records
from ringlet.store.database import Database
from ringlet.store.inbox import AccountView

# A change made through any process is seen within this time (the database is polled).
_POLL_S = 0.25
MAX_WAIT_S = 30


@dataclass(frozen=True, slots=True)
class InboxView:
    version: str
    accounts: list[AccountView]
    handset_records: list[HandsetRecord]  # oldest first


class InboxService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def view(self) -> InboxView:
        def work(conn: Connection) -> InboxView:
            # The version is read first: a change committed meanwhile makes the next look
            # read again, never miss it.
            return InboxView(
                inbox.fingerprint(conn), inbox.accounts_view(conn), recent_handset_records(conn)
            )

        return await self.db.read(work)

    async def changed(self, version: str | None, wait_s: float) -> str:
        """The current version, once it differs from `version` or `wait_s` is up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(wait_s, MAX_WAIT_S)
        while True:
            current = await self.db.read(inbox.fingerprint)
            if current != version or loop.time() >= deadline:
                return current
            await asyncio.sleep(min(_POLL_S, max(0.0, deadline - loop.time())))
