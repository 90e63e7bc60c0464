"""Settings, passed explicitly to `bootstrap.build` and `api.app.create_app`: nothing is
read from the environment at import time."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///ringlet.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# Settings.webhook_delivery: who POSTs WebHook notifications.
INLINE = "inline"  # every server process, in its own event loop
PROCESS = "process"  # a delivery process beside the server (notify/delivery.py)
EXTERNAL = "external"  # `ringlet deliver`, run by the operator
WEBHOOK_DELIVERY_MODES = (INLINE, PROCESS, EXTERNAL)


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    fixtures: tuple[Path, ...] = field(default_factory=tuple)
    demo: bool = False
    # Enables /_ringlet/fixtures (runtime provisioning) for whoever presents it. Unset: off.
    admin_token: str | None = None
    max_body_bytes: int = 1 << 20
    # Lowest access-token lifetime a client may ask for (RingCentral: 600 s). Lower it only in
    # tests that watch tokens expire.
    min_access_token_ttl: int = 600
    # RingCentral's per-user rate limits (x-throttling-group): off for local development.
    rate_limit: bool = False
    # Overrides, e.g. "Light=50,Medium=40,Heavy=10,Auth=5" (requests a minute per user and app).
    rate_limits: str | None = None
    # Seconds a client over a limit waits (Retry-After); RingCentral's is 60.
    rate_limit_penalty: int = 60
    # Origins browsers may call from (CORS): "*" or a comma-separated list.
    cors_origins: str = "*"
    # Milliseconds an SMS to a handset stays Queued, then Sent, before its final status.
    carrier_delay_ms: int = 0
    # Off: every /_ringlet/ inspection endpoint (handsets, carrier, reset, the web inbox) is 404.
    inspect: bool = True
    # Where the HTTP carrier gateway forwards outbound SMS; unset: the simulated carrier.
    carrier_url: str | None = None
    # The WebSocket gateway's timeouts (seconds) and recovery buffer (frames), announced in
    # ConnectionDetails; RingCentral's by default. Lower them to test an app's handling.
    ws_idle_timeout: int = 1800
    ws_absolute_timeout: int = 86400
    ws_recovery_timeout: int = 180
    ws_recovery_buffer_size: int = 100
    # WebHook delivery (notify/): the handshake's and each notification's timeout, how many
    # attempts a notification gets before the subscription is Blacklisted, and the first retry
    # delay (doubling after each failure, at most 5 minutes).
    webhook_handshake_timeout_ms: int = 3000
    webhook_timeout_ms: int = 5000
    webhook_attempts: int = 8
    webhook_backoff_ms: int = 1000
    # Who POSTs WebHook notifications (notify/service.py): "inline" (this process's event
    # loop), "process" (a delivery process `ringlet serve` starts beside the server) or
    # "external" (`ringlet deliver`, run apart).
    webhook_delivery: str = INLINE
    # ops: the base of every `uri` (a server behind a proxy), without a trailing slash; unset,
    # uris take the request's Host, which must then name this server (api/middleware/host.py).
    public_url: str | None = None
    # ops: one line per request on logger ringlet.access (api/middleware/access_log.py).
    access_log: bool = False
    # ops: requests worked on at once per process; the rest wait (api/middleware/admission.py).
    max_active_requests: int = 64
    # Records of rendered list pages kept while their store does not change
    # (services/page_memo.py); 0: none, every list reads the store.
    page_memo_records: int = 20_000
