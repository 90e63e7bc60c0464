"""Time as ringlet sees it: integer milliseconds since the epoch, UTC, and RingCentral's
ISO-8601 rendering of it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], int]


def system_clock() -> int:
    return time.time_ns() // 1_000_000


def iso(ms: int) -> str:
    """`2016-03-10T18:07:52.534Z`, as RingCentral writes every timestamp."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_iso(value: str) -> int:
    """Milliseconds for the forms RingCentral accepts: `YYYY`, `YYYY-MM-DD`,
    `YYYY-MM-DDThh:mm[:ss[.fff]]` with `Z`, an offset, or neither (UTC). Raises ValueError."""
    text = value.strip()
    if len(text) == 4 and text.isdigit():
        text = text + "-01-01"
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # A `+` sent unencoded in a query string arrives as a space (the Python SDK does this).
    if len(text) > 19 and text[-6] == " ":
        text = text[:-6] + "+" + text[-5:]
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)
