"""The tokens of `POST /restapi/oauth/wstoken`: issued to an OAuth session, found by digest.

Kept in the database, not in a process's memory, because the connection that presents a token
may reach another process than the one that issued it (`--workers N`, or several servers).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ringlet.store.schema import sessions, ws_tokens


@dataclass(frozen=True, slots=True)
class StoredWsToken:
    session_id: int
    sealed_access: str
    expires_ms: int


def insert_ws_token(
    conn: Connection, token_digest: str, access_digest: str, sealed_access: str, expires_ms: int
) -> bool:
    """Record a token for the OAuth session of `access_digest`; False if that session is gone
    (revoked or refreshed since the caller was authenticated)."""
    session_id = conn.execute(
        sa.select(sessions.c.id).where(sessions.c.access_digest == access_digest)
    ).scalar()
    if session_id is None:
        return False
    conn.execute(
        sa.insert(ws_tokens).values(
            digest=token_digest,
            session_id=session_id,
            sealed_access=sealed_access,
            expires_ms=expires_ms,
        )
    )
    return True


def ws_token_by_digest(conn: Connection, token_digest: str) -> StoredWsToken | None:
    row = conn.execute(
        sa.select(ws_tokens.c.session_id, ws_tokens.c.sealed_access, ws_tokens.c.expires_ms).where(
            ws_tokens.c.digest == token_digest
        )
    ).first()
    if row is None:
        return None
    return StoredWsToken(int(row.session_id), str(row.sealed_access), int(row.expires_ms))


def delete_expired_ws_tokens(conn: Connection, before_ms: int) -> int:
    return conn.execute(sa.delete(ws_tokens).where(ws_tokens.c.expires_ms < before_ms)).rowcount
