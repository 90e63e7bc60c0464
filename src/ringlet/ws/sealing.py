"""Sealing an access token with the WebSocket token that stands for it.

A WebSocket token lets a connection act with the access token it was issued for (the gateway
tunnels REST calls with it), so the server must get that access token back from the WebSocket
token. The database keeps only a digest of the WebSocket token (to find the row) and the access
token XORed with a key stream derived from the WebSocket token (SHA-256 in counter mode, with a
domain label that the digest does not use): without the WebSocket token, which the database
never holds, a row opens nothing. Each WebSocket token is random (256 bits) and seals exactly
one value, so the key stream is never reused.
"""

from __future__ import annotations

import hashlib
from typing import Final

_LABEL: Final = b"ringlet ws-token seal\x00"


def _key_stream(ws_token: str, length: int) -> bytes:
    seed = ws_token.encode("utf-8")
    blocks = []
    for counter in range((length + 31) // 32):
        blocks.append(hashlib.sha256(_LABEL + counter.to_bytes(4, "big") + seed).digest())
    return b"".join(blocks)[:length]


def seal(ws_token: str, secret: str) -> str:
    plain = secret.encode("utf-8")
    stream = _key_stream(ws_token, len(plain))
    return bytes(a ^ b for a, b in zip(plain, stream, strict=True)).hex()


def unseal(ws_token: str, sealed: str) -> str | None:
    """The sealed value, or None if `sealed` is not what `seal` makes."""
    try:
        raw = bytes.fromhex(sealed)
        stream = _key_stream(ws_token, len(raw))
        return bytes(a ^ b for a, b in zip(raw, stream, strict=True)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
