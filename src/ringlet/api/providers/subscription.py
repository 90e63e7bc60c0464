"""The subscription API (facts 13.1): createSubscription, listSubscriptions, readSubscription,
updateSubscription, deleteSubscription, renewSubscription.

A WebSocket subscription is made through the WebSocket gateway, which calls these handlers
in-process with the ASGI scope key `ringlet.ws_session` (no HTTP client can set it)."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response

from ringlet.api.body import decode_json, read_body, read_json
from ringlet.api.context import Ctx
from ringlet.api.responses import empty_response, json_response
from ringlet.clock import iso
from ringlet.notify.records import BLACKLISTED, Subscription
from ringlet.notify.service import CreateRequest, DeliveryRequest

WS_SESSION_SCOPE_KEY = "ringlet.ws_session"


class _DeliveryMode(msgspec.Struct):
    transportType: str | None = None
    address: str | None = None
    verificationToken: str | None = None
    # The developer guide's newer name for the same token (facts 13.2).
    validationToken: str | None = None
    encryption: bool | None = None


class _Create(msgspec.Struct):
    eventFilters: list[str]
    deliveryMode: _DeliveryMode
    expiresIn: int | None = None


class _Update(msgspec.Struct):
    eventFilters: list[str] | None = None
    expiresIn: int | None = None


def ws_session(ctx: Ctx) -> str | None:
    value = ctx.request.scope.get(WS_SESSION_SCOPE_KEY)
    return value if isinstance(value, str) and value else None


def subscription_uri(base_url: str, subscription_id: str) -> str:
    return f"{base_url}/restapi/v1.0/subscription/{subscription_id}"


def subscription_info(s: Subscription, base_url: str, now_ms: int) -> dict[str, Any]:
    delivery: dict[str, Any] = {"transportType": s.transport, "encryption": False}
    if s.address is not None:
        delivery["address"] = s.address
    body: dict[str, Any] = {
        "uri": subscription_uri(base_url, s.id),
        "id": s.id,
        "creationTime": iso(s.creation_ms),
        "status": s.status,
        "eventFilters": list(s.event_filters),
        "expirationTime": iso(s.expiration_ms),
        "expiresIn": max(0, (s.expiration_ms - now_ms) // 1000),
        "deliveryMode": delivery,
    }
    if s.disabled_filters:
        body["disabledFilters"] = [msgspec.to_builtins(d) for d in s.disabled_filters]
    if s.status == BLACKLISTED and s.blacklisted_ms is not None:
        body["blacklistedData"] = {
            "blacklistedAt": iso(s.blacklisted_ms),
            "reason": s.blacklisted_reason or "",
        }
    return body


def _answer(ctx: Ctx, s: Subscription) -> Response:
    return json_response(subscription_info(s, ctx.base_url, ctx.services.clock()))


async def create_subscription(ctx: Ctx) -> Response:
    body = await read_json(ctx.request, _Create, ctx.services.settings.max_body_bytes)
    mode = body.deliveryMode
    token, header = mode.verificationToken, "Verification-Token"
    if token is None and mode.validationToken is not None:
        token, header = mode.validationToken, "Validation-Token"
    request = CreateRequest(
        body.eventFilters,
        DeliveryRequest(mode.transportType, mode.address, token, header),
        body.expiresIn,
    )
    created = await ctx.services.notify.create(ctx.caller, request, ws_session(ctx))
    return _answer(ctx, created)


async def list_subscriptions(ctx: Ctx) -> Response:
    found = await ctx.services.notify.list_subscriptions(ctx.caller)
    now = ctx.services.clock()
    return json_response(
        {
            "uri": f"{ctx.base_url}/restapi/v1.0/subscription",
            "records": [subscription_info(s, ctx.base_url, now) for s in found],
        }
    )


async def read_subscription(ctx: Ctx) -> Response:
    return _answer(ctx, await ctx.services.notify.read(ctx.caller, ctx.path("subscriptionId")))


async def update_subscription(ctx: Ctx) -> Response:
    raw = await read_body(ctx.request, ctx.services.settings.max_body_bytes)
    filters = expires_in = None
    if raw.strip():
        body = decode_json(raw, ctx.request.headers.get("content-type"), _Update)
        filters, expires_in = body.eventFilters, body.expiresIn
    updated = await ctx.services.notify.update(
        ctx.caller, ctx.path("subscriptionId"), filters, expires_in, ws_session(ctx)
    )
    return _answer(ctx, updated)


async def delete_subscription(ctx: Ctx) -> Response:
    await ctx.services.notify.delete(ctx.caller, ctx.path("subscriptionId"))
    return empty_response(204)


async def renew_subscription(ctx: Ctx) -> Response:
    renewed = await ctx.services.notify.renew(
        ctx.caller, ctx.path("subscriptionId"), ws_session(ctx)
    )
    return _answer(ctx, renewed)
