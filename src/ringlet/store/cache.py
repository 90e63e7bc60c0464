"""Memoised directory lookups for the hot paths (every send asks who owns a number, which
numbers the sender holds, ...), and the one switch that empties every such memo.

Freshness: the services that change the directory (provisioning, extension updates,
department membership) call `Caches.invalidate()` inside their write, on the writer thread,
so later work in this process — even later jobs of the same group commit — sees the change.
Other server processes sharing a PostgreSQL database see it within `TTL_MS`: every memo is
dropped that often.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from ringlet.clock import Clock
from ringlet.domain.model import Account, Extension, PhoneNumber
from ringlet.store import directory
from ringlet.store.directory import NumberOwner

T = TypeVar("T")

TTL_MS = 1000
MISSING: Any = object()  # what `peek` answers for a key with no memo (None is a value)
_MAX_ENTRIES = 100_000


class Caches:
    """The process's memos. Values are immutable, so a hit can be handed out as is."""

    def __init__(self, clock: Clock, ttl_ms: int = TTL_MS) -> None:
        self.clock = clock
        self.ttl_ms = ttl_ms
        self._lock = threading.Lock()
        self._entries: dict[Hashable, Any] = {}
        self._born_ms = clock()
        self._generation = 0

    # -- invalidation -----------------------------------------------------------------------

    @property
    def generation(self) -> int:
        """Changes on every invalidation: a value read from the database before an
        invalidation must not be memoised after it (see `OAuthService.authenticate`)."""
        return self._generation

    def invalidate(self) -> None:
        with self._lock:
            self._entries = {}
            self._born_ms = self.clock()
            self._generation += 1

    def peek(self, key: Hashable) -> Any:
        """The memo of `key`, or MISSING."""
        if self.clock() - self._born_ms >= self.ttl_ms or len(self._entries) > _MAX_ENTRIES:
            self.invalidate()
        return self._entries.get(key, MISSING)

    def put(self, key: Hashable, value: object, generation: int) -> None:
        """Memoise `value`, read from the database during `generation`, unless an
        invalidation has happened since (then the value may be stale already)."""
        with self._lock:
            if generation == self._generation:
                self._entries[key] = value

    def memo(self, key: Hashable, load: Callable[[], T]) -> T:
        found = self.peek(key)
        if found is not MISSING:
            value: T = found
            return value
        generation = self._generation
        value = load()
        self.put(key, value, generation)
        return value

    # -- the directory lookups of the send path ---------------------------------------------

    def account(self, conn: Connection, account_id: int) -> Account | None:
        return self.memo(("account", account_id), lambda: directory.account(conn, account_id))

    def extension(self, conn: Connection, account_id: int, extension_id: int) -> Extension | None:
        return self.memo(
            ("extension", account_id, extension_id),
            lambda: directory.extension(conn, account_id, extension_id),
        )

    def numbers_held_by(
        self, conn: Connection, account_id: int, extension_id: int
    ) -> tuple[PhoneNumber, ...]:
        return self.memo(
            ("held", account_id, extension_id),
            lambda: tuple(directory.numbers_held_by(conn, account_id, extension_id)),
        )

    def number_owner(self, conn: Connection, number: str) -> NumberOwner | None:
        return self.memo(("owner", number), lambda: directory.number_owner(conn, number))

    def extension_numbers(self, conn: Connection, account_id: int) -> frozenset[str]:
        return self.memo(
            ("numbers", account_id),
            lambda: directory.extension_numbers_in_account(conn, account_id),
        )

    def department_members(
        self, conn: Connection, account_id: int, department_ids: Iterable[int]
    ) -> dict[int, tuple[Extension, ...]]:
        return {
            d: self.memo(
                ("members", account_id, d),
                lambda d=d: tuple(  # type: ignore[misc]
                    directory.department_members_of(conn, account_id, [d])[d]
                ),
            )
            for d in department_ids
        }
