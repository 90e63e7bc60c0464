"""OAuth 2.0 as RingCentral does it (facts 7): the token endpoint's grants, revocation, and
turning an access token into the `Caller` of every other operation.

Argon2 verifications (client secrets, passwords) take ~20 ms of CPU each, so no grant runs
them inside a database transaction: a grant reads what it needs, verifies on a worker thread,
then writes the session. The writer thread, which every send shares, never waits for argon2.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

from sqlalchemy.engine import Connection

from ringlet.clock import Clock
from ringlet.domain.errors import (
    ClientAuthenticationRequired,
    ExtensionStateNotAllowed,
    GrantTypeNotAllowed,
    InvalidParameter,
    InvalidResourceOwnerCredentials,
    OAuthParameterMissing,
    RefreshTokenInvalid,
    TokenExpired,
    TokenNotFound,
    UnknownClient,
    UnknownGrantType,
)
from ringlet.domain.model import App, Caller, Extension
from ringlet.domain.oauth import (
    JWT_GRANT,
    MAX_ACCESS_TTL,
    MIN_ACCESS_TTL,
    OTHER_RINGCENTRAL_GRANTS,
    PASSWORD_GRANT,
    REFRESH_GRANT,
    scope_of,
    split_username,
    token_lifetimes,
)
from ringlet.domain.phone_numbers import parse_number
from ringlet.security import NO_SECRET, VerifiedSecrets, digest, hash_secret, new_token
from ringlet.store import directory, sessions
from ringlet.store.cache import MISSING, Caches
from ringlet.store.database import Database
from ringlet.store.directory import AppCredentials
from ringlet.store.sessions import LoginTarget, SessionTokens

ACCESS_PREFIX: Final = "rlat_"  # readable prefixes: which token is which, at a glance
REFRESH_PREFIX: Final = "rlrt_"
MAX_ENDPOINT_ID: Final = 64  # sessions.endpoint_id
# Generated endpoint ids are 22 characters, like RingCentral's ("8zXq6oaLT7WvwWITlGiA1A").

# Expired sessions are deleted now and then by a grant, a day after their refresh token died
# (until then an old access token still answers "expired" rather than "not found").
_SWEEP_EVERY_MS: Final = 10 * 60 * 1000
_SWEEP_GRACE_MS: Final = 24 * 3600 * 1000
_MAX_EMAIL_MATCHES: Final = 5


# -- what the API layer hands in and gets back --------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """How the client identified itself: HTTP Basic, and/or `client_id` (`client_secret`) in
    the form. The API layer parses; the service decides."""

    basic: tuple[str, str] | None = None
    form_client_id: str | None = None
    form_client_secret: str | None = None

    def claimed(self) -> tuple[str, str | None]:
        """(client id, secret or None for a public client). Basic and the form may both be
        present (the rc-ex SDK sends both) but must then name the same client."""
        form_id = self.form_client_id or None
        form_secret = self.form_client_secret
        if self.basic is not None:
            basic_id, basic_secret = self.basic
            if form_id is not None and form_id != basic_id:
                raise UnknownClient(form_id)
            if form_secret is not None and form_secret != basic_secret:
                raise UnknownClient(basic_id)
            return basic_id, basic_secret
        if form_id is None:
            raise ClientAuthenticationRequired()
        return form_id, form_secret


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """The fields of a token request that ringlet uses (facts 7.1), unparsed; empty values
    count as absent."""

    grant_type: str = PASSWORD_GRANT  # the spec's default
    username: str | None = None
    password: str | None = None
    extension: str | None = None
    assertion: str | None = None
    refresh_token: str | None = None
    access_token_ttl: str | None = None
    refresh_token_ttl: str | None = None
    endpoint_id: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_token_expires_in: int
    scope: str
    owner_id: int  # the extension's id
    endpoint_id: str


def _required(value: str | None, name: str) -> str:
    if not value:
        raise OAuthParameterMissing(name)
    return value


@cache
def _decoy_hash() -> str:
    """A hash to verify against when no extension matched, so that an unknown username takes
    as long to refuse as a wrong password and does not reveal which usernames exist."""
    return hash_secret("ringlet decoy password")


# -- the service -----------------------------------------------------------------------------


class OAuthService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        min_access_token_ttl: int = MIN_ACCESS_TTL,
        caches: Caches | None = None,
    ) -> None:
        """`min_access_token_ttl` lowers the floor of `access_token_ttl` (600 s on RingCentral)
        so that tests can watch tokens expire; the server itself always uses the default."""
        if not 1 <= min_access_token_ttl <= MAX_ACCESS_TTL:
            raise ValueError(f"min_access_token_ttl must be in 1..{MAX_ACCESS_TTL}")
        self.db = db
        self.clock = clock
        self.min_access_token_ttl = min_access_token_ttl
        self.caches = caches or Caches(clock)
        self._verified = VerifiedSecrets()
        self._next_sweep_ms = 0

    # -- POST /restapi/oauth/token ------------------------------------------------------------

    async def issue(self, client: ClientCredentials, request: TokenRequest) -> IssuedToken:
        client_id, secret = client.claimed()
        grant = request.grant_type
        if grant == PASSWORD_GRANT:
            return await self._password_grant(client_id, secret, request)
        if grant == JWT_GRANT:
            return await self._jwt_grant(client_id, secret, request)
        if grant == REFRESH_GRANT:
            return await self._refresh_grant(client_id, secret, request)
        # An unknown client hears so before it hears about the grant type.
        found = await self.db.read(lambda conn: directory.app_by_client_id(conn, client_id))
        await asyncio.to_thread(self._check_client, client_id, secret, found)
        if grant in OTHER_RINGCENTRAL_GRANTS:
            raise GrantTypeNotAllowed(grant)
        raise UnknownGrantType(grant)

    async def _password_grant(
        self, client_id: str, secret: str | None, request: TokenRequest
    ) -> IssuedToken:
        username, extension = split_username(
            _required(request.username, "username"), request.extension
        )
        password = _required(request.password, "password")

        def read(conn: Connection) -> tuple[AppCredentials | None, list[LoginTarget]]:
            return directory.app_by_client_id(conn, client_id), _login_targets(
                conn, username, extension
            )

        found, targets = await self.db.read(read)
        app, target = await asyncio.to_thread(
            self._check_password_grant, client_id, secret, found, targets, password
        )
        if target is None:
            raise InvalidResourceOwnerCredentials()
        return await self._open_session(app, target.extension, request)

    def _check_password_grant(
        self,
        client_id: str,
        secret: str | None,
        found: AppCredentials | None,
        targets: Sequence[LoginTarget],
        password: str,
    ) -> tuple[App, LoginTarget | None]:
        """On a worker thread: the client, then the password of each candidate (several only
        for an email shared by extensions of different accounts)."""
        app = self._check_client(client_id, secret, found)
        with_password = [t for t in targets if t.password_hash]
        if not with_password:
            self._verified.verify(_decoy_hash(), password)
            return app, None
        for target in with_password:
            if self._verified.verify(target.password_hash, password):
                # Only someone who knows the password learns the extension's state.
                if not target.extension.is_active:
                    raise ExtensionStateNotAllowed()
                return app, target
        return app, None

    async def _jwt_grant(
        self, client_id: str, secret: str | None, request: TokenRequest
    ) -> IssuedToken:
        # The JWT credential is a long random string; its digest is indexed (extensions.jwt_digest).
        jwt_digest = digest(_required(request.assertion, "assertion"))

        def read(conn: Connection) -> tuple[AppCredentials | None, Extension | None]:
            return (
                directory.app_by_client_id(conn, client_id),
                directory.extension_by_jwt_digest(conn, jwt_digest),
            )

        found, extension = await self.db.read(read)
        app = await asyncio.to_thread(self._check_client, client_id, secret, found)
        if extension is None:
            raise InvalidResourceOwnerCredentials()
        if not extension.is_active:
            raise ExtensionStateNotAllowed()
        return await self._open_session(app, extension, request)

    async def _refresh_grant(
        self, client_id: str, secret: str | None, request: TokenRequest
    ) -> IssuedToken:
        old_digest = digest(_required(request.refresh_token, "refresh_token"))
        found = await self.db.read(lambda conn: directory.app_by_client_id(conn, client_id))
        app = await asyncio.to_thread(self._check_client, client_id, secret, found)
        access_ttl, refresh_ttl = token_lifetimes(
            request.access_token_ttl, request.refresh_token_ttl, self.min_access_token_ttl
        )
        access, refresh = new_token(ACCESS_PREFIX), new_token(REFRESH_PREFIX)
        now = self.clock()

        def write(conn: Connection) -> tuple[int, str]:
            session = sessions.session_by_refresh_digest(conn, old_digest)
            # A token of another app is as unknown to this client as a made-up one.
            if session is None or session.app_id != app.id:
                raise RefreshTokenInvalid()
            if session.refresh_expires_ms <= now:
                raise RefreshTokenInvalid("Refresh token expired")
            owner = directory.extension(conn, session.account_id, session.extension_id)
            if owner is None:
                raise RefreshTokenInvalid()
            if not owner.is_active:
                raise ExtensionStateNotAllowed()
            endpoint_id = _endpoint_id(request.endpoint_id) or session.endpoint_id
            tokens = SessionTokens(
                access_digest=digest(access),
                refresh_digest=digest(refresh),
                access_expires_ms=now + access_ttl * 1000,
                refresh_expires_ms=now + refresh_ttl * 1000,
                scope=scope_of(app),
                endpoint_id=endpoint_id,
            )
            # Single use: the old pair stops matching at once, access and refresh alike.
            if not sessions.rotate_session(conn, session.id, old_digest, tokens):
                raise RefreshTokenInvalid()
            return owner.id, endpoint_id

        owner_id, endpoint_id = await self.db.write(write)
        self.caches.invalidate()  # the old access token must stop working at once
        return IssuedToken(
            access_token=access,
            refresh_token=refresh,
            expires_in=access_ttl,
            refresh_token_expires_in=refresh_ttl,
            scope=scope_of(app),
            owner_id=owner_id,
            endpoint_id=endpoint_id,
        )

    def _check_client(
        self, client_id: str, secret: str | None, found: AppCredentials | None
    ) -> App:
        """Client authentication (runs argon2: call it on a worker thread).

        A confidential app (one with a secret) must present it. A public app (stored with
        `NO_SECRET`) is identified by its id alone, as the JS SDK without a secret sends it,
        or by Basic with an empty secret, as the Python SDK does."""
        if found is None:
            raise UnknownClient(client_id)
        if found.client_secret_hash == NO_SECRET:
            if secret:
                raise UnknownClient(client_id)
            return found.app
        if secret is None:
            raise ClientAuthenticationRequired()
        if not self._verified.verify(found.client_secret_hash, secret):
            raise UnknownClient(client_id)
        return found.app

    async def _open_session(
        self, app: App, extension: Extension, request: TokenRequest
    ) -> IssuedToken:
        access_ttl, refresh_ttl = token_lifetimes(
            request.access_token_ttl, request.refresh_token_ttl, self.min_access_token_ttl
        )
        access, refresh = new_token(ACCESS_PREFIX), new_token(REFRESH_PREFIX)
        now = self.clock()
        tokens = SessionTokens(
            access_digest=digest(access),
            refresh_digest=digest(refresh),
            access_expires_ms=now + access_ttl * 1000,
            refresh_expires_ms=now + refresh_ttl * 1000,
            scope=scope_of(app),
            endpoint_id=_endpoint_id(request.endpoint_id) or new_token(nbytes=16),
        )
        sweep_before = self._sweep_due(now)

        def write(conn: Connection) -> None:
            if sweep_before is not None:
                sessions.delete_expired_sessions(conn, sweep_before)
            sessions.insert_session(conn, app.id, extension.account_id, extension.id, tokens)

        await self.db.write(write)
        return IssuedToken(
            access_token=access,
            refresh_token=refresh,
            expires_in=access_ttl,
            refresh_token_expires_in=refresh_ttl,
            scope=tokens.scope,
            owner_id=extension.id,
            endpoint_id=tokens.endpoint_id,
        )

    def _sweep_due(self, now: int) -> int | None:
        """Every few minutes, the time before which expired sessions may go (on the loop, so
        no lock is needed)."""
        if now < self._next_sweep_ms:
            return None
        self._next_sweep_ms = now + _SWEEP_EVERY_MS
        return now - _SWEEP_GRACE_MS

    # -- POST /restapi/oauth/revoke -----------------------------------------------------------

    async def revoke(self, client: ClientCredentials, token: str) -> None:
        """End the session `token` (access or refresh) belongs to. A token that is unknown,
        already ended or another app's is ignored, as RFC 7009 asks: clients ignore revoke
        errors anyway (facts 7.2)."""
        client_id, secret = client.claimed()
        found = await self.db.read(lambda conn: directory.app_by_client_id(conn, client_id))
        app = await asyncio.to_thread(self._check_client, client_id, secret, found)
        token_digest = digest(token)
        await self.db.write(
            lambda conn: sessions.delete_session_by_token(conn, token_digest, app.id)
        )
        self.caches.invalidate()  # its access token must stop working at once

    # -- every other operation ----------------------------------------------------------------

    async def authenticate(self, access_token: str) -> Caller:
        """The caller an access token stands for. Unknown, revoked or superseded (refreshed)
        tokens, and tokens of an extension since Disabled or Frozen, are not found (OAU-213);
        a token past its lifetime has expired (OAU-128).

        This runs before every operation, so answers are memoised (store/cache.py): a refresh,
        a revoke or a directory change in this process drops them at once; another process
        sharing the database sees such a change within the memo's lifetime (1 s)."""
        key = ("caller", digest(access_token))
        found = self.caches.peek(key)
        if found is MISSING:
            generation = self.caches.generation
            grant = await self.db.read(lambda conn: sessions.access_grant(conn, key[1]))
            found = None
            if grant is not None and grant.extension_active:
                caller = Caller(
                    account_id=grant.account_id,
                    extension_id=grant.extension_id,
                    app_id=grant.app_id,
                    app_permissions=grant.app_permissions,
                    is_admin=grant.admin,
                    country=grant.country,
                )
                found = (caller, grant.access_expires_ms)
            self.caches.put(key, found, generation)
        if found is None:
            raise TokenNotFound()
        caller, expires_ms = found
        if self.clock() >= expires_ms:
            raise TokenExpired()
        return caller  # type: ignore[no-any-return]


def _endpoint_id(raw: str | None) -> str | None:
    """The client's own `endpoint_id`, if usable; else the caller picks one."""
    if raw is None:
        return None
    value = raw.strip()
    return value if 0 < len(value) <= MAX_ENDPOINT_ID and value.isprintable() else None


def _login_targets(conn: Connection, username: str, extension: str | None) -> list[LoginTarget]:
    """The extensions a password-grant username (a phone number or an email) names."""
    if "@" in username:
        return sessions.login_targets_by_email(conn, username, extension, _MAX_EMAIL_MATCHES)
    # A national number is read in the country of each account on the server (a username
    # names no account until it is found); an international one reads the same in all.
    # Also with the space a `+` becomes when sent unencoded (facts 7.4).
    numbers: dict[str, None] = {}
    for country in sessions.account_countries(conn):
        try:
            numbers[parse_number(username, "username", country)] = None
        except InvalidParameter:
            continue
    for number in numbers:
        found = sessions.login_targets_by_phone(conn, number, extension)
        if found:
            return found
    return []
