"""The carrier side of SMS as use cases: what the carrier worker records when it hands an SMS
on and when a delivery receipt comes; a handset texting a company number; the handsets'
records; carrier rules; and resetting the server's messages. Each write is one transaction."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from ringlet.carrier.gateway import DeliveryReport, Handoff
from ringlet.clock import Clock
from ringlet.domain.carrier import UNREACHABLE_ERROR_CODE, rule_outcome
from ringlet.domain.enums import Direction, MessageStatus, MessageType, ReadStatus
from ringlet.domain.errors import InvalidParameter, ResourceNotFound
from ringlet.domain.model import NewMessage, Party
from ringlet.domain.phone_numbers import parse_e164
from ringlet.domain.recipients import SmsRoute, route_sms_from_handset
from ringlet.domain.text import check_text
from ringlet.domain.threads import sms_conversation_id
from ringlet.store import carrier, directory, messages
from ringlet.store.carrier import CarrierRule, HandsetRecord, HandsetSummary, OutboxJob
from ringlet.store.database import Database

# The longest a `wait` may hold a request, and how often it looks at the database meanwhile
# (the database, not this process's memory: the record may come through another process).
MAX_WAIT_S = 30
_POLL_S = 0.1

# An unreachable gateway is tried this many times, a little later each time, then the SMS is
# SendingFailed.
MAX_ATTEMPTS = 5
_RETRY_BASE_MS = 1000

# Rules are a test's tool, not a number plan: bounded, so that nobody fills the table.
MAX_RULES = 1000

# Handset records are named by the handset's view: Inbound = the handset received it.
HANDSET_RECEIVED = "Inbound"
HANDSET_SENT = "Outbound"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What came of one claimed job: the gateway's answer (None for a receipt-stage job), and
    the delivery receipt, if there is one now."""

    job: OutboxJob
    handoff: Handoff | None
    receipt: DeliveryReport | None = None


@dataclass(frozen=True, slots=True)
class HandsetText:
    handset: str
    to: str | None
    text: str | None


class CarrierService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        carrier_delay_ms: int = 0,
    ) -> None:
        self.db = db
        self.clock = clock
        self.carrier_delay_ms = carrier_delay_ms

    # -- the worker's transactions ------------------------------------------------------------

    async def claim(self, limit: int, lease_for_ms: int) -> list[OutboxJob]:
        now = self.clock()
        return await self.db.write(
            lambda conn: carrier.claim_due(conn, now, now + lease_for_ms, limit)
        )

    async def next_due_ms(self) -> int | None:
        return await self.db.read(carrier.next_due_ms)

    async def record(self, outcomes: list[Outcome], issues_receipts: bool) -> None:
        """Record what came of a round of claimed jobs, in one transaction: what the gateway
        said to each SMS (Sent, and from the simulator a receipt to come after the carrier
        delay, or at once without one; SendingFailed; or another try later), or the receipt
        of an SMS handed on earlier."""
        now = self.clock()

        def work(conn: Connection) -> None:
            for outcome in outcomes:
                if carrier.still_held(conn, outcome.job):
                    self._record(conn, outcome, issues_receipts, now)
                # else: our lease ran out and another process took the job over

        await self.db.write(work)

    def _record(self, conn: Connection, outcome: Outcome, issues_receipts: bool, now: int) -> None:
        job, handoff, receipt = outcome.job, outcome.handoff, outcome.receipt
        if handoff is None:  # a receipt-stage job
            assert receipt is not None
            self._apply_report(conn, job.message_id, receipt)
            carrier.finish(conn, job.id)
            return
        if handoff.retry and job.attempts < MAX_ATTEMPTS:
            delay = _RETRY_BASE_MS * 2 ** (job.attempts - 1)
            carrier.reschedule(conn, job.id, carrier.STAGE_SUBMIT, now + delay)
            return
        if not handoff.accepted:
            code = handoff.error_code or UNREACHABLE_ERROR_CODE
            messages.set_delivery_status(
                conn, job.account_id, job.message_id, MessageStatus.SENDING_FAILED, code, None, now
            )
            carrier.finish(conn, job.id)
            return
        found = carrier.outbound_sms(conn, job.message_id)
        if found is not None and found.status is MessageStatus.QUEUED:
            messages.set_delivery_status(
                conn, job.account_id, job.message_id, MessageStatus.SENT, None, None, now
            )
        if receipt is not None:
            self._apply_report(conn, job.message_id, receipt)
            carrier.finish(conn, job.id)
        elif issues_receipts:
            carrier.reschedule(conn, job.id, carrier.STAGE_REPORT, now + self.carrier_delay_ms)
        else:
            carrier.finish(conn, job.id)

    async def report(self, message_id: int, report: DeliveryReport) -> None:
        """A delivery receipt from an HTTP gateway (POST /_ringlet/carrier/reports). Only an
        SMS to a handset that is still on its way takes it; a repeated receipt changes nothing.
        An unknown id: 404."""

        def work(conn: Connection) -> None:
            sms = carrier.outbound_sms(conn, message_id)
            if sms is None or directory.number_owner(conn, sms.to_number) is not None:
                raise ResourceNotFound("messageId", str(message_id))
            self._apply_report(conn, message_id, report)

        await self.db.write(work)

    def _apply_report(self, conn: Connection, message_id: int, report: DeliveryReport) -> None:
        sms = carrier.outbound_sms(conn, message_id)
        if sms is None or sms.status not in (MessageStatus.QUEUED, MessageStatus.SENT):
            return  # deleted meanwhile, or final already
        now = self.clock()
        delivered = report.status is MessageStatus.DELIVERED
        delivery_ms = (report.delivered_ms or now) if delivered else None
        messages.set_delivery_status(
            conn, sms.account_id, message_id, report.status, report.error_code, delivery_ms, now
        )
        if delivered:  # the handset got it; a failed SMS never reaches the handset
            carrier.add_handset_record(
                conn,
                handset=sms.to_number,
                direction=HANDSET_RECEIVED,
                from_number=sms.from_number,
                to_number=sms.to_number,
                text=sms.text,
                status=MessageStatus.DELIVERED,
                message_id=message_id,
                now_ms=now,
            )

    # -- handsets --------------------------------------------------------------------------------

    async def handset_sends(self, cmd: HandsetText) -> HandsetRecord:
        """A handset texts a number on this server: delivered as RingCentral delivers an SMS
        from a carrier, by the send path's rules: number ownership (R6: the main number is
        the operator's), route_sms_from_handset (R2, R7, R8), R13's conversation id, R3."""
        handset = parse_e164(cmd.handset, "phoneNumber")
        if cmd.to is None:
            raise InvalidParameter("to", "the recipient number is required")
        to_number = parse_e164(cmd.to, "to")
        if cmd.text is None:
            raise InvalidParameter("text", "the text is required")
        check_text(cmd.text, MessageType.SMS)
        text = cmd.text

        def work(conn: Connection) -> HandsetRecord:
            if directory.number_owner(conn, handset) is not None:
                raise InvalidParameter(
                    "phoneNumber", "a number on this server, not a handset", value=handset
                )
            owner = directory.number_owner(conn, to_number)
            if owner is None or owner.extension is None:
                raise ResourceNotFound("to", to_number)
            recipient = owner.extension
            message_id = None
            if route_sms_from_handset(recipient) is SmsRoute.DELIVER:
                now = self.clock()
                copy = NewMessage(
                    account_id=recipient.account_id,
                    extension_id=recipient.id,
                    type=MessageType.SMS,
                    direction=Direction.INBOUND,
                    sender=Party(phone_number=handset),
                    recipients=(Party(phone_number=to_number, name=recipient.name),),
                    subject=text,
                    conversation_id=sms_conversation_id(handset, to_number),
                    message_status=MessageStatus.RECEIVED,
                    read_status=ReadStatus.UNREAD,
                )
                message_id = messages.insert_messages(conn, [copy], now)[0]
            # The carrier delivered it to the number either way; R8 drops it on the server.
            return carrier.add_handset_record(
                conn,
                handset=handset,
                direction=HANDSET_SENT,
                from_number=handset,
                to_number=to_number,
                text=text,
                status=MessageStatus.DELIVERED,
                message_id=message_id,
                now_ms=self.clock(),
            )

        return await self.db.write(work)

    async def handsets(self) -> list[HandsetSummary]:
        return await self.db.read(carrier.handsets)

    async def handset_records(
        self, raw_handset: str, since_id: int, wait_s: float
    ) -> list[HandsetRecord]:
        """The handset's records after `since_id`; with `wait_s`, held until one exists or the
        time is up (then none)."""
        handset = parse_e164(raw_handset, "phoneNumber")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(wait_s, MAX_WAIT_S)
        while True:
            found = await self.db.read(
                lambda conn: carrier.handset_records(conn, handset, since_id)
            )
            if found or loop.time() >= deadline:
                return found
            await asyncio.sleep(min(_POLL_S, max(0.0, deadline - loop.time())))

    # -- rules and reset ----------------------------------------------------------------------

    async def add_rule(
        self, raw_to: str | None, raw_status: str | None, error_code: str | None
    ) -> CarrierRule:
        if raw_to is None:
            raise InvalidParameter("to", "the number the rule applies to is required")
        to_number = parse_e164(raw_to, "to")
        if raw_status is None:
            raise InvalidParameter("status", "the status the rule imposes is required")
        try:
            status = MessageStatus(raw_status)
        except ValueError:
            raise InvalidParameter("status", value=raw_status) from None
        status, code = rule_outcome(status, error_code)

        def work(conn: Connection) -> CarrierRule:
            if carrier.rule_count(conn) >= MAX_RULES:
                raise InvalidParameter("to", f"at most {MAX_RULES} carrier rules; delete some")
            return carrier.add_rule(conn, to_number, status, code)

        return await self.db.write(work)

    async def rules(self) -> list[CarrierRule]:
        return await self.db.read(carrier.rules)

    async def delete_rule(self, rule_id: int) -> None:
        if not await self.db.write(lambda conn: carrier.delete_rule(conn, rule_id)):
            raise ResourceNotFound("ruleId", str(rule_id))

    async def reset(self) -> None:
        # Memoised list pages need nothing here: the reset moves every store's counter.
        await self.db.write(carrier.reset)
