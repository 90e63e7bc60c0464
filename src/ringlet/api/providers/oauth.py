"""`POST /restapi/oauth/token` and `POST /restapi/oauth/revoke` (facts 7.1, 7.2).

Both take `application/x-www-form-urlencoded` bodies and answer errors in OAuth's shape, so
every error raised here is an `OAuthError` (api/errors.py renders those as RFC 6749 bodies).
The form is parsed here with the standard library: Starlette's `request.form()` would need
python-multipart, and these two small bodies are all ringlet ever reads as a form.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from ringlet.api.body import read_body
from ringlet.api.context import Ctx
from ringlet.api.responses import empty_response, json_response
from ringlet.domain.errors import (
    ClientAuthenticationMalformed,
    OAuthParameterMissing,
    OAuthRequestTooLarge,
    OAuthUnsupportedMediaType,
    ParameterDuplicated,
    RequestTooLarge,
    UnknownClient,
)
from ringlet.domain.oauth import PASSWORD_GRANT
from ringlet.domain.text import check_storable
from ringlet.services.oauth import ClientCredentials, IssuedToken, TokenRequest

FORM_MEDIA_TYPE: Final = "application/x-www-form-urlencoded"
# RFC 6749 5.1: token responses must not be cached.
_NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def get_token(ctx: Ctx) -> Response:
    form = await _read_form(ctx.request, ctx.services.settings.max_body_bytes)
    client = _client_credentials(ctx.request, form)
    issued = await ctx.services.oauth.issue(client, _token_request(form))
    return json_response(token_info(issued), headers=_NO_STORE)


async def revoke_token(ctx: Ctx) -> Response:
    form = await _read_form(ctx.request, ctx.services.settings.max_body_bytes)
    # S25 also allows `?token=`; the body wins when both are given.
    token = form.get("token") or ctx.request.query_params.get("token")
    if not token:
        raise OAuthParameterMissing("token")
    await ctx.services.oauth.revoke(_client_credentials(ctx.request, form), token)
    return empty_response(200)


def token_info(issued: IssuedToken) -> dict[str, Any]:
    """The spec's TokenInfo, with what every SDK reads (facts 15)."""
    return {
        "access_token": issued.access_token,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
        "refresh_token": issued.refresh_token,
        "refresh_token_expires_in": issued.refresh_token_expires_in,
        "scope": issued.scope,
        "owner_id": str(issued.owner_id),
        "endpoint_id": issued.endpoint_id,
    }


async def _read_form(request: Request, limit: int) -> dict[str, str]:
    """The url-encoded body as one value per name. An empty body needs no media type (a
    revoke may carry its token in the query alone); any other must be a form (415)."""
    try:
        raw = await read_body(request, limit)
    except RequestTooLarge as exc:
        raise OAuthRequestTooLarge(limit) from exc
    if not raw.strip():
        return {}
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != FORM_MEDIA_TYPE:
        raise OAuthUnsupportedMediaType(content_type, FORM_MEDIA_TYPE)
    # Undecodable bytes become U+FFFD: such a value then simply matches no credential.
    text = raw.decode("utf-8", errors="replace")
    form: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True, errors="replace"):
        if name in form and form[name] != value:
            raise ParameterDuplicated(name)
        check_storable(value, name)  # usernames, emails and ids are looked up in the database
        form[name] = value
    return form


def _client_credentials(request: Request, form: Mapping[str, str]) -> ClientCredentials:
    return ClientCredentials(
        basic=_basic_credentials(request.headers.get("authorization")),
        form_client_id=form.get("client_id") or None,
        form_client_secret=form.get("client_secret"),
    )


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """`Authorization: Basic base64(id:secret)` -> (id, secret). The SDKs do not url-encode
    id and secret before base64 (RFC 6749 2.3.1 says to), so neither does ringlet decode."""
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise ClientAuthenticationMalformed()
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ClientAuthenticationMalformed() from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise ClientAuthenticationMalformed()
    if not client_id:
        raise UnknownClient(client_id)
    check_storable(client_id, "client_id")
    return client_id, secret


def _token_request(form: Mapping[str, str]) -> TokenRequest:
    def field(name: str) -> str | None:
        return form.get(name) or None

    return TokenRequest(
        grant_type=field("grant_type") or PASSWORD_GRANT,
        username=field("username"),
        password=field("password"),
        extension=field("extension"),
        assertion=field("assertion"),
        refresh_token=field("refresh_token"),
        access_token_ttl=field("access_token_ttl"),
        refresh_token_ttl=field("refresh_token_ttl"),
        endpoint_id=field("endpoint_id"),
    )
