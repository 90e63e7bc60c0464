"""The carrier worker: a background task of every server process that hands due SMS from the
carrier outbox to the gateway, and records what comes back.

Several processes may share one database: a job is claimed in a write transaction with a lease
(store/carrier.py: claim_due), so each is handled by one process; if that process dies, the
lease runs out and another takes the job over. The gateway is called outside any transaction,
so a slow gateway never holds the database."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ringlet.carrier.gateway import CarrierGateway, CarrierSms, Handoff
from ringlet.clock import Clock
from ringlet.services.carrier import CarrierService, Outcome
from ringlet.store.carrier import STAGE_REPORT, OutboxJob
from ringlet.store.database_errors import log_background_failure

log = logging.getLogger(__name__)

# How often the outbox is looked at when nothing woke the worker: jobs recorded by another
# process, or falling due, are seen within this time.
IDLE_POLL_S = 0.2
_BATCH = 50
# Long enough for any gateway call (the HTTP gateway's timeout is shorter).
LEASE_MS = 30_000


class CarrierWorker:
    def __init__(self, service: CarrierService, gateway: CarrierGateway, clock: Clock) -> None:
        self.service = service
        self.gateway = gateway
        self.clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """A send recorded an SMS for the carrier (called on the event loop)."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="carrier")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.gateway.close()

    async def _run(self) -> None:
        while True:
            # Cleared before looking: a wake-up during this round is not lost.
            self._wake.clear()
            due = None
            try:
                # A read first: an idle server does not take a write lock five times a second.
                due = await self.service.next_due_ms()
                if due is not None and due <= self.clock() and await self.run_once():
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log_background_failure(log, "carrier worker: a round failed; trying again")
            now = self.clock()
            # Due jobs that claimed nothing are held by another process: look again later.
            timeout = IDLE_POLL_S if due is None or due <= now else (due - now) / 1000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min(IDLE_POLL_S, timeout))

    async def run_once(self) -> int:
        """Handle every job due now (a batch at a time): the gateway is asked about each, then
        one transaction records every outcome. Returns how many jobs were claimed."""
        jobs = await self.service.claim(_BATCH, LEASE_MS)
        if jobs:
            outcomes = await asyncio.gather(*(self._handle(job) for job in jobs))
            await self.service.record(list(outcomes), self.gateway.issues_receipts)
        return len(jobs)

    async def _handle(self, job: OutboxJob) -> Outcome:
        sms = CarrierSms(job.message_id, job.from_number, job.to_number, job.text, self.clock())
        if job.stage == STAGE_REPORT:
            return Outcome(job, None, await self.gateway.receipt(sms, self.clock()))
        try:
            handoff = await self.gateway.submit(sms)
        except Exception:
            log.exception("carrier gateway failed on message %d", job.message_id)
            handoff = Handoff(retry=True)
        receipt = None
        if handoff.accepted and self.gateway.issues_receipts and self.service.carrier_delay_ms == 0:
            # No delay: the receipt is due now, and is recorded with the handoff.
            receipt = await self.gateway.receipt(sms, self.clock())
        return Outcome(job, handoff, receipt)
