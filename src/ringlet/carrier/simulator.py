"""The built-in carrier: every SMS reaches its handset, unless a carrier rule
(POST /_ringlet/carrier/rules) says it fails, and how."""

from __future__ import annotations

from ringlet.carrier.gateway import CarrierSms, DeliveryReport, Handoff
from ringlet.domain.enums import MessageStatus
from ringlet.store import carrier
from ringlet.store.database import Database


class SimulatedCarrier:
    issues_receipts = True

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _rule(self, to_number: str) -> carrier.CarrierRule | None:
        return await self.db.read(lambda conn: carrier.rule_for(conn, to_number))

    async def submit(self, sms: CarrierSms) -> Handoff:
        rule = await self._rule(sms.to_number)
        if rule is not None and rule.status is MessageStatus.SENDING_FAILED:
            return Handoff(error_code=rule.error_code)
        return Handoff()

    async def receipt(self, sms: CarrierSms, now_ms: int) -> DeliveryReport:
        # Read again at receipt time: a rule added while the SMS was on its way applies.
        rule = await self._rule(sms.to_number)
        if rule is not None and rule.status is MessageStatus.DELIVERY_FAILED:
            return DeliveryReport(MessageStatus.DELIVERY_FAILED, rule.error_code, None)
        return DeliveryReport(MessageStatus.DELIVERED, None, now_ms)

    async def close(self) -> None:
        return None
