"""createSMSMessage and createInternalTextMessage."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response

from ringlet.api import wire
from ringlet.api.body import read_json
from ringlet.api.context import Ctx
from ringlet.api.headers import header
from ringlet.api.multipart import is_multipart_form, read_multipart_request
from ringlet.api.responses import json_response
from ringlet.domain.access import Reach
from ringlet.domain.errors import MmsNotAvailable
from ringlet.domain.ids import body_id
from ringlet.domain.text import check_storable
from ringlet.services.messaging import ExtensionRef, SendPager, SendSms


class _PhoneNumberRef(msgspec.Struct):
    phoneNumber: str | None = None


class _CreateSms(msgspec.Struct):
    """CreateSMSMessage; unknown fields are ignored, as RingCentral does."""

    from_: _PhoneNumberRef = msgspec.field(name="from")
    to: list[_PhoneNumberRef]
    text: str
    country: dict[str, Any] | None = None


class _ExtensionRef(msgspec.Struct):
    extensionNumber: str | None = None
    extensionId: str | int | None = None

    def ref(self, prefix: str) -> ExtensionRef:
        if self.extensionNumber is not None:
            check_storable(self.extensionNumber, f"{prefix}.extensionNumber")  # looked up
        ext_id = None
        if self.extensionId is not None:
            ext_id = body_id(self.extensionId, f"{prefix}.extensionId")
        return ExtensionRef(self.extensionNumber, ext_id)


class _CreatePager(msgspec.Struct):
    """CreateInternalTextMessageRequest: only `text` is required; `to` may be left out
    when `replyOn` names the thread."""

    text: str
    from_: _ExtensionRef | None = msgspec.field(default=None, name="from")
    to: list[_ExtensionRef] = msgspec.field(default_factory=list)
    # Read by domain/ids.py like every id: a JSON integer of any size decodes, and is judged there.
    replyOn: int | str | None = None


async def create_sms_message(ctx: Ctx) -> Response:
    extension_id = ctx.extension_id(Reach.OWN_ONLY)
    limit = ctx.services.settings.max_body_bytes
    content_type = header(ctx.request, b"content-type")
    if content_type is not None and is_multipart_form(content_type):
        # The Python SDK's MultipartBuilder (facts 7.4): the request in a part named `json`.
        multipart = await read_multipart_request(
            ctx.request, content_type, _CreateSms, max_bytes=limit
        )
        if multipart.attachments:
            # Files make it an MMS, which ringlet does not have; judged after the JSON part so
            # that a malformed request is a 400 whatever it carries.
            raise MmsNotAvailable()
        body = multipart.body
    else:
        body = await read_json(ctx.request, _CreateSms, limit)
    command = SendSms(
        from_number=body.from_.phoneNumber,
        to_numbers=[t.phoneNumber for t in body.to],
        text=body.text,
    )
    sent = await ctx.services.messaging.send_sms(ctx.caller.account_id, extension_id, command)
    return json_response(wire.sent_message(sent, ctx.base_url))


async def create_internal_text_message(ctx: Ctx) -> Response:
    extension_id = ctx.extension_id(Reach.OWN_ONLY)
    body = await read_json(ctx.request, _CreatePager, ctx.services.settings.max_body_bytes)
    command = SendPager(
        sender=None if body.from_ is None else body.from_.ref("from"),
        to=[t.ref("to") for t in body.to],
        text=body.text,
        reply_on=None if body.replyOn is None else body_id(body.replyOn, "replyOn"),
    )
    sent = await ctx.services.messaging.send_pager(ctx.caller.account_id, extension_id, command)
    return json_response(wire.sent_message(sent, ctx.base_url))
