"""The WebHook transport (facts 13.2): the Validation-Token handshake and the notification
POSTs, over one shared httpx client. Nothing here touches the database."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from ringlet.domain.errors import InvalidParameter
from ringlet.notify.errors import WebHookBadStatus, WebHookInvalidResponse, unreachable_address
from ringlet.notify.http_post import HttpError, PostClient

USER_AGENT = "RingCentral-Webhook/8.3"
CONTENT_TYPE = "application/json; charset=UTF-8"
# The receiver's answer to the handshake, headers and body, may not exceed this (facts 13.2).
MAX_HANDSHAKE_RESPONSE = 1024
MAX_ADDRESS_CHARS = 2048

# httpx logs every request at INFO: one line per notification would drown the server's log.
logging.getLogger("httpx").setLevel(logging.WARNING)


def check_address(address: str | None) -> str:
    """An absolute http(s) URL. RingCentral takes only https; a local server also takes http."""
    if not address or len(address) > MAX_ADDRESS_CHARS:
        raise InvalidParameter("deliveryMode.address")
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidParameter("deliveryMode.address")
    return address


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebHookClient:
    def __init__(self, request_timeout_s: float, handshake_timeout_s: float) -> None:
        self.request_timeout_s = request_timeout_s
        self.handshake_timeout_s = handshake_timeout_s
        self._client = httpx.AsyncClient(
            trust_env=False,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=256),
        )
        self._posts = PostClient()

    async def close(self) -> None:
        await self._client.aclose()
        await self._posts.close()

    async def handshake(self, address: str) -> None:
        """POST an empty body with a fresh Validation-Token; the receiver must answer 200 in
        time, echoing the token, in at most 1024 bytes. Raises RingCentral's errors."""
        token = secrets.token_urlsafe(24)
        headers = {
            "Validation-Token": token,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        try:
            async with self._client.stream(
                "POST", address, headers=headers, content=b"", timeout=self.handshake_timeout_s
            ) as response:
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_HANDSHAKE_RESPONSE:
                        break
        except httpx.HTTPError:
            raise unreachable_address() from None
        if response.status_code != 200:
            raise WebHookBadStatus(response.status_code)
        size = len(body) + sum(len(k) + len(v) + 4 for k, v in response.headers.raw)
        if response.headers.get("validation-token") != token or size > MAX_HANDSHAKE_RESPONSE:
            raise WebHookInvalidResponse()

    async def post(self, address: str, body: bytes, token_headers: dict[str, str]) -> Outcome:
        headers = {
            "Content-Type": CONTENT_TYPE,
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            **token_headers,
        }
        started = time.perf_counter()
        try:
            status = await self._posts.post(address, body, headers, self.request_timeout_s)
        except HttpError as exc:
            return Outcome(
                None, _elapsed_ms(started), f"I/O operation is failed. Details: [{exc.detail}]"
            )
        latency = _elapsed_ms(started)
        if 200 <= status < 300:
            return Outcome(status, latency, None)
        return Outcome(
            status,
            latency,
            f"WebHook responds with incorrect HTTP status. HTTP status is {status}",
        )


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
