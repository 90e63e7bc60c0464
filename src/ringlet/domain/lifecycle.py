"""R15: deleting moves a message Alive -> Deleted -> Purged; only readStatus is editable."""

from __future__ import annotations

from ringlet.domain.enums import Availability


def availability_after_delete(current: Availability, *, purge: bool) -> Availability:
    """The first delete keeps the message readable by id as Deleted; `purge=true` or a second
    delete purges it."""
    if purge or current is not Availability.ALIVE:
        return Availability.PURGED
    return Availability.DELETED


EDITABLE_FIELDS = frozenset({"readStatus"})
