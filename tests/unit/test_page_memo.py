"""The list's page memo: served only at the version it was read at, only for windows it
covers, with exactly the records such a window selects, and bounded."""

from __future__ import annotations

import msgspec

from ringlet.services.page_memo import PageMemo


def _page(creations: list[int]) -> tuple[list[msgspec.Raw], list[int]]:
    return [msgspec.Raw(str(c).encode()) for c in creations], creations


def _values(records: list[msgspec.Raw]) -> list[int]:
    return [int(bytes(r)) for r in records]


def test_served_at_the_same_version_only() -> None:
    memo = PageMemo()
    memo.put("k", 7, 100, *_page([500, 400, 300]))
    hit = memo.get("k", 7, 100, limit=2)
    assert hit is not None
    assert (_values(hit[0]), hit[1]) == ([500, 400], True)
    assert memo.get("k", 8, 100, limit=2) is None
    assert memo.get("other", 7, 100, limit=2) is None


def test_a_later_window_drops_the_records_that_left_it() -> None:
    memo = PageMemo()
    # Read with limit 2: three rows, the third only says that more follow.
    memo.put("k", 1, 100, *_page([500, 400, 300]))
    cases = {
        100: ([500, 400], True),
        300: ([500, 400], True),
        301: ([500, 400], False),  # the row after the page has left the window
        400: ([500, 400], False),
        401: ([500], False),
        501: ([], False),
    }
    for date_from, expected in cases.items():
        hit = memo.get("k", 1, date_from, limit=2)
        assert hit is not None
        assert (_values(hit[0]), hit[1]) == expected, date_from


def test_equal_creation_times_stay_together() -> None:
    memo = PageMemo()
    memo.put("k", 1, 0, *_page([500, 400, 400, 300]))
    hit = memo.get("k", 1, 400, limit=10)
    assert hit is not None
    assert _values(hit[0]) == [500, 400, 400]


def test_a_wider_window_is_read_again() -> None:
    memo = PageMemo()
    memo.put("k", 1, 100, *_page([500]))
    assert memo.get("k", 1, 99, limit=2) is None
    assert memo.get("k", 1, None, limit=2) is None
    memo.put("unbounded", 1, None, *_page([500]))
    hit = memo.get("unbounded", 1, None, limit=2)
    assert hit is not None and _values(hit[0]) == [500]


def test_bounded_least_recently_used_first_out() -> None:
    memo = PageMemo(max_records=5)
    memo.put("a", 1, 0, *_page([3, 2]))
    memo.put("b", 1, 0, *_page([3, 2]))
    assert memo.get("a", 1, 0, limit=5) is not None  # a is now the most recently used
    memo.put("c", 1, 0, *_page([3, 2]))  # 6 records held: b goes
    assert memo.get("b", 1, 0, limit=5) is None
    assert memo.get("a", 1, 0, limit=5) is not None
    assert memo.get("c", 1, 0, limit=5) is not None
    memo.put("huge", 1, 0, *_page([6, 5, 4, 3, 2, 1]))  # larger than the bound: not kept
    assert memo.get("huge", 1, 0, limit=5) is None
    assert memo.get("c", 1, 0, limit=5) is not None


def test_a_memo_of_no_records_keeps_nothing() -> None:
    """`--page-memo-records 0`: every list reads the store, empty pages too."""
    memo = PageMemo(0)
    memo.put("k", 1, 100, *_page([500]))
    memo.put("empty", 1, 100, *_page([]))
    assert memo.get("k", 1, 100, limit=2) is None
    assert memo.get("empty", 1, 100, limit=2) is None
