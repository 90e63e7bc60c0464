"""What the web inbox shows, read in one go: accounts, their extensions and numbers, recent
messages; and a fingerprint of everything it shows, to know when to read again."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ringlet.domain.model import Account, Extension, Message, PhoneNumber
from ringlet.store import directory
from ringlet.store.messages import message_from_row
from ringlet.store.schema import (
    accounts,
    extensions,
    handset_messages,
    message_store_versions,
    messages,
)

# Bounds that keep one page small on a server holding many accounts or long histories.
MAX_ACCOUNTS = 100
MAX_MESSAGES_PER_ACCOUNT = 1000


@dataclass(frozen=True, slots=True)
class AccountView:
    account: Account
    extensions: list[Extension]
    numbers: list[PhoneNumber]
    messages: list[Message]  # newest first, not Purged


def accounts_view(conn: Connection) -> list[AccountView]:
    out = []
    for row in conn.execute(sa.select(accounts).order_by(accounts.c.id).limit(MAX_ACCOUNTS)):
        account = directory.account_from_row(row)
        exts = [
            directory.extension_from_mapping(r._mapping)
            for r in conn.execute(
                sa.select(*directory.EXTENSION_COLUMNS)
                .where(extensions.c.account_id == account.id)
                .order_by(extensions.c.extension_number)
            )
        ]
        found = [
            message_from_row(r)
            for r in conn.execute(
                sa.select(messages)
                .where(messages.c.account_id == account.id, messages.c.availability != "Purged")
                .order_by(messages.c.id.desc())
                .limit(MAX_MESSAGES_PER_ACCOUNT)
            )
        ]
        out.append(
            AccountView(account, exts, directory.account_phone_numbers(conn, account.id), found)
        )
    return out


def fingerprint(conn: Connection) -> str:
    """Changes whenever anything the inbox shows changes: every message-store change moves a
    store's counter (store/store_versions.py), every handset record is a new row, and a reset
    moves every counter and empties the handset records."""
    stores = conn.execute(
        sa.select(
            sa.func.count(), sa.func.coalesce(sa.func.sum(message_store_versions.c.version), 0)
        )
    ).one()
    handsets = conn.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(handset_messages.c.id), 0))
    ).one()
    return f"{stores[0]}.{stores[1]}.{handsets[0]}.{handsets[1]}"
