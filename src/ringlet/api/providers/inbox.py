"""The web inbox: its page and assets, the data it shows, and the long-poll that tells it when
to read again. The page and assets hold no data: they are served whenever inspection is on;
the data needs inspection access (with an admin token the page asks for it)."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.responses import Response

from ringlet import web
from ringlet.api.context import Ctx
from ringlet.api.inspect_access import require_inspect_access
from ringlet.api.providers.handsets import handset_record
from ringlet.api.responses import json_response
from ringlet.clock import iso
from ringlet.domain.enums import MessageType
from ringlet.domain.errors import InvalidParameter, InvalidUri
from ringlet.domain.model import Message, Party
from ringlet.services.inbox import MAX_WAIT_S
from ringlet.store.inbox import AccountView

# The page's resources may come from this server only; nothing inline runs.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


async def page(ctx: Ctx) -> Response:
    if not ctx.services.settings.inspect:
        raise InvalidUri()
    return Response(web.page(), media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)


async def asset(ctx: Ctx) -> Response:
    name = ctx.path("name")
    media_type = web.ASSETS.get(name)
    if media_type is None or not ctx.services.settings.inspect:
        raise InvalidUri()
    return Response(web.read(name), media_type=media_type, headers=_PAGE_HEADERS)


def _party(p: Party) -> str:
    if p.phone_number:
        return p.phone_number
    label = p.extension_number or str(p.extension_id)
    return f"{p.name} ({label})" if p.name else label


def _message(m: Message) -> dict[str, object]:
    return {
        "id": m.id,
        "type": m.type.value,
        "direction": m.direction.value,
        "from": _party(m.sender),
        "to": [_party(r) for r in m.recipients],
        "text": m.subject,
        "status": m.message_status.value,
        "readStatus": m.read_status.value,
        "availability": m.availability.value,
        "creationTime": iso(m.creation_time_ms),
        "deliveryErrorCode": m.delivery_error_code,
    }


def _conversations(found: Iterable[Message]) -> list[dict[str, object]]:
    """One extension's messages as threads, most recently active first: SMS by conversation
    (its two numbers), Pager threads with their members as the messages name them."""
    threads: dict[int, list[Message]] = {}
    for m in found:  # newest first
        threads.setdefault(m.conversation_id, []).append(m)
    out: list[dict[str, object]] = []
    for conversation_id, items in threads.items():
        first = items[-1]
        if first.type is MessageType.SMS:
            members = sorted({_party(first.sender), *(_party(r) for r in first.recipients)})
        else:
            members = sorted({_party(p) for m in items for p in (m.sender, *m.recipients)})
        out.append(
            {
                "conversationId": str(conversation_id),
                "type": first.type.value,
                "members": members,
                "messages": [_message(m) for m in reversed(items)],
            }
        )
    return out


def _account(view: AccountView) -> dict[str, object]:
    by_extension: dict[int, list[Message]] = {}
    for m in view.messages:
        by_extension.setdefault(m.extension_id, []).append(m)
    numbers: dict[int | None, list[str]] = {}
    for n in view.numbers:
        numbers.setdefault(n.extension_id, []).append(n.phone_number)
    return {
        "id": str(view.account.id),
        "name": view.account.name,
        "mainNumber": view.account.main_number,
        "extensions": [
            {
                "id": str(e.id),
                "extensionNumber": e.extension_number,
                "name": e.name,
                "type": e.type.value,
                "status": e.status.value,
                "phoneNumbers": numbers.get(e.id, []),
                "conversations": _conversations(by_extension.get(e.id, [])),
            }
            for e in view.extensions
        ],
    }


async def data(ctx: Ctx) -> Response:
    require_inspect_access(ctx)
    view = await ctx.services.inbox.view()
    handsets: dict[str, list[dict[str, object]]] = {}
    for r in view.handset_records:
        handsets.setdefault(r.handset, []).append(handset_record(r))
    return json_response(
        {
            "version": view.version,
            "accounts": [_account(a) for a in view.accounts],
            "handsets": [{"phoneNumber": n, "messages": ms} for n, ms in sorted(handsets.items())],
        }
    )


async def changes(ctx: Ctx) -> Response:
    require_inspect_access(ctx)
    raw = ctx.query.text("wait")
    try:
        wait = float(raw) if raw is not None else 0.0
    except ValueError:
        raise InvalidParameter("wait", value=raw) from None
    if not 0 <= wait <= MAX_WAIT_S:
        raise InvalidParameter("wait", f"from 0 to {MAX_WAIT_S} seconds", value=raw)
    version = await ctx.services.inbox.changed(ctx.query.text("version"), wait)
    return json_response({"version": version})
