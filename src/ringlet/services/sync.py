"""message-sync (facts 9): a full sync (FSync) returns the newest messages of a frame and a
token; an incremental sync (ISync) with that token returns what changed in the frame since,
deleted and purged messages included, and a new token. R12 applies to both: the store's
readable-by filter drops the threads the extension has left.

The token is opaque to clients but not secret: it carries the account and extension it was
issued to, the sync time and the frame's filters, plus a checksum so that a damaged, truncated
or hand-edited token is refused (MSG-333) rather than misread. No key is needed: every request
is checked against the caller's own extension, and a token only ever asks for messages the
caller may read anyway, so forging one gains nothing. It therefore survives restarts and works
across processes and servers sharing a database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass, replace

import msgspec
from sqlalchemy.engine import Connection

from ringlet.clock import Clock
from ringlet.domain.enums import Availability, Direction, MessageType, SyncType
from ringlet.domain.errors import SyncTokenInvalid
from ringlet.message_json import StoredRecord
from ringlet.services.message_store import require_extension
from ringlet.store import messages as store
from ringlet.store.cache import Caches
from ringlet.store.database import Database
from ringlet.store.messages import MessageFilter

DAY_MS = 24 * 3600 * 1000
# The guide's default frame for FSync (one week before dateTo); the spec's text, copied from
# listMessages, says 24 hours. A sync fills a client's cache, so the longer window is chosen.
DEFAULT_FRAME_MS = 7 * DAY_MS
# RingCentral overlaps incremental windows by 5 s so that a change committed just after the
# previous sync read the store is not lost (facts 9); clients see such changes twice at most.
OVERLAP_MS = 5000
# FSync answers at most this many records (recordCount is capped to it, not refused), newest
# first, and says olderRecordsExist when the frame holds more.
MAX_RECORDS = 1000
# An ISync that would return more changes than this asks the client to sync in full (MSG-333)
# instead of paging: the token stays one point in time, and nothing is ever skipped.
MAX_CHANGES = 2000

_TOKEN_VERSION = 1
_CHECKSUM_BYTES = 8
_CHECKSUM_PERSON = b"ringlet-sync"


@dataclass(frozen=True, slots=True)
class SyncFrame:
    """What a client keeps in sync: messages created from `date_from_ms` on, of these types
    (None: any; empty: none ringlet stores, e.g. only Fax was asked), directions (empty: both),
    one conversation or all, and optionally only the newest message of each conversation."""

    date_from_ms: int
    types: tuple[MessageType, ...] | None = None
    directions: tuple[Direction, ...] = ()
    conversation_id: int | None = None
    distinct_conversations: bool = False

    def selection(
        self,
        *,
        date_to_ms: int | None = None,
        availability: tuple[Availability, ...] = (Availability.ALIVE,),
        modified_since_ms: int | None = None,
    ) -> MessageFilter | None:
        """The store filter for this frame; None when it can select nothing."""
        if self.types is not None and not self.types:
            return None
        return MessageFilter(
            availability=availability,
            date_from_ms=self.date_from_ms,
            date_to_ms=date_to_ms,
            types=self.types or (),
            directions=self.directions,
            conversation_ids=() if self.conversation_id is None else (self.conversation_id,),
            distinct_conversations=self.distinct_conversations,
            modified_since_ms=modified_since_ms,
        )


@dataclass(frozen=True, slots=True)
class SyncResult:
    records: list[StoredRecord]
    sync_type: SyncType
    token: str
    sync_time_ms: int
    older_records_exist: bool = False


# -- the token --------------------------------------------------------------------------------


class _Token(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    version: int
    account_id: int
    extension_id: int
    sync_time_ms: int
    date_from_ms: int
    types: list[MessageType] | None
    directions: list[Direction]
    conversation_id: int | None
    distinct_conversations: bool


def _checksum(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=_CHECKSUM_BYTES, person=_CHECKSUM_PERSON).digest()


def encode_token(account_id: int, extension_id: int, sync_time_ms: int, frame: SyncFrame) -> str:
    payload = msgspec.msgpack.encode(
        _Token(
            version=_TOKEN_VERSION,
            account_id=account_id,
            extension_id=extension_id,
            sync_time_ms=sync_time_ms,
            date_from_ms=frame.date_from_ms,
            types=None if frame.types is None else list(frame.types),
            directions=list(frame.directions),
            conversation_id=frame.conversation_id,
            distinct_conversations=frame.distinct_conversations,
        )
    )
    return base64.urlsafe_b64encode(payload + _checksum(payload)).rstrip(b"=").decode()


def decode_token(token: str, account_id: int, extension_id: int) -> tuple[int, SyncFrame]:
    """The sync time and frame of a token issued to this extension; MSG-333 for anything else."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload, checksum = raw[:-_CHECKSUM_BYTES], raw[-_CHECKSUM_BYTES:]
        if len(payload) == 0 or not hmac.compare_digest(checksum, _checksum(payload)):
            raise SyncTokenInvalid()
        decoded = msgspec.msgpack.decode(payload, type=_Token)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise SyncTokenInvalid() from None
    if (
        decoded.version != _TOKEN_VERSION
        or decoded.account_id != account_id
        or decoded.extension_id != extension_id
    ):
        raise SyncTokenInvalid()
    frame = SyncFrame(
        date_from_ms=decoded.date_from_ms,
        types=None if decoded.types is None else tuple(decoded.types),
        directions=tuple(decoded.directions),
        conversation_id=decoded.conversation_id,
        distinct_conversations=decoded.distinct_conversations,
    )
    return decoded.sync_time_ms, frame


# -- the service ------------------------------------------------------------------------------


class SyncService:
    def __init__(self, db: Database, clock: Clock, caches: Caches | None = None) -> None:
        self.db = db
        self.clock = clock
        self.caches = caches or Caches(clock)

    async def full(
        self,
        account_id: int,
        extension_id: int,
        frame: SyncFrame,
        *,
        date_to_ms: int | None,
        record_count: int | None,
    ) -> SyncResult:
        """FSync: the newest Alive messages of the frame (created before `date_to_ms`, if
        given: clients page back through older messages that way)."""
        limit = min(record_count or MAX_RECORDS, MAX_RECORDS)
        selection = frame.selection(date_to_ms=date_to_ms)

        def work(conn: Connection) -> tuple[list[StoredRecord], bool, int]:
            require_extension(self.caches, conn, account_id, extension_id)
            # Read before the query: a change committed meanwhile is then newer than the token
            # or inside the overlap, never lost.
            sync_time = self.clock()
            if selection is None:
                return [], False, sync_time
            # One more than asked for tells whether older records exist, without a count.
            found = store.list_records(conn, account_id, extension_id, selection, 0, limit + 1)
            return found[:limit], len(found) > limit, sync_time

        # The list's query: a small read when the list's would be (services/message_store.py).
        small = selection is None or store.is_small_read(selection, 0, limit + 1)
        found, older, sync_time = await (self.db.read_small if small else self.db.read)(work)
        token = encode_token(account_id, extension_id, sync_time, frame)
        return SyncResult(found, SyncType.FULL, token, sync_time, older)

    async def incremental(
        self, account_id: int, extension_id: int, token: str, *, date_from_ms: int | None
    ) -> SyncResult:
        """ISync: every message of the token's frame modified since the token's time (less the
        overlap), whatever its availability, newest change first. A new `date_from_ms` moves
        the frame's start (the guide: ISync may widen the frame)."""

        def work(conn: Connection) -> tuple[list[StoredRecord], int, SyncFrame]:
            require_extension(self.caches, conn, account_id, extension_id)
            since, frame = decode_token(token, account_id, extension_id)
            if date_from_ms is not None:
                frame = replace(frame, date_from_ms=date_from_ms)
            sync_time = self.clock()
            selection = frame.selection(
                availability=tuple(Availability), modified_since_ms=since - OVERLAP_MS
            )
            if selection is None:
                return [], sync_time, frame
            found = store.list_records(
                conn,
                account_id,
                extension_id,
                selection,
                0,
                MAX_CHANGES + 1,
                order_by_modified=True,
            )
            if len(found) > MAX_CHANGES:
                raise SyncTokenInvalid()
            return found, sync_time, frame

        found, sync_time, frame = await self.db.read(work)
        new_token = encode_token(account_id, extension_id, sync_time, frame)
        return SyncResult(found, SyncType.INCREMENTAL, new_token, sync_time)
