"""Canonical `uri` fields: always real numeric ids, never `~`. One copy for every resource."""

from __future__ import annotations

API = "/restapi/v1.0"


def account_uri(base: str, account_id: int) -> str:
    return f"{base}{API}/account/{account_id}"


def extension_uri(base: str, account_id: int, extension_id: int) -> str:
    return f"{base}{API}/account/{account_id}/extension/{extension_id}"


def message_store_uri(base: str, account_id: int, extension_id: int) -> str:
    return f"{extension_uri(base, account_id, extension_id)}/message-store"


def message_uri(base: str, account_id: int, extension_id: int, message_id: int) -> str:
    # The records themselves are written by ringlet/message_json.py from the store's uri.
    return f"{message_store_uri(base, account_id, extension_id)}/{message_id}"


def phone_number_uri(base: str, account_id: int, number_id: int) -> str:
    return f"{account_uri(base, account_id)}/phone-number/{number_id}"
