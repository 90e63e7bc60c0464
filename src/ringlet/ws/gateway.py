"""The WebSocket endpoint at `/ws` (the `uri` of `POST /restapi/oauth/wstoken`).

One connection, in order: the WebSocket token of `?access_token=` is checked (an Error frame and
a close if it is not good); `?wsc=` asks to recover a session (WSG-400 and a close if it is
malformed); the first frame is ConnectionDetails (with `recoveryState` after a recovery attempt,
then the frames the client missed); then the client's frames are answered until the connection
ends: Heartbeat echoed, ClientRequest tunnelled to the HTTP API (ws/tunnel.py), anything else an
Error frame. The idle timeout (no frame from the client) and the absolute timeout (the
connection's age) end a connection with an Error frame, WSG-902 / WSG-903; the session then
waits for a recovery like after any other disconnection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any, Final

import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect

from ringlet.api.errors import status_of
from ringlet.clock import iso
from ringlet.domain.errors import AuthorizationMissing, RingletError
from ringlet.services.ws_tokens import WsGrant
from ringlet.ws import frames, tunnel
from ringlet.ws.sessions import Gateway, Session

if TYPE_CHECKING:
    from ringlet.bootstrap import Services

log = logging.getLogger("ringlet.ws")

GATEWAY_PATH: Final = "/ws"
SUBSCRIPTION_PATH: Final = "/restapi/v1.0/subscription"

# Close codes: 1000 after a timeout (the client may recover), 1008 for a refused connection.
_CLOSE_NORMAL: Final = 1000
_CLOSE_REFUSED: Final = 1008
# A dropped connection (/_ringlet/websocket/sessions/{id}/drop): "going away", no Error frame.
_CLOSE_DROPPED: Final = 1001

# Recovery errors seen on RingCentral's gateway (subscriptions-and-status notes).
WSC_MALFORMED: Final = "WSG-400"
RECOVERY_OTHER_OAUTH_SESSION: Final = "WSG-1003"
RECOVERY_NO_SUBSCRIPTION: Final = "WSG-1005"
IDLE_TIMEOUT: Final = ("WSG-902", "Idle timeout expired")
ABSOLUTE_TIMEOUT: Final = ("WSG-903", "Absolute timeout expired")
_TIMEOUT_STATUS: Final = 408

_decoder = msgspec.json.Decoder()
_CANONICAL: Final = {"rcrequestid": "RCRequestId", "www-authenticate": "WWW-Authenticate"}


class Connection:
    """One socket: frames leave through one queue, in order, each held `session.delay_ms`
    first (the delay control); `drop` ends it without a word."""

    def __init__(self, websocket: WebSocket, session: Session) -> None:
        self.websocket = websocket
        self.session = session
        # (text, None) a frame; ("", code) close with that code; ("", None) stop sending.
        self.queue: asyncio.Queue[tuple[str, int | None]] = asyncio.Queue()
        self.closed = asyncio.Event()
        self.sender = asyncio.get_running_loop().create_task(self._send_loop())

    def post(self, text: str) -> None:
        if not self.closed.is_set():
            self.queue.put_nowait((text, None))

    def close(self, code: int) -> None:
        """Close after the frames already posted."""
        if not self.closed.is_set():
            self.queue.put_nowait(("", code))

    def finish(self) -> None:
        """The connection is over: send what is queued (a timeout's Error frame), then stop."""
        self.closed.set()
        self.queue.put_nowait(("", None))

    def drop(self) -> None:
        """Close now, frames still queued are not sent (they stay in the recovery buffer)."""
        if self.closed.is_set():
            return
        self.closed.set()
        self.sender.cancel()
        asyncio.get_running_loop().create_task(self._close(_CLOSE_DROPPED))

    async def _close(self, code: int) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(code)

    async def _send_loop(self) -> None:
        try:
            while True:
                text, close_code = await self.queue.get()
                if not text and close_code is None:
                    return
                delay = self.session.delay_ms
                if delay > 0:
                    await asyncio.sleep(delay / 1000)
                if close_code is not None:
                    self.closed.set()
                    await self._close(close_code)
                    return
                await self.websocket.send_text(text)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.closed.set()  # the peer is gone; the receive loop sees it too


async def endpoint(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    gateway = services.ws_gateway
    await websocket.accept()
    try:
        token = websocket.query_params.get("access_token")
        if not token:
            raise AuthorizationMissing()
        grant = await services.ws_tokens.redeem(token)
    except RingletError as exc:
        await _refuse(websocket, exc.error_code, exc.message, status_of(exc))
        return
    wsc = websocket.query_params.get("wsc")
    recovery: tuple[str, int] | None = None
    if wsc is not None:
        recovery = frames.parse_wsc(wsc)
        if recovery is None:
            await _refuse(websocket, WSC_MALFORMED, "Invalid wsc token", 400)
            return
    session, recovery_state = _recover(gateway, grant, recovery)
    if session is None:
        caller = grant.caller
        session = gateway.open(
            caller.account_id,
            caller.extension_id,
            caller.app_id,
            grant.oauth_session_id,
            grant.access_token,
        )
    connection = Connection(websocket, session)
    details = _connection_details(gateway, session, recovery_state)
    gateway.attach(session, connection)
    connection.post(details)
    if recovery is not None and recovery_state.get("recoveryState") == "Successful":
        for text in gateway.replay(session, recovery[1]):
            connection.post(text)
    try:
        await _serve(websocket, gateway, session, connection)
    finally:
        connection.finish()
        if not connection.sender.done():
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(connection.sender), 1.0)
            connection.sender.cancel()
        gateway.detach(session, connection)


def _recover(
    gateway: Gateway, grant: WsGrant, recovery: tuple[str, int] | None
) -> tuple[Session | None, dict[str, Any]]:
    """The session a `wsc` recovers, and what ConnectionDetails says of the attempt (nothing
    when there was none). None: the connection gets a new session."""
    if recovery is None:
        return None, {}
    found = gateway.by_key(recovery[0])
    if found is not None and found.oauth_session_id != grant.oauth_session_id:
        error_code = RECOVERY_OTHER_OAUTH_SESSION
    elif found is None or found.subscription_id is None:
        # An unknown session is one that ended (its subscription went with it) or that another
        # process holds: either way there is no subscription here to recover.
        error_code = RECOVERY_NO_SUBSCRIPTION
    else:
        found.access_token = grant.access_token  # the app may have refreshed meanwhile
        return found, {"recoveryState": "Successful"}
    return None, {"recoveryState": "Failed", "recoveryErrorCode": error_code}


def _connection_details(gateway: Gateway, session: Session, recovery: dict[str, Any]) -> str:
    limits = gateway.limits
    body = {
        "creationTime": iso(session.creation_ms),
        "maxConnectionsPerSession": limits.max_connections_per_session,
        "recoveryBufferSize": limits.recovery_buffer_size,
        "recoveryTimeout": limits.recovery_timeout,
        "idleTimeout": limits.idle_timeout,
        "absoluteTimeout": limits.absolute_timeout,
        "maxActiveRequests": limits.max_active_requests,
        **recovery,
    }
    return frames.encode([frames.meta(frames.CONNECTION_DETAILS, wsc=session.next_wsc()), body])


async def _refuse(websocket: WebSocket, code: str, message: str, status: int) -> None:
    with contextlib.suppress(Exception):
        await websocket.send_text(frames.encode(frames.error_frame(code, message, status)))
        await websocket.close(_CLOSE_REFUSED)


async def _serve(
    websocket: WebSocket, gateway: Gateway, session: Session, connection: Connection
) -> None:
    limits = gateway.limits
    loop = asyncio.get_running_loop()
    absolute_deadline = loop.time() + limits.absolute_timeout
    active = asyncio.Semaphore(limits.max_active_requests)
    tasks: set[asyncio.Task[None]] = set()
    try:
        while not connection.closed.is_set():
            now = loop.time()
            idle_deadline = now + limits.idle_timeout
            deadline = min(idle_deadline, absolute_deadline)
            try:
                message = await _receive(websocket, connection, deadline - now)
            except TimeoutError:
                idle = idle_deadline <= absolute_deadline
                code, text = IDLE_TIMEOUT if idle else ABSOLUTE_TIMEOUT
                connection.post(frames.encode(frames.error_frame(code, text, _TIMEOUT_STATUS)))
                connection.close(_CLOSE_NORMAL)
                return
            if message is None:
                return
            if len(message) > frames.MAX_CLIENT_FRAME_BYTES:
                connection.post(
                    frames.encode(frames.error_frame("CMN-104", "Request is too large", 413))
                )
                continue
            frame = frames.parse_client_frame(message)
            if isinstance(frame, frames.Heartbeat):
                connection.post(
                    frames.encode([frames.meta(frames.HEARTBEAT, message_id=frame.message_id)])
                )
            elif isinstance(frame, frames.Malformed):
                connection.post(
                    frames.encode(
                        frames.error_frame(
                            "CMN-104",
                            f"Cannot parse request: {frame.reason}",
                            400,
                            message_id=frame.message_id,
                        )
                    )
                )
            else:
                task = loop.create_task(_answer(websocket, gateway, session, frame, active))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
    finally:
        for task in tasks:
            task.cancel()


async def _receive(websocket: WebSocket, connection: Connection, timeout: float) -> str | None:
    """The next text (or UTF-8 binary) frame, None once the connection is over."""
    closed = asyncio.ensure_future(connection.closed.wait())
    receiving = asyncio.ensure_future(websocket.receive())
    try:
        done, _ = await asyncio.wait(
            {closed, receiving}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        closed.cancel()
    if receiving not in done:
        receiving.cancel()
        if closed in done:
            return None
        raise TimeoutError
    try:
        message = receiving.result()
    except (WebSocketDisconnect, RuntimeError):
        return None
    if message["type"] == "websocket.disconnect":
        return None
    text = message.get("text")
    if text is None:
        data = message.get("bytes") or b""
        text = data.decode("utf-8", errors="replace")
    return str(text)


async def _answer(
    websocket: WebSocket,
    gateway: Gateway,
    session: Session,
    request: frames.ClientRequest,
    active: asyncio.Semaphore,
) -> None:
    async with active:
        try:
            answer = await tunnel.call(
                websocket.app, websocket.scope, request, session.access_token, session.id
            )
        except Exception:
            log.exception("REST-over-WebSocket %s %s failed", request.method, request.path)
            answer = tunnel.TunnelAnswer(500, [], b"")
    headers: dict[str, str] = {}
    for name, value in answer.headers:
        lower = name.lower()
        if lower in ("content-length",):
            continue
        canonical = _CANONICAL.get(lower) or "-".join(p.capitalize() for p in lower.split("-"))
        headers[canonical] = f"{headers[canonical]}, {value}" if canonical in headers else value
    body: Any = None
    spliced: str | None = None
    media = answer.content_type.split(";", 1)[0].strip().lower()
    if answer.body:
        if media.endswith("json"):
            body = _decoder.decode(answer.body)
        elif media.startswith("multipart/"):
            spliced = answer.body.decode("utf-8", errors="replace")
        else:
            body = answer.body.decode("utf-8", errors="replace")
    _follow_subscription(session, request, answer.status, body, headers)
    meta = frames.meta(
        frames.CLIENT_REQUEST, answer.status, message_id=request.message_id, headers=headers
    )
    if spliced is not None:
        # @rc-ex/ws splits such a frame at `,--Boundary` into meta and multipart body.
        text = "[" + frames.encode([meta])[1:-1] + "," + spliced + "]"
    elif body is None:
        text = frames.encode([meta])
    else:
        text = frames.encode([meta, body])
    if session.outlet is not None:
        session.outlet.post(text)


def _follow_subscription(
    session: Session,
    request: frames.ClientRequest,
    status: int,
    body: Any,
    headers: dict[str, str],
) -> None:
    """Which subscription the session has: the one it created (one per session, a new one
    replacing the old), until it deletes it."""
    if not 200 <= status < 300:
        return
    path = request.path.partition("?")[0].rstrip("/")
    if request.method == "POST" and path == SUBSCRIPTION_PATH and isinstance(body, dict):
        subscription_id = body.get("id")
        delivery = body.get("deliveryMode")
        if isinstance(subscription_id, str) and (
            isinstance(delivery, dict) and delivery.get("transportType") == "WebSocket"
        ):
            session.subscription_id = subscription_id
            headers[frames.SUBSCRIPTION_ID_HEADER] = subscription_id
    elif request.method == "DELETE" and path == f"{SUBSCRIPTION_PATH}/{session.subscription_id}":
        session.subscription_id = None
