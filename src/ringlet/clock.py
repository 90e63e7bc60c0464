"""Time as ringlet sees it: integer milliseconds since the epoch, UTC, and RingCentral's
ISO-8601 rendering of it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache

Clock = Callable[[], int]

_UNENCODED_OFFSET = re.compile(r"(?<=\d) (\d{2}(?::?\d{2})?)$")


def system_clock() -> int:
    return time.time_ns() // 1_000_000


def iso(ms: int) -> str:
    """`2016-03-10T18:07:52.534Z`, as RingCentral writes every timestamp."""
    return _iso_seconds(ms // 1000) + _MILLIS_Z[ms % 1000]


# Every record of a list carries two timestamps: formatting each second once (the records of a
# page are mostly seconds apart or less) and looking the milliseconds up makes this ~10x cheaper
# than datetime.strftime, with the same output.
_MILLIS_Z = [f"{millis:03d}Z" for millis in range(1000)]


@lru_cache(maxsize=4096)
def _iso_seconds(seconds: int) -> str:
    # The year is padded by hand: glibc's strftime writes year 1 as "1", not "0001", which no
    # ISO 8601 reader (ringlet's own included) accepts back.
    t = time.gmtime(seconds)
    return f"{t.tm_year:04d}" + time.strftime("-%m-%dT%H:%M:%S.", t)


# The earliest time a query can name (0001-01-01T00:00:00Z): a default derived from one (a day
# before `dateTo`) stays at or after it, so that every echoed time reads back.
EARLIEST_MS = int(datetime(1, 1, 1, tzinfo=UTC).timestamp() * 1000)


def parse_iso(value: str) -> int:
    """Milliseconds for the forms RingCentral accepts: `YYYY`, `YYYY-MM-DD`,
    `YYYY-MM-DDThh:mm[:ss[.fff]]` with `Z`, an offset, or neither (UTC). Raises ValueError."""
    text = value.strip()
    if len(text) == 4 and text.isdigit():
        text = text + "-01-01"
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # A `+` sent unencoded in a query string arrives as a space (the Python SDK does this), in
    # every offset form fromisoformat takes: ` 05:30`, ` 0530`, ` 05`.
    if len(text) > 16:
        text = _UNENCODED_OFFSET.sub(r"+\1", text)
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)
