"""The simulated handsets (/_ringlet/handsets): what each received and sent, and texting a
company number from one. Every handler checks inspection access first."""

from __future__ import annotations

import msgspec
from starlette.responses import Response

from ringlet.api.body import read_json
from ringlet.api.context import Ctx
from ringlet.api.inspect_access import require_inspect_access
from ringlet.api.responses import json_response
from ringlet.clock import iso
from ringlet.domain.errors import InvalidParameter
from ringlet.services.carrier import MAX_WAIT_S, HandsetText
from ringlet.store.carrier import HandsetRecord


class _HandsetSms(msgspec.Struct):
    to: str | None = None
    text: str | None = None


def handset_record(r: HandsetRecord) -> dict[str, object]:
    return {
        "id": r.id,
        "direction": r.direction,
        "from": r.from_number,
        "to": r.to_number,
        "text": r.text,
        "creationTime": iso(r.creation_ms),
        "status": r.status,
        "messageId": r.message_id,
    }


async def list_handsets(ctx: Ctx) -> Response:
    require_inspect_access(ctx)
    found = await ctx.services.carrier.handsets()
    return json_response(
        {
            "records": [
                {
                    "phoneNumber": h.phone_number,
                    "messageCount": h.message_count,
                    "lastMessageTime": iso(h.last_message_ms),
                }
                for h in found
            ]
        }
    )


def _wait_seconds(ctx: Ctx) -> float:
    raw = ctx.query.text("wait")
    if raw is None:
        return 0.0
    try:
        seconds = float(raw)
    except ValueError:
        raise InvalidParameter("wait", "a number of seconds", value=raw) from None
    if not 0 <= seconds <= MAX_WAIT_S:  # also refuses nan
        raise InvalidParameter("wait", f"from 0 to {MAX_WAIT_S} seconds", value=raw)
    return seconds


async def list_handset_messages(ctx: Ctx) -> Response:
    require_inspect_access(ctx)
    since = ctx.query.integer("since", minimum=0) or 0
    wait = _wait_seconds(ctx)
    found = await ctx.services.carrier.handset_records(ctx.path("phoneNumber"), since, wait)
    return json_response({"records": [handset_record(r) for r in found]})


async def create_handset_message(ctx: Ctx) -> Response:
    require_inspect_access(ctx)
    body = await read_json(ctx.request, _HandsetSms, ctx.services.settings.max_body_bytes)
    record = await ctx.services.carrier.handset_sends(
        HandsetText(ctx.path("phoneNumber"), body.to, body.text)
    )
    return json_response(handset_record(record), status=201)
