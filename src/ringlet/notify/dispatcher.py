"""The dispatcher: fans committed outbox events out to subscriptions, outside every send's
transaction. One per process, started with the app (and one in each WebHook delivery process,
notify/delivery.py).

Wake-ups (notify/wakeup.py), with what the commit signalled (new events, a subscription
changed, a reset): right after a local commit (Database.on_outbox_commit); from another
process, through PostgreSQL's `NOTIFY ringlet_outbox` or, on SQLite, a datagram to each
process's socket; and a slow poll of the outbox in case one was lost.

WebSocket subscriptions: every process reads every event and hands the notifications of the
sessions it holds (websocket_sink.py) to the gateway: a session lives in one process, so each
subscription gets each event once.

WebHook subscriptions (in a process with `webhooks`: the delivery process, or every server
process with `--webhook-delivery inline`): delivered by the process holding the subscription's
lease (a row-level claim, renewed every second, taken over when it lapses), so each
notification is POSTed by one process. A subscription's progress (`delivered_through`,
failures, next attempt) is in its row: a process killed between a commit and the POST loses
nothing; the next holder resumes after the last event recorded as delivered (a notification
POSTed but not yet recorded is POSTed again: at least once). Events are delivered in order,
each retried with exponential backoff; when one has failed `max_attempts` times the
subscription is Blacklisted.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import dataclasses
import functools
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy.engine import Connection

from ringlet.clock import Clock
from ringlet.domain.enums import Direction, MessageType
from ringlet.domain.model import Caller, Extension
from ringlet.notify import records
from ringlet.notify.envelopes import EventView, bodies, envelope, merge_store_bodies
from ringlet.notify.filters import EventFilter, Kind, may_read_store, parse
from ringlet.notify.records import Attempt, Subscription
from ringlet.notify.webhook import Outcome, WebHookClient
from ringlet.notify.websocket_sink import WebSocketSink
from ringlet.store import directory, messages, outbox
from ringlet.store.cache import MISSING, Caches
from ringlet.store.database import Database
from ringlet.store.database_errors import log_background_failure
from ringlet.store.outbox import Event

log = logging.getLogger(__name__)

_BATCH = 500
_WINDOW = 20_000  # events kept in memory for the WebHook subscriptions to catch up from
LEASE_MS = 5_000
_RENEW_S = 1.0
# Deliveries (progress and journal) are recorded this soon after the first of them, but at most
# once every _FLUSH_EVERY_S: each record is a commit, and on SQLite a commit is an fsync and
# the write lock the sends wait for. Recording 10 times a second took 45 % of the send
# throughput with 100 subscribers (bench/notifications.py); once a second, 16 %. The price:
# the journal shows an attempt up to a second late, and after a crash up to a second of
# deliveries is made again (the same uuids: at least once, as RingCentral).
_FLUSH_S = 0.1
_FLUSH_EVERY_S = 1.0
_PRUNE_S = 60.0
_KEEP_EVENTS_MS = 10 * 60_000
_KEEP_ATTEMPTS_MS = 24 * 3600_000
_encode = msgspec.json.Encoder().encode
# How long what a store's owner may read (an EventView) is taken as "now": the drains of many
# subscriptions to one store share one read instead of making one each.
_VIEW_TTL_S = 0.5
# A subscriber behind gets the message-store notifications of at most this many events as one.
_MERGE_MAX = 100
_EVENTS_ONLY = frozenset((outbox.EVENTS,))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    backoff_ms: int
    max_backoff_ms: int = 300_000

    def delay_ms(self, failures: int) -> int:
        return int(min(self.backoff_ms * 2 ** (failures - 1), self.max_backoff_ms))


@dataclass(slots=True)
class _Progress:
    delivered_through: int
    failures: int
    next_attempt_ms: int


def process_id() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"


class Dispatcher:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        caches: Caches,
        webhook: WebHookClient,
        policy: RetryPolicy,
        sink: Callable[[], WebSocketSink | None],
        poll_s: float,
        *,
        webhooks: bool = True,
    ) -> None:
        self.db = db
        self.clock = clock
        self.caches = caches
        self.webhook = webhook
        self.policy = policy
        self.sink = sink
        self.poll_s = poll_s
        # False: WebHook subscriptions are delivered by another process (the delivery process
        # of `ringlet serve`, or `ringlet deliver`): this one takes no lease and prunes nothing.
        self.webhooks = webhooks
        self.me = process_id()
        self.seen = 0
        # The newest events, in id order, indexed by what they concern.
        self._window = _Window()
        self._progress: dict[str, _Progress] = {}
        self._busy: set[str] = set()
        self._pending_progress: dict[str, _Progress] = {}
        self._pending_attempts: list[Attempt] = []
        self._flush_scheduled = False
        self._flushed_at = 0.0
        self._wake = asyncio.Event()
        self._renew_now = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._drains: set[asyncio.Task[None]] = set()
        # Keyed by event id and whether the view holds the inbound SMS themselves (instant).
        self._views: dict[tuple[int, bool], tuple[float, EventView]] = {}
        # Counts the times the views were dropped: a view read across a drop is not kept.
        self._views_generation = 0
        # The WebHook subscriptions this process holds, as last read (every lease renewal, and
        # at once after a change made through this process: `changed`).
        self._subs: dict[str, Subscription] = {}
        self._reread_progress = False
        self._subs_stale = False

    # -- life ---------------------------------------------------------------------------------

    async def start(self, extra: Iterable[Callable[[], Any]] = ()) -> None:
        self._loop = asyncio.get_running_loop()
        self.seen = await self.db.read(outbox.last_id)
        self._tasks.append(asyncio.create_task(self._run(), name="ringlet-dispatcher"))
        if self.webhooks:
            self._tasks.append(asyncio.create_task(self._leases(), name="ringlet-leases"))
        for make in extra:
            self._tasks.append(asyncio.create_task(make()))

    async def stop(self) -> None:
        for task in [*self._tasks, *self._drains]:
            task.cancel()
        for task in [*self._tasks, *self._drains]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self._flush()
        if not self.webhooks:
            return
        try:
            await self.db.write(lambda conn: records.release(conn, self.me))
        except Exception:
            log_background_failure(log, "releasing the WebHook leases failed")

    def wake_threadsafe(self, signals: frozenset[str]) -> None:
        if signals == _EVENTS_ONLY and not self._listening():
            return  # the usual commit of a send here: not even a turn of the loop
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.wake, signals)

    def _listening(self) -> bool:
        """Whether new events have anyone here to go to: a WebHook subscription this process
        delivers, or a WebSocket session it holds. When not, a commit's wake-up is ignored and
        the poll (`poll_s`) keeps `seen` current: a send then costs this dispatcher nothing."""
        if self._progress:
            return True
        sink = self.sink()
        return sink is not None and sink.holds_any()

    def wake(self, signals: frozenset[str] = frozenset((outbox.EVENTS,))) -> None:
        """What a commit signalled (store/outbox.py), here or in another process."""
        if signals == _EVENTS_ONLY and not self._listening():
            return
        if outbox.RESET in signals:
            self.forget()
        if self.webhooks and (outbox.SUBSCRIPTIONS in signals or outbox.RESET in signals):
            # No POST before the renewal has read what changed (a subscription deleted
            # before a send is not delivered that send's event).
            self._subs_stale = True
            self._renew_now.set()
        self._wake.set()

    def adopt(self, subscription: Subscription) -> None:
        """A WebHook subscription this process has just created, with its lease."""
        self._subs[subscription.id] = subscription
        self._progress[subscription.id] = _Progress(subscription.delivered_through, 0, 0)
        self._wake.set()

    def changed(self, subscription_id: str, now: Subscription | None) -> None:
        """A subscription changed (None: deleted) through this process."""
        if now is None:
            self._subs.pop(subscription_id, None)
        elif subscription_id in self._subs:
            self._subs[subscription_id] = now

    def forget(self) -> None:
        """After a reset: every event is gone; keep the place. The subscriptions' progress is
        read again (the reset moved every cursor to its last event) at the next renewal."""
        self._window.clear()
        self._forget_views()
        self._reread_progress = True

    def _forget_views(self) -> None:
        self._views = {}
        self._views_generation += 1

    # -- the main loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_s)
            self._wake.clear()
            try:
                more = await self._round()
            except Exception:
                log_background_failure(log, "notification round failed")
                await asyncio.sleep(0.5)
                continue
            if more:
                self._wake.set()

    async def _round(self) -> bool:
        if not self._listening():
            # Nobody here to notify: keep the place without reading the events themselves (a
            # Pager to a department of 1,000 is 1,001 of them). Asked again after the read: a
            # listener that came meanwhile gets them read and delivered as usual.
            last = await self.db.read_small(outbox.last_id)
            if not self._listening():
                if last != self.seen:
                    self.seen = last
                    self._forget_views()  # what was skipped may have changed them
                    self._window.clear()  # no longer the newest events without a gap
                return False
        seen = self.seen
        events = await self.db.read_small(lambda conn: outbox.events_after(conn, seen, _BATCH))
        if events:
            self.seen = events[-1].id
            if any(_may_change_views(e) for e in events):
                # What an owner may read may have changed (a department left, a message
                # deleted): no view read before it serves a notification after it (R12).
                self._forget_views()
            if self.webhooks:  # what the WebHook drains catch up from
                self._window.extend(events)
            await self._websocket(events)
        self._start_drains()
        return len(events) == _BATCH

    # -- WebSocket ------------------------------------------------------------------------------

    async def _websocket(self, events: list[Event]) -> None:
        sink = self.sink()
        if sink is None or not sink.holds_any():
            return  # the usual case of a send: nothing to read
        accounts = {e.account_id for e in events}
        subs = await self.db.read_small(
            lambda conn: records.websocket_subscriptions(conn, accounts)
        )
        held = [s for s in subs if s.ws_session_id and sink.holds(s.ws_session_id)]
        if not held:
            return
        # Each session's events found through the index of what they concern: a Pager to a
        # department of 1,000 is 1,001 events, of which a member's session needs one.
        index = _index(events)
        mine = [_concerned(index, _filter_keys(s)) for s in held]
        loaded = await self.db.read_small(
            lambda conn: [self._load(conn, s, es) for s, es in zip(held, mine, strict=True)]
        )
        for s, es, (caller, views) in zip(held, mine, loaded, strict=True):
            assert s.ws_session_id is not None
            for e in es:
                view = views.get(e.id)
                if view is None or caller is None:
                    continue
                for env in self._envelopes(s, caller, e, view):
                    try:
                        await sink.deliver(s.ws_session_id, env)
                    except Exception:
                        log.exception("WebSocket delivery failed")

    # -- building notifications -----------------------------------------------------------------

    def _load(
        self, conn: Connection, s: Subscription, events: list[Event]
    ) -> tuple[Caller | None, dict[int, EventView]]:
        """In one read: the subscriber as it is now, and what the stores' owners may read now
        of the events the subscription's filters concern."""
        caller = self._caller(conn, s)
        filters = _filters(s)
        views = {}
        for e in events:
            if any(_concerns(f, e) for f in filters):
                views[e.id] = self._shared_view(conn, e, _wants_messages(filters, e))
        return caller, views

    def _envelopes(
        self, s: Subscription, subscriber: Caller, e: Event, view: EventView
    ) -> list[dict[str, Any]]:
        return [n.envelope(s) for n in self._notifications(s, subscriber, e, view)]

    def _notifications(
        self, s: Subscription, subscriber: Caller, e: Event, view: EventView
    ) -> list[_Notification]:
        found = []
        for f in _filters(s):
            if not _concerns(f, e):
                continue
            if f.kind in (Kind.STORE, Kind.INSTANT) and not may_read_store(
                subscriber, f.extension_id
            ):
                continue  # R14 at delivery: no longer an admin
            for suffix, body in bodies(f, view):
                found.append(_Notification(f, view, body, suffix))
        return found

    def _cached_view(self, e: Event, with_messages: bool) -> EventView | None:
        now = time.monotonic()
        # A view that holds the messages serves a subscription that needs only the ids too.
        for key in ((e.id, with_messages), (e.id, True)):
            cached = self._views.get(key)
            if cached is not None and now - cached[0] < _VIEW_TTL_S:
                return cached[1]
        return None

    def _shared_view(self, conn: Connection, e: Event, with_messages: bool) -> EventView:
        """The drains of many subscriptions to one store share one read of it."""
        cached = self._cached_view(e, with_messages)
        return cached if cached is not None else self._fresh_view(conn, e, with_messages)

    def _fresh_view(self, conn: Connection, e: Event, with_messages: bool) -> EventView:
        now = time.monotonic()
        generation = self._views_generation
        view = self._view(conn, e, with_messages)
        if generation != self._views_generation:
            return view  # read while what it shows may have changed: used once, not kept
        if len(self._views) > 1000:
            self._views = {k: v for k, v in self._views.items() if now - v[0] < _VIEW_TTL_S}
        self._views[(e.id, with_messages)] = (now, view)
        return view

    def _view(self, conn: Connection, e: Event, with_messages: bool) -> EventView:
        """What the store's owner may read now of the event: which new Pager copies (R12), and
        with `with_messages` (an instant filter's body) the new inbound SMS themselves. An SMS
        copy is always readable by its store's owner, so a message-store notification of SMS
        alone needs no read at all."""
        view = EventView(e)
        if e.kind != outbox.STORE:
            return view
        pager = [i for c in e.changes if c.type == MessageType.PAGER.value for i in c.new_ids]
        sms_in = [
            i
            for c in e.changes
            if with_messages
            and c.type == MessageType.SMS.value
            and c.direction == Direction.INBOUND.value
            for i in c.new_ids
        ]
        if pager or sms_in:
            found = messages.get_messages(conn, e.account_id, e.extension_id, pager + sms_in)
            view.readable_ids = frozenset(i for i in pager if i in found)
            view.messages = {i: found[i] for i in sms_in if i in found}
            view.owner = self.caches.extension(conn, e.account_id, e.extension_id)
        return view

    def _caller(self, conn: Connection, s: Subscription) -> Caller | None:
        ext = self.caches.extension(conn, s.owner.account_id, s.owner.extension_id)
        app_id = s.owner.app_id
        app = self.caches.memo(("notify-app", app_id), lambda: directory.app_by_id(conn, app_id))
        if ext is None or app is None:
            return None
        return _subscriber(s, ext, app)

    # -- WebHook ----------------------------------------------------------------------------------

    async def _leases(self) -> None:
        last_prune = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self._renew()
                if loop.time() - last_prune > _PRUNE_S:
                    last_prune = loop.time()
                    await self._prune()
            except Exception:
                log_background_failure(log, "WebHook lease renewal failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._renew_now.wait(), timeout=_RENEW_S)
            self._renew_now.clear()

    async def _renew(self) -> None:
        now = self.clock()
        if not self._progress and not await self.db.read(
            lambda conn: records.claimable(conn, self.me, now)
        ):
            self._subs_stale = False  # nothing held, nothing to claim
            return
        reread, self._reread_progress = self._reread_progress, False
        held = await self.db.write(lambda conn: records.claim(conn, self.me, now, now + LEASE_MS))
        self._subs_stale = False
        ids = {s.id for s in held}
        for gone in set(self._subs) - ids:
            del self._subs[gone]
        for s in held:
            self._subs[s.id] = s
            if s.id not in self._progress:
                # A round brings `seen` up to date first: wake-ups were ignored while there
                # was no subscription here (_listening).
                self._wake.set()
            if s.id not in self._progress or (reread and s.id not in self._busy):
                self._progress[s.id] = _Progress(s.delivered_through, s.failures, s.next_attempt_ms)
        for gone in set(self._progress) - ids:
            if gone not in self._busy:
                del self._progress[gone]
        self._start_drains()

    async def _prune(self) -> None:
        now = self.clock()

        def work(conn: Connection) -> None:
            lowest = records.lowest_cursor(conn, now)
            limit = self.seen if lowest is None else min(lowest, self.seen)
            outbox.prune(conn, limit, now - _KEEP_EVENTS_MS)
            records.prune_attempts(conn, now - _KEEP_ATTEMPTS_MS)

        await self.db.write(work)

    def _start_drains(self) -> None:
        if self._subs_stale:
            return  # the renewal starts them once it has read the subscriptions
        now = self.clock()
        for sub_id, progress in self._progress.items():
            if (
                sub_id not in self._busy
                and progress.delivered_through < self.seen
                and progress.next_attempt_ms <= now
            ):
                self._busy.add(sub_id)
                task = asyncio.create_task(self._drain(sub_id, progress))
                self._drains.add(task)
                task.add_done_callback(self._drains.discard)

    async def _drain(self, sub_id: str, progress: _Progress) -> None:
        try:
            await self._deliver_pending(sub_id, progress)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("WebHook delivery of %s failed", sub_id)
        finally:
            self._busy.discard(sub_id)
        if progress.delivered_through < self.seen and progress.next_attempt_ms <= self.clock():
            self._wake.set()

    async def _deliver_pending(self, sub_id: str, progress: _Progress) -> None:
        while progress.delivered_through < self.seen:
            s = self._subs.get(sub_id)
            if s is None or s.status != records.ACTIVE or s.expiration_ms <= self.clock():
                self._progress.pop(sub_id, None)
                return
            # Only the events that concern this subscription (its filters' stores and
            # extensions), and the id through which there is no other: the cost of a drain
            # follows what concerns its subscriber, not the size of a fan-out.
            pending, through = await self._pending(s, progress.delivered_through)
            if not pending:
                if through <= progress.delivered_through:
                    return
                self._delivered(s, progress, through)
                continue
            if progress.failures:
                # A retry is of the first event only (delivery stops at a failure): read no
                # more for it than that event.
                pending = pending[:1]
                through = pending[0].id
            # What the stores' owners may read: shared with the other drains of this moment,
            # read afresh for a retry.
            retry = progress.failures > 0
            known_caller, known_views = self._known(s, pending, retry=retry)
            if known_caller is None or known_views is None:
                caller, views = await self.db.read_small(
                    functools.partial(self._load_fresh, s, pending, retry)
                )
            else:
                caller, views = known_caller, known_views
            # Events whose notifications are all message-store ones are gathered and sent as
            # one notification per filter (a subscriber behind catches up in one POST); a
            # retry resends its one event as it was.
            run: list[tuple[Event, list[_Notification]]] = []
            in_run = 0  # notifications in `run`
            for e in pending:
                view = views.get(e.id)
                found = (
                    []
                    if view is None or caller is None
                    else self._notifications(s, caller, e, view)
                )
                if not retry and all(n.filter.kind is Kind.STORE for n in found):
                    run.append((e, found))
                    in_run += len(found)
                    if in_run < _MERGE_MAX:
                        continue
                    found = []
                if run and not await self._deliver_run(s, progress, run):
                    return
                run = []
                in_run = 0
                for n in found:
                    outcome = await self._post(s, n.envelope(s), e.id)
                    if not outcome.ok:
                        await self._failed(s, progress, outcome)
                        return
                self._delivered(s, progress, e.id)
            if run and not await self._deliver_run(s, progress, run):
                return
            if progress.delivered_through < through:  # the events between, none for it
                self._delivered(s, progress, through)

    async def _deliver_run(
        self, s: Subscription, progress: _Progress, run: list[tuple[Event, list[_Notification]]]
    ) -> bool:
        """POST a run of events' message-store notifications, one per filter; False if one
        failed (the run is then retried event by event)."""
        # Events at the head of the run with nothing for this subscriber are done with: a
        # failure below retries the first event that has a notification.
        head = next((i for i, (_, found) in enumerate(run) if found), len(run))
        if head:
            self._delivered(s, progress, run[head - 1][0].id)
        by_filter: dict[str, list[_Notification]] = {}
        for _, found in run:
            for n in found:
                by_filter.setdefault(n.filter.text, []).append(n)
        for group in by_filter.values():
            last = group[-1]
            if len(group) > 1:
                last = dataclasses.replace(last, body=merge_store_bodies([n.body for n in group]))
            outcome = await self._post(s, last.envelope(s), last.view.event.id)
            if not outcome.ok:
                await self._failed(s, progress, outcome)
                return False
        self._delivered(s, progress, run[-1][0].id)
        return True

    def _delivered(self, s: Subscription, progress: _Progress, event_id: int) -> None:
        progress.delivered_through = event_id
        progress.failures = 0
        progress.next_attempt_ms = 0
        self._record(s.id, progress)

    def _known(
        self, s: Subscription, events: list[Event], *, retry: bool
    ) -> tuple[Caller | None, dict[int, EventView] | None]:
        """The subscriber and the views, if memoised already (no read needed)."""
        caller = self._cached_caller(s)
        if retry or caller is None:
            return None, None
        filters = _filters(s)
        views = {}
        for e in events:
            if any(_concerns(f, e) for f in filters):
                cached = self._cached_view(e, _wants_messages(filters, e))
                if cached is None:
                    return None, None
                views[e.id] = cached
        return caller, views

    def _load_fresh(
        self, s: Subscription, events: list[Event], retry: bool, conn: Connection
    ) -> tuple[Caller | None, dict[int, EventView]]:
        """The subscriber as it is now, and the views: those other drains read a moment ago
        are shared, except for a retry, which reads its event afresh."""
        caller = self._caller(conn, s)
        filters = _filters(s)
        view = self._fresh_view if retry else self._shared_view
        views = {}
        for e in events:
            if any(_concerns(f, e) for f in filters):
                views[e.id] = view(conn, e, _wants_messages(filters, e))
        return caller, views

    def _cached_caller(self, s: Subscription) -> Caller | None:
        ext = self.caches.peek(("extension", s.owner.account_id, s.owner.extension_id))
        app = self.caches.peek(("notify-app", s.owner.app_id))
        if isinstance(ext, Extension) and app is not None and app is not MISSING:
            return _subscriber(s, ext, app)
        return None

    async def _pending(self, s: Subscription, cursor: int) -> tuple[list[Event], int]:
        """The events after `cursor` that concern `s` (at most _BATCH), and the id through
        which no other event concerns it. From the window when it reaches back to `cursor`;
        else from the outbox, selected there by store and extension."""
        keys = _filter_keys(s)
        found = self._window.concerning(cursor, keys, _BATCH)
        if found is not None:
            return found
        through = self.seen  # every event through `seen` is committed (outbox.py)
        events = await self.db.read(
            lambda conn: outbox.events_concerning(
                conn,
                cursor,
                through,
                stores=[(k[1], k[2]) for k in keys if k[0] == _STORE_KEY],
                extensions=[(k[1], k[2]) for k in keys if k[0] == _EXTENSION_KEY],
                accounts=[k[1] for k in keys if k[0] == _ACCOUNT_KEY],
                limit=_BATCH,
            )
        )
        return events, (events[-1].id if len(events) == _BATCH else through)

    async def _post(self, s: Subscription, env: dict[str, Any], event_id: int | None) -> Outcome:
        body = _encode(env)
        assert s.address is not None
        outcome = await self.webhook.post(s.address, body, token_headers(s))
        self._pending_attempts.append(
            Attempt(
                subscription_id=s.id,
                event_id=event_id,
                uuid=str(env["uuid"]),
                attempt_ms=self.clock(),
                status_code=outcome.status_code,
                latency_ms=outcome.latency_ms,
                error=outcome.error,
                redelivery=event_id is None,
                envelope=body,
            )
        )
        self._schedule_flush()
        return outcome

    async def _failed(self, s: Subscription, progress: _Progress, outcome: Outcome) -> None:
        progress.failures += 1
        now = self.clock()
        if progress.failures >= self.policy.max_attempts:
            await self._flush()
            reason = outcome.error or "I/O operation is failed"
            await self.db.write(lambda conn: records.blacklist(conn, s.id, now, reason))
            self._progress.pop(s.id, None)
            self._subs.pop(s.id, None)
            return
        delay = self.policy.delay_ms(progress.failures)
        progress.next_attempt_ms = now + delay
        self._record(s.id, progress)
        assert self._loop is not None
        self._loop.call_later(delay / 1000, self._wake.set)

    # -- recording progress and attempts, batched --------------------------------------------------

    def _record(self, sub_id: str, progress: _Progress) -> None:
        self._pending_progress[sub_id] = _Progress(
            progress.delivered_through, progress.failures, progress.next_attempt_ms
        )
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled and self._loop is not None:
            self._flush_scheduled = True
            since = time.monotonic() - self._flushed_at
            delay = max(_FLUSH_S, _FLUSH_EVERY_S - since)
            self._loop.call_later(delay, lambda: asyncio.ensure_future(self._flush()))

    async def _flush(self) -> None:
        self._flush_scheduled = False
        self._flushed_at = time.monotonic()
        progress, self._pending_progress = self._pending_progress, {}
        attempts, self._pending_attempts = self._pending_attempts, []
        if not progress and not attempts:
            return
        lost: list[str] = []

        def work(conn: Connection) -> None:
            records.add_attempts(conn, attempts)
            for sub_id, p in progress.items():
                if not records.save_progress(
                    conn, self.me, sub_id, p.delivered_through, p.failures, p.next_attempt_ms
                ):
                    lost.append(sub_id)

        try:
            await self.db.write(work)
        except Exception:
            log_background_failure(log, "recording WebHook deliveries failed")
        for sub_id in lost:  # another process took it over: let it deliver
            if sub_id not in self._busy:
                self._progress.pop(sub_id, None)

    async def redeliver(self, s: Subscription, envelope_bytes: bytes) -> Attempt:
        """Send a journal entry's notification again, as it was; journalled as a redelivery."""
        assert s.address is not None
        outcome = await self.webhook.post(s.address, envelope_bytes, token_headers(s))
        env = msgspec.json.decode(envelope_bytes)
        attempt = Attempt(
            subscription_id=s.id,
            event_id=None,
            uuid=str(env.get("uuid", "")),
            attempt_ms=self.clock(),
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            error=outcome.error,
            redelivery=True,
            envelope=envelope_bytes,
        )
        await self.db.write(lambda conn: records.add_attempts(conn, [attempt]))
        return attempt


def _subscriber(s: Subscription, ext: Extension, app: Any) -> Caller:
    return Caller(
        account_id=s.owner.account_id,
        extension_id=ext.id,
        app_id=app.id,
        app_permissions=app.permissions,
        is_admin=ext.admin,
    )


def token_headers(s: Subscription) -> dict[str, str]:
    if not s.verification_token:
        return {}
    headers = {"Verification-Token": s.verification_token}
    if s.token_header and s.token_header != "Verification-Token":
        headers[s.token_header] = s.verification_token
    return headers


@dataclass(frozen=True, slots=True)
class _Notification:
    """One notification of an event to a subscription, before its envelope is made."""

    filter: EventFilter
    view: EventView
    body: dict[str, Any]
    suffix: str

    def envelope(self, s: Subscription) -> dict[str, Any]:
        return envelope(s.id, s.owner.extension_id, self.filter, self.view, self.body, self.suffix)


@functools.lru_cache(maxsize=4096)
def _parsed(filters: tuple[str, ...], account_id: int, extension_id: int) -> list[EventFilter]:
    """A subscription's stored filters, ids already resolved: parsed again for the rules."""
    probe = Caller(account_id, extension_id, 0, frozenset(), False)
    return [f for f in (parse(t, probe) for t in filters) if f is not None]


def _filters(s: Subscription) -> list[EventFilter]:
    return _parsed(s.event_filters, s.owner.account_id, s.owner.extension_id)


def _may_change_views(e: Event) -> bool:
    """Anything but new copies stored: a directory change (department membership, status) or
    messages changed or deleted."""
    return e.kind != outbox.STORE or any(change.updated for change in e.changes)


def _wants_messages(filters: list[EventFilter], e: Event) -> bool:
    """Whether a notification of `e` shows the messages themselves (an instant filter)."""
    return any(f.kind is Kind.INSTANT and _concerns(f, e) for f in filters)


def _concerns(f: EventFilter, e: Event) -> bool:
    if f.account_id != e.account_id:
        return False
    if e.kind == outbox.STORE:
        return f.kind in (Kind.STORE, Kind.INSTANT) and f.extension_id == e.extension_id
    if f.kind is Kind.EXTENSIONS:
        return True
    return f.kind is Kind.EXTENSION and f.extension_id == e.extension_id


# -- routing: which events concern which subscription --------------------------------------------

_STORE_KEY = "store"  # ("store", account_id, extension_id): a store's events
_EXTENSION_KEY = "extension"  # ("extension", account_id, extension_id): a directory entry's
_ACCOUNT_KEY = "extensions"  # ("extensions", account_id): every directory entry's of an account
_Key = tuple[Any, ...]


def _event_keys(e: Event) -> tuple[_Key, ...]:
    """What an event concerns: the filters with one of these keys (`_filter_keys`) are exactly
    those `_concerns` says it concerns."""
    if e.kind == outbox.STORE:
        return ((_STORE_KEY, e.account_id, e.extension_id),)
    return ((_EXTENSION_KEY, e.account_id, e.extension_id), (_ACCOUNT_KEY, e.account_id))


@functools.lru_cache(maxsize=4096)
def _keys_of(filters: tuple[str, ...], account_id: int, extension_id: int) -> frozenset[_Key]:
    keys: set[_Key] = set()
    for f in _parsed(filters, account_id, extension_id):
        if f.kind in (Kind.STORE, Kind.INSTANT):
            keys.add((_STORE_KEY, f.account_id, f.extension_id))
        elif f.kind is Kind.EXTENSION:
            keys.add((_EXTENSION_KEY, f.account_id, f.extension_id))
        elif f.kind is Kind.EXTENSIONS:
            keys.add((_ACCOUNT_KEY, f.account_id))
    return frozenset(keys)


def _filter_keys(s: Subscription) -> frozenset[_Key]:
    """The keys of the events `s`'s filters concern."""
    return _keys_of(s.event_filters, s.owner.account_id, s.owner.extension_id)


def _index(events: list[Event]) -> dict[_Key, list[Event]]:
    index: dict[_Key, list[Event]] = {}
    for e in events:
        for key in _event_keys(e):
            index.setdefault(key, []).append(e)
    return index


def _concerned(index: dict[_Key, list[Event]], keys: frozenset[_Key]) -> list[Event]:
    """The events of `index` under any of `keys`, in id order, once each."""
    lists = [index[k] for k in keys if k in index]
    if len(lists) == 1:
        return lists[0]
    return sorted({e.id: e for es in lists for e in es}.values(), key=lambda e: e.id)


class _Window:
    """The newest events, in id order, with the positions of each key's events: a drain finds
    the events that concern its subscription without walking the others.

    The window is cut back to _WINDOW events, and its index rebuilt, once it holds a quarter
    more: the rebuild is paid once per _WINDOW / 4 events, and the memory stays near the
    bound (the delivery process holds one window)."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self._events: list[Event] = []
        self._ids: list[int] = []
        self._by_key: dict[_Key, list[int]] = {}

    def __len__(self) -> int:
        return len(self._events)

    def extend(self, events: list[Event]) -> None:
        position = len(self._events)
        for offset, e in enumerate(events):
            for key in _event_keys(e):
                self._by_key.setdefault(key, []).append(position + offset)
        self._events.extend(events)
        self._ids.extend(e.id for e in events)
        if len(self._events) > _WINDOW + _WINDOW // 4:
            drop = len(self._events) - _WINDOW
            kept = self._events[drop:]
            self.clear()
            self.extend(kept)

    def concerning(
        self, cursor: int, keys: frozenset[_Key], limit: int
    ) -> tuple[list[Event], int] | None:
        """The first `limit` events after `cursor` under any of `keys`, and the id through
        which there is no other; None if the window does not reach back to `cursor`."""
        ids = self._ids
        if not ids or ids[0] > cursor + 1:
            return None
        start = bisect.bisect_right(ids, cursor)
        positions: set[int] = set()
        for key in keys:
            found = self._by_key.get(key)
            if found:
                first = bisect.bisect_left(found, start)
                positions.update(found[first : first + limit])
        chosen = sorted(positions)[:limit]
        events = [self._events[p] for p in chosen]
        through = events[-1].id if len(chosen) == limit else ids[-1]
        return events, through
