"""Reading, updating and deleting the messages of one extension's store (R11, R12, R14, R15).

The API layer has resolved `~` and checked that the caller may address the extension (R14);
here the extension must exist in the account, only messages the owner may still read are
reached (R12: the store's readable-by filter), and deleting follows R15's lifecycle. Every
method is one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy.engine import Connection

from ringlet.clock import Clock
from ringlet.domain.enums import Availability, MessageType, ReadStatus
from ringlet.domain.errors import ResourceNotFound
from ringlet.domain.lifecycle import availability_after_delete
from ringlet.domain.model import Message
from ringlet.message_json import RecordWriter, StoredRecord
from ringlet.services.page_memo import MAX_RECORDS, PageMemo
from ringlet.store import messages as store
from ringlet.store import store_versions
from ringlet.store.cache import Caches
from ringlet.store.database import Database
from ringlet.store.messages import MessageFilter

if TYPE_CHECKING:
    from ringlet.services.sync import SyncService


def require_extension(caches: Caches, conn: Connection, account_id: int, extension_id: int) -> None:
    """An extension the caller may address but that does not exist is reported as not found
    (an admin naming an id that is not in the account). Memoised (store/cache.py): every store
    and sync request asks, and the answer changes only with provisioning."""
    if caches.extension(conn, account_id, extension_id) is None:
        raise ResourceNotFound("extensionId", str(extension_id))


class MessageStoreService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        caches: Caches | None = None,
        *,
        page_memo_records: int = MAX_RECORDS,
    ) -> None:
        self.db = db
        self.clock = clock
        # The process's shared memos, so that provisioning's invalidation reaches them.
        self.caches = caches or Caches(clock)
        self.pages = PageMemo(page_memo_records)
        # message-sync lives in its own module and is reached through this service, so that
        # the composition root need not know about it. Imported here: sync builds on this module.
        from ringlet.services.sync import SyncService

        self.sync: SyncService = SyncService(db, clock, self.caches)

    async def list_messages(
        self,
        account_id: int,
        extension_id: int,
        selection: MessageFilter | None,
        offset: int,
        limit: int,
        writer: RecordWriter,
    ) -> tuple[list[msgspec.Raw], bool]:
        """One page of the store, newest first, rendered by `writer`, and whether more records
        follow it. Nothing is counted (a count reads every matching row: 100,000 for a busy
        store): one more row than the page holds is read instead. `selection` None selects
        nothing (a filter on message types that ringlet never stores, such as Fax). Pages are
        memoised while the store does not change (services/page_memo.py)."""

        def work(conn: Connection) -> tuple[list[msgspec.Raw], bool]:
            require_extension(self.caches, conn, account_id, extension_id)
            if selection is None:
                return [], False
            # distinctConversations is not memoised: its page is not a run of the window's
            # records (each conversation's newest), which is what the memo's sliding window
            # assumes (services/page_memo.py).
            memoised = not selection.distinct_conversations
            if memoised:
                version = store_versions.current(conn, extension_id)  # before the page: see there
                key = (
                    account_id,
                    extension_id,
                    writer.key,
                    selection.without_date_from(),
                    offset,
                    limit,
                )
                hit = self.pages.get(key, version, selection.date_from_ms, limit)
                if hit is not None:
                    return hit
            found = store.list_records(conn, account_id, extension_id, selection, offset, limit + 1)
            rendered = writer.raw(found)
            if memoised:
                creations = [r[7] for r in found]
                self.pages.put(key, version, selection.date_from_ms, rendered, creations)
            return rendered[:limit], len(found) > limit

        if selection is not None and store.is_small_read(selection, offset, limit + 1):
            return await self.db.read_small(work)
        return await self.db.read(work)

    async def get_messages(
        self, account_id: int, extension_id: int, message_ids: Sequence[int]
    ) -> dict[int, Message]:
        """The messages among `message_ids` that the store holds and its owner may read, whatever
        their availability (R15: Deleted and Purged messages stay readable by id)."""

        def work(conn: Connection) -> dict[int, Message]:
            require_extension(self.caches, conn, account_id, extension_id)
            return store.get_messages(conn, account_id, extension_id, message_ids)

        # Primary-key lookups, as many as the ids of one path: a small read (on SQLite on the
        # loop, where a reader thread's GIL hand-offs cost more than the lookups).
        return await self.db.read_small(work)

    async def get_records(
        self, account_id: int, extension_id: int, message_ids: Sequence[int]
    ) -> dict[int, StoredRecord]:
        """`get_messages` as the records that read by id renders (no Message built)."""

        def work(conn: Connection) -> dict[int, StoredRecord]:
            require_extension(self.caches, conn, account_id, extension_id)
            return store.get_records(conn, account_id, extension_id, message_ids)

        return await self.db.read_small(work)

    async def set_read_status(
        self, account_id: int, extension_id: int, changes: Mapping[int, ReadStatus]
    ) -> dict[int, Message]:
        """R15: readStatus is the one thing that can change. Applies each change to the messages
        found (others are left out of the result) and returns them as they are now."""

        def work(conn: Connection) -> dict[int, Message]:
            require_extension(self.caches, conn, account_id, extension_id)
            found = store.get_messages(conn, account_id, extension_id, list(changes))
            if not found:
                return {}
            now = self.clock()
            by_status: dict[ReadStatus, list[int]] = defaultdict(list)
            for message_id in found:
                by_status[changes[message_id]].append(message_id)
            for status, ids in by_status.items():
                # Even an unchanged status counts as a modification: clients that PUT expect
                # lastModifiedTime to move, and message-sync then reports the message.
                store.update_messages(conn, account_id, extension_id, ids, now, read_status=status)
            return store.get_messages(conn, account_id, extension_id, list(found))

        return await self.db.write(work)

    async def delete_messages(
        self, account_id: int, extension_id: int, message_ids: Sequence[int], *, purge: bool
    ) -> frozenset[int]:
        """R15: Alive -> Deleted, Deleted -> Purged, or straight to Purged with `purge`.
        Returns the ids that were found (deleting a Purged message again changes nothing)."""

        def work(conn: Connection) -> frozenset[int]:
            require_extension(self.caches, conn, account_id, extension_id)
            found = store.get_messages(conn, account_id, extension_id, message_ids)
            targets: dict[Availability, list[int]] = defaultdict(list)
            for message in found.values():
                after = availability_after_delete(message.availability, purge=purge)
                if after is not message.availability:
                    targets[after].append(message.id)
            now = self.clock()
            for availability, ids in targets.items():
                store.update_messages(
                    conn, account_id, extension_id, ids, now, availability=availability
                )
            return frozenset(found)

        return await self.db.write(work)

    async def delete_conversations(
        self,
        account_id: int,
        extension_id: int,
        conversation_ids: Sequence[int],
        *,
        before_ms: int | None,
        types: Sequence[MessageType] | None,
    ) -> int:
        """deleteMessageByFilter: the Alive messages of these conversations created before
        `before_ms` (None: any time) become Deleted. `types` None: every type; empty: none.
        Returns how many were deleted."""

        def work(conn: Connection) -> int:
            require_extension(self.caches, conn, account_id, extension_id)
            if types is not None and not types:
                return 0
            selection = MessageFilter(
                availability=(Availability.ALIVE,),
                conversation_ids=conversation_ids,
                date_to_ms=before_ms,
                types=types or (),
            )
            ids = store.message_ids_matching(conn, account_id, extension_id, selection)
            if ids:
                store.update_messages(
                    conn,
                    account_id,
                    extension_id,
                    ids,
                    self.clock(),
                    availability=Availability.DELETED,
                )
            return len(ids)

        return await self.db.write(work)

    async def text_content(self, account_id: int, extension_id: int, message_id: int) -> str:
        """R11: the content of an SMS or Pager message is its text. A Purged message has lost
        it (R15), so its content is not found."""
        found = await self.get_messages(account_id, extension_id, [message_id])
        message = found.get(message_id)
        if message is None:
            raise ResourceNotFound("messageId", str(message_id))
        if message.availability is Availability.PURGED:
            raise ResourceNotFound("attachmentId")
        return message.subject
