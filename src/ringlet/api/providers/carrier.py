"""The carrier's controls and doors (/_ringlet/carrier/...): rules that make SMS to a number
fail, the HTTP gateway's delivery receipts and inbound SMS, and POST /_ringlet/reset."""

from __future__ import annotations

import msgspec
from starlette.responses import Response

from ringlet.api.body import read_json
from ringlet.api.context import Ctx
from ringlet.api.inspect_access import require_inspect_access
from ringlet.api.providers.handsets import handset_record
from ringlet.api.responses import empty_response, json_response
from ringlet.carrier.gateway import DeliveryReport
from ringlet.clock import parse_iso
from ringlet.domain.carrier import check_error_code
from ringlet.domain.enums import MessageStatus
from ringlet.domain.errors import InvalidParameter, ResourceNotFound
from ringlet.services.carrier import HandsetText
from ringlet.store.carrier import CarrierRule


class _Rule(msgspec.Struct):
    to: str | None = None
    status: str | None = None
    errorCode: str | None = None


class _Report(msgspec.Struct):
    messageId: str | int | None = None
    status: str | None = None
    errorCode: str | None = None
    deliveryTime: str | None = None


class _Inbound(msgspec.Struct):
    from_: str | None = msgspec.field(default=None, name="from")
    to: str | None = None
    text: str | None = None


def _rule(rule: CarrierRule) -> dict[str, object]:
    return {
        "id": rule.id,
        "to": rule.to_number,
        "status": rule.status.value,
        "errorCode": rule.error_code,
    }


async def create_rule(ctx: Ctx) -> Response:
    require_inspect_access(ctx)
    body = await read_json(ctx.request, _Rule, ctx.services.settings.max_body_bytes)
    rule = await ctx.services.carrier.add_rule(body.to, body.status, body.errorCode)
    return json_response(_rule(rule), status=201)


async def list_rules(ctx: Ctx) -> Response:
    require_inspect_access(ctx)
    return json_response({"records": [_rule(r) for r in await ctx.services.carrier.rules()]})


async def delete_rule(ctx: Ctx) -> Response:
    require_inspect_access(ctx)
    raw = ctx.path("ruleId")
    if not raw.isdigit():
        raise ResourceNotFound("ruleId", raw)
    await ctx.services.carrier.delete_rule(int(raw))
    return empty_response()


_REPORTED = (MessageStatus.DELIVERED, MessageStatus.DELIVERY_FAILED)


async def create_report(ctx: Ctx) -> Response:
    """A delivery receipt from the HTTP gateway's far side."""
    require_inspect_access(ctx)
    body = await read_json(ctx.request, _Report, ctx.services.settings.max_body_bytes)
    raw_id = None if body.messageId is None else str(body.messageId)
    if raw_id is None or not raw_id.isdigit():
        raise InvalidParameter("messageId", "the id the gateway was given", value=raw_id)
    if body.status not in _REPORTED:
        allowed = ", ".join(s.value for s in _REPORTED)
        raise InvalidParameter("status", f"must be one of {allowed}", value=body.status)
    status = MessageStatus(body.status)
    error_code = None
    if status is MessageStatus.DELIVERY_FAILED:
        error_code = check_error_code(body.errorCode or "SMS-CAR-199")
    elif body.errorCode is not None:
        raise InvalidParameter("errorCode", "a Delivered message has no error code")
    delivered_ms = None
    if body.deliveryTime is not None:
        try:
            delivered_ms = parse_iso(body.deliveryTime)
        except ValueError:
            raise InvalidParameter("deliveryTime", value=body.deliveryTime) from None
    report = DeliveryReport(status, error_code, delivered_ms)
    await ctx.services.carrier.report(int(raw_id), report)
    return empty_response()


async def create_inbound(ctx: Ctx) -> Response:
    """An SMS from a handset, through the HTTP gateway: delivered as a simulated handset's."""
    require_inspect_access(ctx)
    body = await read_json(ctx.request, _Inbound, ctx.services.settings.max_body_bytes)
    if body.from_ is None:
        raise InvalidParameter("from", "the handset's number is required")
    record = await ctx.services.carrier.handset_sends(HandsetText(body.from_, body.to, body.text))
    return json_response(handset_record(record), status=201)


async def reset(ctx: Ctx) -> Response:
    require_inspect_access(ctx)
    await ctx.services.carrier.reset()
    # Then the notifications recorded so far, and the delivery journal: subscriptions stay
    # and deliver only what changes from now on.
    await ctx.services.notify.reset()
    return empty_response()
