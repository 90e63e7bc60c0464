"""`POST /restapi/oauth/wstoken` (facts 7.5), and ringlet's own controls of the WebSocket
gateway under /_ringlet/websocket/ (drop a session's connection, delay its frames) for testing
an app's recovery."""

from __future__ import annotations

from typing import Any, Final

import msgspec
from starlette.responses import Response

from ringlet.api.auth import access_token_of
from ringlet.api.body import read_json
from ringlet.api.context import Ctx
from ringlet.api.inspect_access import require_inspect_access
from ringlet.api.responses import empty_response, json_response
from ringlet.clock import iso
from ringlet.domain.errors import InvalidParameter, ResourceNotFound
from ringlet.ws.gateway import GATEWAY_PATH
from ringlet.ws.sessions import Session

_NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_DELAY_MS: Final = 600_000


def gateway_uri(base_url: str) -> str:
    """The gateway on the port the client called: `ws://host:port/ws` (`wss` behind TLS)."""
    scheme, _, rest = base_url.partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}{GATEWAY_PATH}"


async def auth_ws_token(ctx: Ctx) -> Response:
    # The body is ignored: the SDKs send none or `{}`.
    issued = await ctx.services.ws_tokens.issue(access_token_of(ctx.request))
    return json_response(
        {
            "uri": gateway_uri(ctx.base_url),
            "ws_access_token": issued.token,
            "expires_in": issued.expires_in,
        },
        headers=_NO_STORE,
    )


# -- /_ringlet/websocket/ ----------------------------------------------------------------------


def _record(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "accountId": str(session.account_id),
        "extensionId": str(session.extension_id),
        "creationTime": iso(session.creation_ms),
        "connected": session.outlet is not None,
        "subscriptionId": session.subscription_id,
        "sequence": session.sequence,
        "buffered": len(session.buffer),
        "delayMs": session.delay_ms,
    }


def _session(ctx: Ctx) -> Session:
    session_id = ctx.path("sessionId")
    session = ctx.services.ws_gateway.get(session_id)
    if session is None:
        raise ResourceNotFound("sessionId", session_id)
    return session


async def list_websocket_sessions(ctx: Ctx) -> Response:
    """The sessions this process holds (connected, or waiting for a recovery); `extensionId`
    narrows the list to one extension's."""
    require_inspect_access(ctx)
    wanted = ctx.request.query_params.get("extensionId")
    records = [
        _record(s)
        for s in ctx.services.ws_gateway.sessions()
        if wanted is None or str(s.extension_id) == wanted
    ]
    return json_response({"records": records})


async def drop_websocket_session(ctx: Ctx) -> Response:
    """Close the session's connection now, as a network failure would (no Error frame). The
    session stays: the client may recover it with its `wsc` within the recovery timeout, and
    what arrives meanwhile waits in the recovery buffer."""
    require_inspect_access(ctx)
    session = _session(ctx)
    if session.outlet is not None:
        session.outlet.drop()
    return empty_response(204)


class _Delay(msgspec.Struct):
    delayMs: int


async def delay_websocket_session(ctx: Ctx) -> Response:
    """Hold every frame the gateway sends on this session for `delayMs` milliseconds before it
    goes out (in order; 0 ends the delay). Lasts for the session, across recoveries."""
    require_inspect_access(ctx)
    session = _session(ctx)
    delay = await read_json(ctx.request, _Delay, ctx.services.settings.max_body_bytes)
    if not 0 <= delay.delayMs <= MAX_DELAY_MS:
        raise InvalidParameter("delayMs", f"from 0 to {MAX_DELAY_MS}", value=str(delay.delayMs))
    session.delay_ms = delay.delayMs
    return json_response(_record(session))
