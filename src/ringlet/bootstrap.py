"""The composition root: the only module that sees every part and wires them together."""

from __future__ import annotations

from dataclasses import dataclass

from ringlet.api.rate_limit import RateLimiter
from ringlet.carrier.gateway import CarrierGateway
from ringlet.carrier.http_gateway import HttpCarrierGateway
from ringlet.carrier.simulator import SimulatedCarrier
from ringlet.carrier.worker import CarrierWorker
from ringlet.clock import Clock, system_clock
from ringlet.config import Settings
from ringlet.notify.service import NotificationService
from ringlet.services.carrier import CarrierService
from ringlet.services.directory import DirectoryService
from ringlet.services.inbox import InboxService
from ringlet.services.message_store import MessageStoreService
from ringlet.services.messaging import MessagingService
from ringlet.services.oauth import OAuthService
from ringlet.services.provisioning import ProvisioningService
from ringlet.services.ws_tokens import WsTokenService
from ringlet.store import migrate
from ringlet.store.cache import Caches
from ringlet.store.database import Database
from ringlet.ws.sessions import Gateway, GatewayLimits, as_sink


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    caches: Caches
    rate_limiter: RateLimiter
    oauth: OAuthService
    directory: DirectoryService
    messaging: MessagingService
    message_store: MessageStoreService
    provisioning: ProvisioningService
    carrier: CarrierService
    carrier_worker: CarrierWorker
    inbox: InboxService
    ws_tokens: WsTokenService
    ws_gateway: Gateway
    notify: NotificationService


def build(settings: Settings, clock: Clock = system_clock) -> Services:
    """Open the database, bring its schema up to date, and assemble the services. A setting
    that cannot be read fails first (InvalidRateLimits, a ValueError), before anything opens."""
    rate_limiter = RateLimiter.from_settings(
        settings.rate_limit, settings.rate_limits, clock, settings.rate_limit_penalty
    )
    db = Database(settings.database_url)
    migrate.upgrade(db.writer_engine)
    caches = Caches(clock)
    carrier = CarrierService(db, clock, settings.carrier_delay_ms)
    gateway: CarrierGateway = (
        HttpCarrierGateway(settings.carrier_url) if settings.carrier_url else SimulatedCarrier(db)
    )
    carrier_worker = CarrierWorker(carrier, gateway, clock)
    oauth = OAuthService(
        db, clock, min_access_token_ttl=settings.min_access_token_ttl, caches=caches
    )
    ws_gateway = Gateway(
        GatewayLimits(
            idle_timeout=settings.ws_idle_timeout,
            absolute_timeout=settings.ws_absolute_timeout,
            recovery_timeout=settings.ws_recovery_timeout,
            recovery_buffer_size=settings.ws_recovery_buffer_size,
        ),
        clock,
    )
    notify = NotificationService(db, clock, caches, settings)
    # The gateway delivers WebSocket notifications; a session over for good takes its
    # subscription with it.
    notify.websocket_sink = as_sink(ws_gateway)
    ws_gateway.on_session_ended = notify.session_ended
    return Services(
        settings=settings,
        db=db,
        clock=clock,
        caches=caches,
        rate_limiter=rate_limiter,
        oauth=oauth,
        directory=DirectoryService(db, clock, caches),
        messaging=MessagingService(
            db,
            clock,
            caches,
            carrier_delay_ms=settings.carrier_delay_ms,
            carrier_wakeup=carrier_worker.wake,
        ),
        message_store=MessageStoreService(
            db, clock, caches, page_memo_records=settings.page_memo_records
        ),
        provisioning=ProvisioningService(db, caches),
        carrier=carrier,
        carrier_worker=carrier_worker,
        inbox=InboxService(db),
        ws_tokens=WsTokenService(db, clock, oauth),
        ws_gateway=ws_gateway,
        notify=notify,
    )
