"""An in-memory stand-in for ringlet, for checking the benchmark harness itself (`--self-test`).

It answers just what bench/run.py uses: health, the password grant, sending an SMS between the two
benchmark extensions, and listing an extension's newest messages. Its numbers mean nothing about
ringlet; it only lets the harness (start/stop, login, seeding, wrk, parsing, report) run end to end.
"""

from __future__ import annotations

import itertools
import json
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ACCOUNT = "/restapi/v1.0/account/1346632010"
USERS = {("101", "Operator-101!"): "1346632010", ("102", "Bob-102!"): "1346632102"}
NUMBERS = {"+16509100010": "1346632010", "+16509100020": "1346632102"}
TOKENS: dict[str, str] = {}
STORES: dict[str, list[dict[str, Any]]] = {ext: [] for ext in NUMBERS.values()}
IDS = itertools.count(3_000_000_000)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errorCode": code, "message": message}, status_code=status)


def _caller(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return TOKENS.get(header.removeprefix("Bearer "))


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def token(request: Request) -> Response:
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
    extension = USERS.get((form.get("extension", ""), form.get("password", "")))
    if extension is None:
        return _error(400, "OAU-123", "Invalid resource owner credentials")
    access = secrets.token_urlsafe(24)
    TOKENS[access] = extension
    return JSONResponse({"access_token": access, "token_type": "bearer", "expires_in": 3600})


def _record(owner: str, direction: str, sender: str, to: str, text: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    message_id = next(IDS)
    uri = f"{ACCOUNT}/extension/{owner}/message-store/{message_id}"
    return {
        "uri": uri,
        "id": message_id,
        "to": [{"phoneNumber": to}],
        "from": {"phoneNumber": sender},
        "type": "SMS",
        "creationTime": now,
        "readStatus": "Read" if direction == "Outbound" else "Unread",
        "priority": "Normal",
        "attachments": [{"id": 1, "uri": f"{uri}/content/1", "contentType": "text/plain"}],
        "direction": direction,
        "availability": "Alive",
        "subject": text,
        "messageStatus": "Sent" if direction == "Outbound" else "Received",
        "conversationId": 7_000_000_000,
        "lastModifiedTime": now,
    }


async def send_sms(request: Request) -> Response:
    caller = _caller(request)
    if caller is None:
        return _error(401, "AGW-401", "Authorization header is not specified")
    body = json.loads(await request.body())
    sender, to, text = body["from"]["phoneNumber"], body["to"][0]["phoneNumber"], body["text"]
    if NUMBERS.get(sender) != caller:
        return _error(400, "MSG-304", "Phone number doesn't belong to extension")
    outbound = _record(caller, "Outbound", sender, to, text)
    STORES[caller].append(outbound)
    if to in NUMBERS:
        STORES[NUMBERS[to]].append(_record(NUMBERS[to], "Inbound", sender, to, text))
    return JSONResponse(outbound)


async def list_messages(request: Request) -> Response:
    caller = _caller(request)
    if caller is None:
        return _error(401, "AGW-401", "Authorization header is not specified")
    per_page = int(request.query_params.get("perPage", "100"))
    records = STORES[caller][: -per_page - 1 : -1]
    uri = f"{ACCOUNT}/extension/{caller}/message-store?page=1&perPage={per_page}"
    return JSONResponse(
        {
            "uri": uri,
            "records": records,
            "paging": {"page": 1, "perPage": per_page, "pageStart": 0, "pageEnd": len(records) - 1},
            "navigation": {"firstPage": {"uri": uri}},
        }
    )


app = Starlette(
    routes=[
        Route("/_ringlet/health", health),
        Route("/restapi/oauth/token", token, methods=["POST"]),
        Route("/restapi/v1.0/account/~/extension/~/sms", send_sms, methods=["POST"]),
        Route("/restapi/v1.0/account/~/extension/~/message-store", list_messages),
    ]
)
