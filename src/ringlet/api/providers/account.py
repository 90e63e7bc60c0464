"""Account, extensions, phone numbers and departments: one handler per operation.

Each handler resolves the path (R14 through ctx), parses the query or body, calls one
DirectoryService use case and renders the result with wire_directory.
"""

from __future__ import annotations

import msgspec
from starlette.responses import Response

from ringlet.api import wire_directory as wire
from ringlet.api.body import decode_json, read_body, read_json
from ringlet.api.context import Ctx
from ringlet.api.paging import page_request, paged_body
from ringlet.api.responses import empty_response, json_response
from ringlet.domain.access import Reach
from ringlet.domain.directory import NumberQuery, NumberStatus
from ringlet.domain.enums import ExtensionStatus, ExtensionType, UsageType
from ringlet.domain.errors import InvalidParameter
from ringlet.domain.ids import body_id, path_id
from ringlet.services.directory import ExtensionChanges, MembershipChange
from ringlet.store.directory import ExtensionFilter

# listExtensionPhoneNumbers documents a shorter usageType enum than the account list.
_EXTENSION_USAGE_TYPES = (
    UsageType.MAIN_COMPANY_NUMBER,
    UsageType.ADDITIONAL_COMPANY_NUMBER,
    UsageType.COMPANY_NUMBER,
    UsageType.DIRECT_NUMBER,
    UsageType.COMPANY_FAX_NUMBER,
    UsageType.FORWARDED_NUMBER,
    UsageType.FORWARDED_COMPANY_NUMBER,
    UsageType.BUSINESS_MOBILE_NUMBER,
    UsageType.INTEGRATION_NUMBER,
)


def _path_id(ctx: Ctx, name: str) -> int:
    return path_id(ctx.path(name), name)


def _number_query(
    ctx: Ctx, allowed: tuple[UsageType, ...] | None
) -> tuple[NumberQuery, list[tuple[str, str]]]:
    usage = ctx.query.enums("usageType", UsageType, allowed)
    status = ctx.query.enum("status", NumberStatus)
    params = [("usageType", u.value) for u in usage]
    if status is not None:
        params.append(("status", status.value))
    return NumberQuery(frozenset(usage), status), params


# -- account -------------------------------------------------------------------------------


async def read_account_info(ctx: Ctx) -> Response:
    info = await ctx.services.directory.account_info(ctx.account_id())
    return json_response(wire.account_info(info, ctx.base_url))


# -- extensions ----------------------------------------------------------------------------


async def list_extensions(ctx: Ctx) -> Response:
    account_id = ctx.account_id()
    query = ctx.query
    number = query.text("extensionNumber")
    emails = query.texts("email")
    if len(emails) > 1:
        raise InvalidParameter("email", "one email at a time", value=",".join(emails))
    statuses = query.enums("status", ExtensionStatus)
    types = query.enums("type", ExtensionType)
    paging = page_request(query)
    where = ExtensionFilter(
        extension_number=number,
        email=emails[0] if emails else None,
        statuses=[s.value for s in statuses],
        types=[t.value for t in types],
    )
    page = await ctx.services.directory.list_extensions(
        account_id, where, paging.offset, paging.per_page
    )
    params: list[tuple[str, str]] = []
    if number is not None:
        params.append(("extensionNumber", number))
    params += [("email", e) for e in emails]
    params += [("status", s.value) for s in statuses]
    params += [("type", t.value) for t in types]
    records = [wire.extension_summary(e, ctx.base_url) for e in page.items]
    return json_response(
        paged_body(
            records, page.total, paging, wire.extensions_uri(ctx.base_url, account_id), params
        )
    )


async def read_extension(ctx: Ctx) -> Response:
    extension_id = ctx.extension_id(Reach.ACCOUNT)
    details = await ctx.services.directory.extension_info(ctx.caller, extension_id)
    return json_response(wire.extension_info(details, ctx.base_url))


class _ContactUpdate(msgspec.Struct, rename="camel"):
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


class _ExtensionUpdate(msgspec.Struct, rename="camel"):
    """The part of ExtensionUpdateRequest ringlet acts on; other fields are ignored."""

    status: ExtensionStatus | None = None
    contact: _ContactUpdate | None = None


async def update_extension(ctx: Ctx) -> Response:
    extension_id = ctx.extension_id(Reach.OWN_OR_ADMIN)
    limit = ctx.services.settings.max_body_bytes
    body = await read_json(ctx.request, _ExtensionUpdate, limit)
    contact = body.contact or _ContactUpdate()
    changes = ExtensionChanges(
        status=body.status,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
    )
    details = await ctx.services.directory.update_extension(ctx.caller, extension_id, changes)
    return json_response(wire.extension_info(details, ctx.base_url))


# -- phone numbers -------------------------------------------------------------------------


async def list_account_phone_numbers(ctx: Ctx) -> Response:
    account_id = ctx.account_id()
    query, params = _number_query(ctx, None)
    paging = page_request(ctx.query)
    page = await ctx.services.directory.account_numbers(
        ctx.caller, query, paging.offset, paging.per_page
    )
    records = [wire.company_number(n, ctx.base_url) for n in page.items]
    base_uri = wire.account_numbers_uri(ctx.base_url, account_id)
    return json_response(paged_body(records, page.total, paging, base_uri, params))


async def read_account_phone_number(ctx: Ctx) -> Response:
    ctx.account_id()
    number_id = _path_id(ctx, "phoneNumberId")
    number = await ctx.services.directory.account_number(ctx.caller, number_id)
    return json_response(wire.company_number(number, ctx.base_url))


async def list_extension_phone_numbers(ctx: Ctx) -> Response:
    extension_id = ctx.extension_id(Reach.OWN_OR_ADMIN)
    query, params = _number_query(ctx, _EXTENSION_USAGE_TYPES)
    paging = page_request(ctx.query)
    page = await ctx.services.directory.extension_numbers(
        ctx.caller, extension_id, query, paging.offset, paging.per_page
    )
    records = [wire.user_number(n, ctx.base_url) for n in page.items]
    base_uri = wire.extension_numbers_uri(ctx.base_url, ctx.caller.account_id, extension_id)
    return json_response(paged_body(records, page.total, paging, base_uri, params))


# -- departments ---------------------------------------------------------------------------


async def list_department_members(ctx: Ctx) -> Response:
    account_id = ctx.account_id()
    department_id = _path_id(ctx, "departmentId")
    paging = page_request(ctx.query)
    page = await ctx.services.directory.department_members(
        account_id, department_id, paging.offset, paging.per_page
    )
    records = [wire.member(e, ctx.base_url) for e in page.items]
    base_uri = wire.department_members_uri(ctx.base_url, account_id, department_id)
    return json_response(paged_body(records, page.total, paging, base_uri))


class _BulkAssignItem(msgspec.Struct, rename="camel"):
    # The spec types ids as strings; numbers are accepted too, as JSON clients send either.
    department_id: str | int
    added_extension_ids: list[str | int] = []
    removed_extension_ids: list[str | int] = []


class _BulkAssign(msgspec.Struct):
    items: list[_BulkAssignItem] = []


def _membership_change(item: _BulkAssignItem) -> MembershipChange:
    return MembershipChange(
        body_id(item.department_id, "items.departmentId"),
        tuple(body_id(i, "items.addedExtensionIds") for i in item.added_extension_ids),
        tuple(body_id(i, "items.removedExtensionIds") for i in item.removed_extension_ids),
    )


async def assign_multiple_department_members(ctx: Ctx) -> Response:
    ctx.account_id()
    raw = await read_body(ctx.request, ctx.services.settings.max_body_bytes)
    # The body is optional in the spec: none at all changes nothing.
    body = (
        decode_json(raw, ctx.request.headers.get("content-type"), _BulkAssign)
        if raw.strip()
        else _BulkAssign()
    )
    changes = [_membership_change(item) for item in body.items]
    await ctx.services.directory.assign_department_members(ctx.caller, changes)
    return empty_response(204)
