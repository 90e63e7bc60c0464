"""ringlet's own: the WebHook delivery journal of a subscription, and redelivery of one
attempt's notification (loopback only, api/inspect_access.py).

    GET  /_ringlet/subscriptions/{subscriptionId}/deliveries
    POST /_ringlet/subscriptions/{subscriptionId}/deliveries/{attemptId}/redeliver
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response

from ringlet.api.context import Ctx
from ringlet.api.inspect_access import require_inspect_access
from ringlet.api.responses import json_response
from ringlet.clock import iso
from ringlet.domain.errors import ResourceNotFound
from ringlet.notify.records import Attempt


def _attempt(a: Attempt) -> dict[str, Any]:
    return {
        "id": str(a.id),
        "time": iso(a.attempt_ms),
        "uuid": a.uuid,
        "statusCode": a.status_code,
        "latencyMs": a.latency_ms,
        "error": a.error,
        "redelivery": a.redelivery,
        "notification": msgspec.json.decode(a.envelope),
    }


async def list_deliveries(ctx: Ctx) -> Response:
    require_inspect_access(ctx)
    subscription, attempts = await ctx.services.notify.journal(ctx.path("subscriptionId"))
    return json_response(
        {
            "subscriptionId": subscription.id,
            "status": subscription.status,
            "records": [_attempt(a) for a in attempts],
        }
    )


async def redeliver(ctx: Ctx) -> Response:
    require_inspect_access(ctx)
    raw = ctx.path("attemptId")
    if not raw.isdigit() or len(raw) > 18:
        raise ResourceNotFound("attemptId", raw)
    attempt = await ctx.services.notify.redeliver(ctx.path("subscriptionId"), int(raw))
    return json_response(_attempt(attempt))
