"""A carrier gateway that forwards every outbound SMS to an HTTP endpoint of the user's choosing
(`--carrier-url`), so that a real SMS provider can be put behind ringlet. Its replies arrive at
ringlet's own endpoints: delivery receipts at POST /_ringlet/carrier/reports, SMS from handsets
at POST /_ringlet/carrier/inbound (README, "Carrier gateway").

The request: `POST <url>` with JSON `{"messageId", "from", "to", "text", "creationTime"}`.
- 2xx: accepted, the SMS is Sent; its receipt comes later (or never: US carriers often send none).
- 4xx: refused for good, SendingFailed, with the body's `errorCode` when it is one of
  RingCentral's documented codes, else SMS-UP-500.
- 5xx, a timeout or no connection: tried again later, up to 5 attempts, then SendingFailed
  SMS-RC-503 (services/carrier.py)."""

from __future__ import annotations

import logging

import httpx

from ringlet.carrier.gateway import CarrierSms, DeliveryReport, Handoff
from ringlet.clock import iso
from ringlet.domain.carrier import REFUSED_ERROR_CODE, check_error_code
from ringlet.domain.errors import InvalidParameter

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0


class HttpCarrierGateway:
    issues_receipts = False

    def __init__(self, url: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url = url
        self._client = httpx.AsyncClient(timeout=TIMEOUT_S, transport=transport)

    async def submit(self, sms: CarrierSms) -> Handoff:
        body = {
            "messageId": str(sms.message_id),
            "from": sms.from_number,
            "to": sms.to_number,
            "text": sms.text,
            "creationTime": iso(sms.creation_ms),
        }
        try:
            response = await self._client.post(self.url, json=body)
        except httpx.HTTPError as exc:
            log.warning("carrier gateway %s unreachable: %r", self.url, exc)
            return Handoff(retry=True)
        if response.is_success:
            return Handoff()
        if response.status_code >= 500:
            return Handoff(retry=True)
        return Handoff(error_code=_error_code(response))

    async def receipt(self, sms: CarrierSms, now_ms: int) -> DeliveryReport:
        raise NotImplementedError("receipts arrive at POST /_ringlet/carrier/reports")

    async def close(self) -> None:
        await self._client.aclose()


def _error_code(response: httpx.Response) -> str:
    try:
        code = response.json().get("errorCode")
        return check_error_code(code) if isinstance(code, str) else REFUSED_ERROR_CODE
    except (ValueError, AttributeError, InvalidParameter):
        return REFUSED_ERROR_CODE
