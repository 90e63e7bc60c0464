"""WebSocket sessions held by this process, and the notification sink the dispatcher uses.

A session outlives its connection: when a connection ends (dropped, timed out, closed by the
client) the session waits `recovery_timeout` seconds for a connection that presents its `wsc`
token; meanwhile its notifications go to the recovery buffer (the last `recovery_buffer_size`
frames). Past that time it is over for good and the subscription service is told
(`on_session_ended`), which deletes its subscription.

Sessions live in the memory of the process that holds their socket: a recovery that reaches
another process (`--workers N`) finds no session and reports `recoveryState: Failed`, so the
client subscribes again there (docs/behaviour.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ringlet.clock import Clock
from ringlet.notify.websocket_sink import WebSocketSink
from ringlet.security import new_token
from ringlet.ws import frames

log = logging.getLogger("ringlet.ws")

SessionEnded = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class GatewayLimits:
    """The parameters ConnectionDetails announces (seconds, frames), RingCentral's by default."""

    idle_timeout: int = 1800
    absolute_timeout: int = 86400
    recovery_timeout: int = 180
    recovery_buffer_size: int = 100
    max_connections_per_session: int = 50
    max_active_requests: int = 10


class Outlet(Protocol):
    """The connection a session's frames go out on (ws/gateway.py)."""

    def post(self, text: str) -> None: ...

    def drop(self) -> None: ...


@dataclass(eq=False)
class Session:
    id: str  # the `ws_session_id` the subscription service stores: not a secret
    key: str  # the secret part of `wsc`: whoever presents it may recover the session
    account_id: int
    extension_id: int
    app_id: int
    oauth_session_id: int
    access_token: str
    creation_ms: int
    buffer: deque[tuple[int, dict[str, Any]]]
    sequence: int = 0
    subscription_id: str | None = None
    outlet: Outlet | None = None
    delay_ms: int = 0
    expiry: asyncio.TimerHandle | None = field(default=None, repr=False)

    def next_wsc(self) -> dict[str, Any]:
        self.sequence += 1
        return {"token": frames.wsc_token(self.key, self.sequence), "sequence": self.sequence}

    def notification_frame(self, envelope: dict[str, Any]) -> tuple[int, str]:
        wsc = self.next_wsc()
        meta = frames.meta(frames.SERVER_NOTIFICATION, wsc=wsc)
        return wsc["sequence"], frames.encode([meta, envelope])


class Gateway:
    """The sessions of this process; `holds` and `deliver` make it the notification service's
    WebSocketSink (notify/websocket_sink.py)."""

    def __init__(self, limits: GatewayLimits, clock: Clock) -> None:
        self.limits = limits
        self.clock = clock
        self.on_session_ended: SessionEnded | None = None
        self._sessions: dict[str, Session] = {}
        self._by_key: dict[str, Session] = {}

    # -- the sink ---------------------------------------------------------------------------

    def holds_any(self) -> bool:
        return bool(self._sessions)

    def holds(self, ws_session_id: str) -> bool:
        return ws_session_id in self._sessions

    async def deliver(self, ws_session_id: str, envelope: dict[str, Any]) -> None:
        session = self._sessions.get(ws_session_id)
        if session is None:
            return
        sequence, text = session.notification_frame(envelope)
        session.buffer.append((sequence, envelope))
        if session.outlet is not None:
            session.outlet.post(text)

    # -- sessions ---------------------------------------------------------------------------

    def open(
        self, account_id: int, extension_id: int, app_id: int, oauth_session_id: int, access: str
    ) -> Session:
        session = Session(
            id=str(uuid.uuid4()),
            key=new_token(nbytes=24),
            account_id=account_id,
            extension_id=extension_id,
            app_id=app_id,
            oauth_session_id=oauth_session_id,
            access_token=access,
            creation_ms=self.clock(),
            buffer=deque(maxlen=self.limits.recovery_buffer_size),
        )
        self._sessions[session.id] = session
        self._by_key[session.key] = session
        return session

    def by_key(self, key: str) -> Session | None:
        return self._by_key.get(key)

    def get(self, ws_session_id: str) -> Session | None:
        return self._sessions.get(ws_session_id)

    def sessions(self) -> list[Session]:
        return list(self._sessions.values())

    def attach(self, session: Session, outlet: Outlet) -> None:
        """`outlet` now carries the session's frames; a connection that still held it (a
        client recovering before it noticed its old socket was dead) is dropped."""
        if session.expiry is not None:
            session.expiry.cancel()
            session.expiry = None
        previous, session.outlet = session.outlet, outlet
        if previous is not None and previous is not outlet:
            previous.drop()

    def detach(self, session: Session, outlet: Outlet) -> None:
        """The connection `outlet` ended: the session waits for a recovery."""
        if session.outlet is not outlet or session.id not in self._sessions:
            return
        session.outlet = None
        loop = asyncio.get_running_loop()
        session.expiry = loop.call_later(
            self.limits.recovery_timeout, lambda: loop.create_task(self.end(session))
        )

    async def end(self, session: Session) -> None:
        """The session is over for good: forget it and let its subscription go."""
        if session.outlet is not None or self._sessions.get(session.id) is not session:
            return
        del self._sessions[session.id]
        self._by_key.pop(session.key, None)
        session.buffer.clear()
        if self.on_session_ended is not None:
            try:
                await self.on_session_ended(session.id)
            except Exception:
                log.exception("ending WebSocket session %s failed", session.id)

    def replay(self, session: Session, seen: int) -> list[str]:
        """The frames a recovering client missed (sequence above `seen`), re-numbered after
        the ConnectionDetails that announced the recovery, and the buffer rebuilt to match:
        what the client confirmed seeing is dropped from it."""
        missed = [envelope for sequence, envelope in session.buffer if sequence > seen]
        session.buffer.clear()
        texts = []
        for envelope in missed:
            sequence, text = session.notification_frame(envelope)
            session.buffer.append((sequence, envelope))
            texts.append(text)
        return texts

    async def close_all(self) -> None:
        """Shutdown: drop every connection (sessions do not survive the process)."""
        for session in list(self._sessions.values()):
            if session.expiry is not None:
                session.expiry.cancel()
            if session.outlet is not None:
                with contextlib.suppress(Exception):
                    session.outlet.drop()
        self._sessions.clear()
        self._by_key.clear()


def as_sink(gateway: Gateway) -> WebSocketSink:
    """The gateway as the notification service's sink (and mypy's check that it is one)."""
    return gateway
