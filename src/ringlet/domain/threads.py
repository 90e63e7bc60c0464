"""R12-R13: conversations and who belongs to a Pager thread."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection

from ringlet.domain.errors import NotInConversation
from ringlet.domain.model import PagerThread

# Conversation ids stay below 2**53 so that JavaScript clients, which parse JSON numbers as
# doubles, read them exactly (RingCentral's own exceed it; `conversation.id` repeats the id as
# a string for that reason).
_ID_BITS = 53
MAX_CONVERSATION_ID = (1 << _ID_BITS) - 1


def new_pager_conversation_id() -> int:
    """A new Pager thread's id: random, below 2**53 like SMS conversation ids."""
    return secrets.randbits(_ID_BITS - 1) | 1 << (_ID_BITS - 1)


def sms_conversation_id(number_a: str, number_b: str) -> int:
    """R13: every SMS between the same two numbers, in either direction, shares one id."""
    low, high = sorted((number_a, number_b))
    digest = hashlib.blake2b(f"sms|{low}|{high}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> (64 - _ID_BITS)) | 1 << (_ID_BITS - 1)


def thread_members(thread: PagerThread, department_member_ids: Collection[int]) -> set[int]:
    """R12: the explicit recipients and sender, plus the *current* members of any department
    the thread was addressed to (`department_member_ids`: their ids, looked up now)."""
    return set(thread.member_extension_ids) | set(department_member_ids)


def is_member(
    extension_id: int, thread: PagerThread, department_member_ids: Collection[int]
) -> bool:
    return extension_id in thread.member_extension_ids or extension_id in department_member_ids


def check_reply_allowed(
    extension_id: int, thread: PagerThread, department_member_ids: Collection[int]
) -> None:
    """R12: only members may reply; a former or never member gets MSG-326."""
    if not is_member(extension_id, thread, department_member_ids):
        raise NotInConversation()
