"""The seam between notification delivery (notify/) and the WebSocket gateway: the gateway
registers a sink on the notification service; the dispatcher hands it every notification of a
WebSocket subscription whose session this process holds."""

from __future__ import annotations

from typing import Any, Protocol


class WebSocketSink(Protocol):
    def holds_any(self) -> bool:
        """True if this process holds any session at all (else no event needs a read)."""
        ...

    def holds(self, ws_session_id: str) -> bool:
        """True if this process holds that session (connected, or within its recovery time)."""
        ...

    async def deliver(self, ws_session_id: str, envelope: dict[str, Any]) -> None:
        """Send a ServerNotification with this envelope, or buffer it for recovery."""
        ...
