"""R14: whose data a caller may reach. `~` is the caller's own account or extension."""

from __future__ import annotations

from enum import Enum

from ringlet.domain.errors import OtherExtension, ResourceNotFound
from ringlet.domain.ids import parse_id, path_id
from ringlet.domain.model import Caller

OWN = "~"


class Reach(Enum):
    """How far an operation on an extension may reach beyond the caller's own."""

    OWN_ONLY = "own"  # sending: nobody sends as someone else, admins included
    OWN_OR_ADMIN = "admin"  # message store, phone numbers, updates: admins reach the account
    ACCOUNT = "account"  # directory reads: anyone in the account


def resolve_account(caller: Caller, ref: str) -> int:
    """The account a path names. Another account is reported as not found, never as
    forbidden, so that its existence does not leak."""
    if ref == OWN:
        return caller.account_id
    if parse_id(ref) != caller.account_id:
        raise ResourceNotFound("accountId", ref)
    return caller.account_id


def resolve_extension(caller: Caller, ref: str, reach: Reach) -> int:
    """The extension a path names, if the caller may address it with this kind of operation.
    Whether it exists in the account is the service's to check."""
    if ref == OWN:
        return caller.extension_id
    extension_id = path_id(ref, "extensionId")
    if extension_id == caller.extension_id:
        return extension_id
    if reach is Reach.ACCOUNT or (reach is Reach.OWN_OR_ADMIN and caller.is_admin):
        return extension_id
    raise OtherExtension()
