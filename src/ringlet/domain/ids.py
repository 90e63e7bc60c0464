"""The one reading of a resource id, in a path or in a body.

RingCentral's ids are positive 64-bit integers (int64 in its OpenAPI description, and a
PostgreSQL BIGINT here). Only ASCII digits count: `str.isdigit` also accepts "²" and other
Unicode digits, which `int()` then refuses or reads as something else. A value that cannot be
an id names no record: in a path it is not found (404 CMN-102), in a body it is an invalid
parameter (400 CMN-101), so that no request ever reaches the database with it.
"""

from __future__ import annotations

from typing import Final

from ringlet.domain.errors import InvalidParameter, ResourceNotFound

MAX_ID: Final = 2**63 - 1
_MAX_DIGITS: Final = len(str(MAX_ID))


def parse_id(raw: str | int) -> int | None:
    """The id as a number, or None for anything that cannot be one: not ASCII digits, zero,
    or beyond int64. JSON numbers (`int`) are judged by the same bound; `bool` is not a number."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if 0 < raw <= MAX_ID else None
    # The length check first: int() of a 5,000-digit string costs time for nothing.
    if not (0 < len(raw) <= _MAX_DIGITS and raw.isascii() and raw.isdigit()):
        return None
    number = int(raw)
    return number if 0 < number <= MAX_ID else None


def path_id(raw: str, parameter: str) -> int:
    """An id in a URL path segment; anything that cannot be one is not found."""
    number = parse_id(raw)
    if number is None:
        raise ResourceNotFound(parameter, raw)
    return number


def body_id(raw: str | int, parameter: str) -> int:
    """An id in a request body (`replyOn`, `to[].extensionId`, bulk-assign's ids)."""
    number = parse_id(raw)
    if number is None:
        # Echoed cut short (a 5,000-digit id need not come back whole); an int of more than
        # 4,300 digits cannot even be written out by str().
        value = raw[:40] if isinstance(raw, str) else None
        raise InvalidParameter(parameter, "expected a positive 64-bit id", value=value)
    return number
