"""The interface between ringlet and a carrier: hand over an SMS, and (for gateways that know
it at once) learn its delivery receipt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ringlet.domain.enums import MessageStatus


@dataclass(frozen=True, slots=True)
class CarrierSms:
    """An SMS for the carrier: `message_id` is the sender's copy in the message store."""

    message_id: int
    from_number: str
    to_number: str
    text: str
    creation_ms: int


@dataclass(frozen=True, slots=True)
class Handoff:
    """What the gateway answered when given the SMS. `error_code` set: it refused it for good
    (SendingFailed). `retry`: it could not be reached now; try again later."""

    error_code: str | None = None
    retry: bool = False

    @property
    def accepted(self) -> bool:
        return self.error_code is None and not self.retry


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A carrier's delivery receipt: Delivered, or DeliveryFailed with an error code."""

    status: MessageStatus
    error_code: str | None
    delivered_ms: int | None


class CarrierGateway(Protocol):
    # Whether the gateway issues the delivery receipt itself, `receipt_after_ms` after the
    # handoff (the simulator); otherwise receipts arrive at POST /_ringlet/carrier/reports.
    issues_receipts: bool

    async def submit(self, sms: CarrierSms) -> Handoff:
        """Hand the SMS to the carrier."""
        ...

    async def receipt(self, sms: CarrierSms, now_ms: int) -> DeliveryReport:
        """The delivery receipt of an SMS handed on earlier (only if `issues_receipts`)."""
        ...

    async def close(self) -> None: ...
