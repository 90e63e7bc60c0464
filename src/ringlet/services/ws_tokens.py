"""`POST /restapi/oauth/wstoken` (facts 7.5) and the gateway's check of the token a WebSocket
connection presents.

A WebSocket token stands for the access token it was requested with: a connection that
presents it acts as that caller, and its REST-over-WebSocket calls carry that access token. It
is valid for WS_TOKEN_TTL seconds and for any number of connections in that time: @rc-ex/ws
(the JS SDK's WebSocket client) reuses one token for 0.8 x expires_in, reconnecting with it
after a dropped connection, so a single-use token would break its recovery.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy.engine import Connection

from ringlet.clock import Clock
from ringlet.domain.errors import TokenExpired, TokenNotFound
from ringlet.domain.model import Caller
from ringlet.security import digest, new_token
from ringlet.services.oauth import OAuthService
from ringlet.store import ws_tokens
from ringlet.store.database import Database
from ringlet.ws.sealing import seal, unseal

WS_TOKEN_PREFIX: Final = "rlws_"
WS_TOKEN_TTL: Final = 30  # seconds; RingCentral's documented example (facts 7.5)
_SWEEP_EVERY_MS: Final = 60 * 1000


@dataclass(frozen=True, slots=True)
class IssuedWsToken:
    token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class WsGrant:
    """What a valid WebSocket token stands for."""

    caller: Caller
    access_token: str
    oauth_session_id: int


class WsTokenService:
    def __init__(self, db: Database, clock: Clock, oauth: OAuthService) -> None:
        self.db = db
        self.clock = clock
        self.oauth = oauth
        self._next_sweep_ms = 0

    async def issue(self, access_token: str) -> IssuedWsToken:
        """A token for the (already authenticated) caller of `access_token`."""
        token = new_token(WS_TOKEN_PREFIX)
        now = self.clock()
        expires_ms = now + WS_TOKEN_TTL * 1000
        sweep = now >= self._next_sweep_ms
        if sweep:
            self._next_sweep_ms = now + _SWEEP_EVERY_MS

        def write(conn: Connection) -> bool:
            if sweep:
                ws_tokens.delete_expired_ws_tokens(conn, now)
            return ws_tokens.insert_ws_token(
                conn, digest(token), digest(access_token), seal(token, access_token), expires_ms
            )

        if not await self.db.write(write):
            raise TokenNotFound()  # the session ended between authentication and this write
        return IssuedWsToken(token, WS_TOKEN_TTL)

    async def redeem(self, ws_token: str) -> WsGrant:
        """The grant of a presented WebSocket token: OAU-213 if unknown, OAU-128 if expired;
        then the access token it stands for must still authenticate (not revoked, refreshed or
        expired, its extension still active)."""
        token_digest = digest(ws_token)
        found = await self.db.read_small(
            lambda conn: ws_tokens.ws_token_by_digest(conn, token_digest)
        )
        if found is None:
            raise TokenNotFound()
        if self.clock() >= found.expires_ms:
            raise TokenExpired()
        access_token = unseal(ws_token, found.sealed_access)
        if access_token is None:
            raise TokenNotFound()
        caller = await self.oauth.authenticate(access_token)
        return WsGrant(caller, access_token, found.session_id)
