"""Turning a request's access token into a `Caller`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request

from ringlet.api.headers import header as header_of
from ringlet.domain.errors import AuthorizationMalformed, AuthorizationMissing
from ringlet.domain.model import Caller

if TYPE_CHECKING:
    from ringlet.bootstrap import Services


def access_token_of(request: Request) -> str:
    """`Authorization: Bearer <t>` (the scheme in any case: the SDKs send `bearer` and
    `Bearer`), or `?access_token=<t>` as signed URLs carry it."""
    header = header_of(request, b"authorization")
    if header is None:
        token = request.query_params.get("access_token")
        if token:
            return token
        raise AuthorizationMissing()
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthorizationMalformed()
    return token


async def authenticate(request: Request, services: Services) -> Caller:
    return await services.oauth.authenticate(access_token_of(request))
