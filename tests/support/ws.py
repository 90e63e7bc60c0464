"""A raw WebSocket client of ringlet's gateway for end-to-end tests (websockets' sync client).

`WsClient.open(api)` asks `POST /restapi/oauth/wstoken` with `api`'s token and connects; its
`request()` tunnels a REST call as a `ClientRequest` and validates the answer against the
OpenAPI description exactly as ApiClient does for HTTP answers. Notifications that arrive
while it waits for something else are kept in `notifications`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Final

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.support.client import ApiClient
from tests.support.openapi import SpecValidator

WSTOKEN: Final = "/restapi/oauth/wstoken"
RECV_TIMEOUT: Final = 15.0

Frame = list[Any]


def ws_token(api: ApiClient) -> dict[str, Any]:
    response = api.post(WSTOKEN)
    assert response.status_code == 200, response.text
    token: dict[str, Any] = response.json()
    return token


def connect_url(token: dict[str, Any], wsc: str | None = None) -> str:
    url = f"{token['uri']}?access_token={token['ws_access_token']}"
    return url if wsc is None else f"{url}&wsc={wsc}"


class WsClient:
    def __init__(self, connection: ClientConnection, validator: SpecValidator) -> None:
        self.connection = connection
        self.validator = validator
        self.notifications: list[Frame] = []
        self.wsc: dict[str, Any] | None = None
        self.details: Frame = self.recv()

    @classmethod
    def open(
        cls,
        api: ApiClient,
        *,
        wsc: str | None = None,
        token: dict[str, Any] | None = None,
    ) -> WsClient:
        token = token or ws_token(api)
        return cls(connect(connect_url(token, wsc), open_timeout=RECV_TIMEOUT), api.validator)

    # -- frames ------------------------------------------------------------------------------

    def recv(self, timeout: float = RECV_TIMEOUT) -> Frame:
        frame: Frame = json.loads(self.connection.recv(timeout=timeout))
        wsc = frame[0].get("wsc")
        if wsc is not None and (self.wsc is None or wsc["sequence"] > self.wsc["sequence"]):
            self.wsc = wsc
        return frame

    def send(self, frame: Frame | str) -> None:
        self.connection.send(frame if isinstance(frame, str) else json.dumps(frame))

    def until(self, message_id: str) -> Frame:
        """The next frame answering `message_id`; notifications meanwhile are kept."""
        while True:
            frame = self.recv()
            if frame[0].get("messageId") == message_id:
                return frame
            if frame[0]["type"] == "ServerNotification":
                self.notifications.append(frame)

    def next_notification(self, timeout: float = RECV_TIMEOUT) -> Frame:
        if self.notifications:
            return self.notifications.pop(0)
        while True:
            frame = self.recv(timeout)
            if frame[0]["type"] == "ServerNotification":
                return frame

    def closed_with(self, timeout: float = RECV_TIMEOUT) -> list[Frame]:
        """Every frame until the server closes the connection."""
        seen = []
        try:
            while True:
                seen.append(self.recv(timeout))
        except ConnectionClosed:
            return seen

    # -- REST over WebSocket -----------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        validate: bool = True,
    ) -> tuple[dict[str, Any], Any]:
        message_id = str(uuid.uuid4())
        meta: dict[str, Any] = {
            "type": "ClientRequest",
            "messageId": message_id,
            "method": method,
            "path": path,
            "headers": headers or {},
        }
        if query is not None:
            meta["query"] = query
        self.send([meta] if body is None else [meta, body])
        answer = self.until(message_id)
        reply, *rest = answer
        assert reply["type"] == "ClientRequest", answer
        assert isinstance(reply["headers"], dict), answer
        payload = rest[0] if rest else None
        if validate:
            raw = b"" if payload is None else json.dumps(payload).encode()
            content_type = reply["headers"].get("Content-Type", "")
            spec_path = path.split("?", 1)[0].rstrip("/")
            self.validator.validate(method, spec_path, reply["status"], content_type, raw)
        return reply, payload

    def heartbeat(self) -> Frame:
        message_id = str(uuid.uuid4())
        self.send([{"type": "Heartbeat", "messageId": message_id}])
        return self.until(message_id)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> WsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
