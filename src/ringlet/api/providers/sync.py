"""syncMessages `GET .../message-sync` (facts 9; services/sync.py has the rules).

The frame's filters are parsed as listMessages parses them. FSync is the default without a
syncToken, ISync with one; ISync takes its frame from the token and accepts only a new
dateFrom, so the other filters are ignored there.
"""

from __future__ import annotations

from starlette.responses import Response

from ringlet.api.context import Ctx
from ringlet.api.providers.message_store import (
    WireMessageType,
    conversation_ids,
    owner,
    stored_types,
)
from ringlet.api.responses import json_response
from ringlet.api.uris import extension_uri
from ringlet.api.wire import records
from ringlet.clock import iso
from ringlet.domain.enums import Direction, SyncType
from ringlet.domain.errors import InvalidParameter
from ringlet.services.sync import DEFAULT_FRAME_MS, SyncFrame, SyncResult


async def sync_messages(ctx: Ctx) -> Response:
    who = owner(ctx)
    query = ctx.query
    sync = ctx.services.message_store.sync
    token = query.text("syncToken")
    sync_type = query.enum("syncType", SyncType)
    if sync_type is None:
        sync_type = SyncType.FULL if token is None else SyncType.INCREMENTAL
    date_from = query.time_ms("dateFrom")
    record_count = query.integer("recordCount", minimum=1)
    result: SyncResult
    if sync_type is SyncType.INCREMENTAL:
        if token is None:
            raise InvalidParameter("syncToken", "required for ISync")
        result = await sync.incremental(
            who.account_id, who.extension_id, token, date_from_ms=date_from
        )
    else:
        date_to = query.time_ms("dateTo")
        if date_from is None:
            date_from = (ctx.services.clock() if date_to is None else date_to) - DEFAULT_FRAME_MS
        conversations = conversation_ids(query)
        if len(conversations) > 1:
            raise InvalidParameter("conversationId", "one conversation at most")
        frame = SyncFrame(
            date_from_ms=date_from,
            types=stored_types(query.enums("messageType", WireMessageType)),
            directions=tuple(dict.fromkeys(query.enums("direction", Direction))),
            conversation_id=conversations[0] if conversations else None,
            distinct_conversations=bool(query.boolean("distinctConversations")),
        )
        result = await sync.full(
            who.account_id,
            who.extension_id,
            frame,
            date_to_ms=date_to,
            record_count=record_count,
        )
    return json_response(
        {
            "uri": f"{extension_uri(who.base_url, who.account_id, who.extension_id)}/message-sync",
            "records": records(result.records, who.base_url, who.account_id, who.extension_id),
            "syncInfo": {
                "syncType": result.sync_type.value,
                "syncToken": result.token,
                "syncTime": iso(result.sync_time_ms),
                "olderRecordsExist": result.older_records_exist,
            },
        }
    )
