"""Rendered pages of the message list, kept while their store has not changed.

Reading the 100 newest of a busy store costs far more than answering (measured on SQLite: about
150 us to fetch 101 rows and 90 us to render them, against about 10 us to read the store's
change counter). A page is therefore kept, rendered, under its store's version
(store/store_versions.py), and served again while the version stands still, in whichever
process changed the store.

Time also changes a page: the list's default window starts 24 hours before *now*. A memo holds
the rows a window selected, newest first, and serves any later request whose window starts at
or after the memo's (same filters, same end): records only ever leave such a window at the old
end, so that request's rows are the memo's rows that are still inside it, at the same
positions. A wider window misses, and is read again.

Bounded by the number of records held (`MAX_RECORDS`), least recently used first out.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import msgspec

MAX_RECORDS = 20_000


@dataclass(frozen=True, slots=True)
class _Page:
    version: int
    date_from_ms: int | None  # the window's start when read (None: no lower bound)
    # The records read (one more than the page shows), newest first, and their creation times
    # negated, in ascending order for bisect.
    records: list[msgspec.Raw]
    negated_creation_ms: list[int]


class PageMemo:
    def __init__(self, max_records: int = MAX_RECORDS) -> None:
        self._max_records = max_records
        self._held = 0
        self._pages: OrderedDict[Hashable, _Page] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, key: Hashable, version: int, date_from_ms: int | None, limit: int
    ) -> tuple[list[msgspec.Raw], bool] | None:
        """The page's records and whether more follow, if a memo of `key` at `version` covers a
        window starting at `date_from_ms`; else None."""
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                return None
            self._pages.move_to_end(key)
        if page.version != version:
            return None
        if page.date_from_ms is not None and (
            date_from_ms is None or date_from_ms < page.date_from_ms
        ):
            return None  # a wider window than the memo's
        count = len(page.records)
        if date_from_ms is not None:
            count = bisect.bisect_right(page.negated_creation_ms, -date_from_ms)
        return page.records[: min(count, limit)], count > limit

    def put(
        self,
        key: Hashable,
        version: int,
        date_from_ms: int | None,
        records: list[msgspec.Raw],
        creation_ms: list[int],
    ) -> None:
        if self._max_records == 0 or len(records) > self._max_records:
            return
        page = _Page(version, date_from_ms, records, [-c for c in creation_ms])
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._held -= len(old.records)
            self._pages[key] = page
            self._held += len(records)
            while self._held > self._max_records:
                _, evicted = self._pages.popitem(last=False)
                self._held -= len(evicted.records)
