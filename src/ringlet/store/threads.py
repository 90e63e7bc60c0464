"""Pager threads (R12): who belongs to a conversation. Its explicit members (the sender and the
extensions named) and the departments it was addressed to, whose current members also belong."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ringlet.domain.model import PagerThread
from ringlet.store import store_versions
from ringlet.store.schema import (
    department_members,
    pager_thread_departments,
    pager_thread_members,
    pager_threads,
)


def create_thread(
    conn: Connection,
    account_id: int,
    conversation_id: int,
    member_ids: Iterable[int],
    department_ids: Iterable[int],
) -> None:
    conn.execute(
        sa.insert(pager_threads).values(conversation_id=conversation_id, account_id=account_id)
    )
    add_thread_members(conn, conversation_id, member_ids, department_ids, existing=None)


def add_thread_members(
    conn: Connection,
    conversation_id: int,
    member_ids: Iterable[int],
    department_ids: Iterable[int],
    existing: PagerThread | None,
) -> None:
    known_members = existing.member_extension_ids if existing else frozenset()
    known_departments = existing.department_ids if existing else frozenset()
    members = [
        {"conversation_id": conversation_id, "extension_id": e}
        for e in sorted(set(member_ids) - known_members)
    ]
    departments = [
        {"conversation_id": conversation_id, "department_id": d}
        for d in sorted(set(department_ids) - known_departments)
    ]
    if members:
        conn.execute(sa.insert(pager_thread_members), members)
    if departments:
        conn.execute(sa.insert(pager_thread_departments), departments)
    if existing is not None and (members or departments):
        # Whoever joins a thread may read its earlier copies in their own store again (one who
        # had left a department it was addressed to), inactive extensions too, which receive
        # nothing now: their lists change without a message stored for them.
        joined = {m["extension_id"] for m in members}
        added_departments = [d["department_id"] for d in departments]
        if added_departments:
            joined.update(
                r[0]
                for r in conn.execute(
                    sa.select(department_members.c.extension_id).where(
                        department_members.c.department_id.in_(added_departments)
                    )
                )
            )
        store_versions.touch(conn, joined)


def thread(conn: Connection, account_id: int, conversation_id: int) -> PagerThread | None:
    found = conn.execute(
        sa.select(pager_threads.c.conversation_id).where(
            pager_threads.c.account_id == account_id,
            pager_threads.c.conversation_id == conversation_id,
        )
    ).first()
    if found is None:
        return None
    members = conn.execute(
        sa.select(pager_thread_members.c.extension_id).where(
            pager_thread_members.c.conversation_id == conversation_id
        )
    )
    departments = conn.execute(
        sa.select(pager_thread_departments.c.department_id).where(
            pager_thread_departments.c.conversation_id == conversation_id
        )
    )
    return PagerThread(
        conversation_id=conversation_id,
        account_id=account_id,
        member_extension_ids=frozenset(r[0] for r in members),
        department_ids=frozenset(r[0] for r in departments),
    )
