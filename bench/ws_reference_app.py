"""The fixed reference of the WebSocket latency benchmark (bench/ws_latency.py).

The least a server on this stack (Starlette on uvicorn) can do between a send's 200 and a
WebSocket frame: POST .../sms parses the JSON body, hands a notification-sized frame to every
connected socket (a task, as a dispatcher would), and answers 200. Nothing is stored, nothing is
authenticated, nothing is looked up.
"""

from __future__ import annotations

import asyncio
import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

_SOCKETS: set[WebSocket] = set()
_TASKS: set[asyncio.Task[None]] = set()
_FRAME = json.dumps(
    [
        {"type": "ServerNotification", "messageId": "m", "status": 200, "headers": {}},
        {
            "uuid": "u",
            "event": "/restapi/v1.0/account/1/extension/1/message-store",
            "timestamp": "2026-01-01T00:00:00.000Z",
            "subscriptionId": "s",
            "ownerId": "1",
            "body": {"changes": [{"type": "SMS", "newCount": 1, "updatedCount": 0}]},
        },
    ]
)


async def send_sms(request: Request) -> Response:
    body = await request.json()
    if not isinstance(body, dict) or "text" not in body:
        return Response(b'{"errorCode":"CMN-101"}', status_code=400, media_type="application/json")
    for socket in list(_SOCKETS):
        task = asyncio.get_running_loop().create_task(socket.send_text(_FRAME))
        _TASKS.add(task)
        task.add_done_callback(_TASKS.discard)
    return Response(b'{"id":1}', media_type="application/json")


async def health(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


async def gateway(websocket: WebSocket) -> None:
    await websocket.accept()
    _SOCKETS.add(websocket)
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        _SOCKETS.discard(websocket)


app = Starlette(
    routes=[
        Route("/restapi/v1.0/account/~/extension/~/sms", send_sms, methods=["POST"]),
        Route("/_ringlet/health", health),
        WebSocketRoute("/ws", gateway),
    ]
)
