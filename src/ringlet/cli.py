"""The `ringlet` command: `serve`, `deliver`, `load` and `import-messages`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import click

from ringlet import __version__
from ringlet.config import (
    DEFAULT_DATABASE_URL,
    DEFAULT_HOST,
    DEFAULT_PORT,
    PROCESS,
    WEBHOOK_DELIVERY_MODES,
    Settings,
)

if TYPE_CHECKING:
    from ringlet.services.history_import import ImportReport
    from ringlet.services.provisioning import LoadReport

T = TypeVar("T")

_DATABASE_HELP = (
    "Database URL: sqlite:///path/to/file.db (the default is ./ringlet.db) or "
    "postgresql://user@host:port/dbname. The schema is created and migrated automatically."
)


_WEBHOOK_OPTIONS = [
    click.option(
        "--webhook-timeout",
        "webhook_timeout_ms",
        envvar="RINGLET_WEBHOOK_TIMEOUT",
        default=5000,
        show_default=True,
        type=click.IntRange(10, 60000),
        help="Milliseconds a WebHook receiver has to answer a notification (env "
        "RINGLET_WEBHOOK_TIMEOUT).",
    ),
    click.option(
        "--webhook-attempts",
        envvar="RINGLET_WEBHOOK_ATTEMPTS",
        default=8,
        show_default=True,
        type=click.IntRange(1, 100),
        help="Attempts at one notification before its WebHook subscription is Blacklisted (env "
        "RINGLET_WEBHOOK_ATTEMPTS).",
    ),
    click.option(
        "--webhook-backoff",
        "webhook_backoff_ms",
        envvar="RINGLET_WEBHOOK_BACKOFF",
        default=1000,
        show_default=True,
        type=click.IntRange(1, 600000),
        help="Milliseconds before the first retry of a failed WebHook notification, doubling "
        "after each failure up to 5 minutes (env RINGLET_WEBHOOK_BACKOFF).",
    ),
]


def _webhook_options(command: Any) -> Any:
    """The WebHook delivery options, the same for `serve` and `deliver`."""
    for option in reversed(_WEBHOOK_OPTIONS):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ringlet")
def main() -> None:
    """ringlet: a self-hosted server for RingCentral's SMS and Pager messaging API."""


@main.command()
@click.option(
    "--host",
    envvar="RINGLET_HOST",
    default=DEFAULT_HOST,
    show_default=True,
    help="Interface to listen on (env RINGLET_HOST).",
)
@click.option(
    "--port",
    envvar="RINGLET_PORT",
    default=DEFAULT_PORT,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="TCP port to listen on (env RINGLET_PORT).",
)
@click.option(
    "--database",
    envvar="RINGLET_DATABASE_URL",
    default=DEFAULT_DATABASE_URL,
    show_default=True,
    help=_DATABASE_HELP + " (env RINGLET_DATABASE_URL)",
)
@click.option(
    "--fixture",
    "fixtures",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Provision from this fixture file before serving (repeatable; loading is idempotent).",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Provision the built-in demo account if the database is empty, and print how to log in.",
)
@click.option(
    "--admin-token",
    envvar="RINGLET_ADMIN_TOKEN",
    default=None,
    help="Secret that enables runtime provisioning at POST /_ringlet/fixtures "
    "(header X-Ringlet-Admin-Token). Unset: that endpoint is off "
    "(env RINGLET_ADMIN_TOKEN). "
    "Set, the inspection endpoints under /_ringlet/ require it too.",
)
@click.option(
    "--rate-limit/--no-rate-limit",
    envvar="RINGLET_RATE_LIMIT",
    default=False,
    show_default=True,
    help="Enforce RingCentral's per-user rate limits (429 CMN-301). Off: the "
    "X-Rate-Limit-* headers are still sent (env RINGLET_RATE_LIMIT=1).",
)
@click.option(
    "--rate-limits",
    envvar="RINGLET_RATE_LIMITS",
    default=None,
    help="Requests a minute per throttling group, e.g. "
    "'Light=50,Medium=40,Heavy=10,Auth=5' (the default; env RINGLET_RATE_LIMITS).",
)
@click.option(
    "--rate-limit-penalty",
    envvar="RINGLET_RATE_LIMIT_PENALTY",
    default=60,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Seconds a client over a limit must wait (Retry-After). RingCentral's is 60; lower it "
    "to test an app's retry logic quickly (env RINGLET_RATE_LIMIT_PENALTY).",
)
@click.option(
    "--cors-origins",
    envvar="RINGLET_CORS_ORIGINS",
    default="*",
    show_default=True,
    help="Origins browsers may call the API from: '*' or a comma-separated list "
    "(env RINGLET_CORS_ORIGINS).",
)
@click.option(
    "--min-access-token-ttl",
    envvar="RINGLET_MIN_ACCESS_TOKEN_TTL",
    default=600,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Lowest access_token_ttl a client may ask for. RingCentral's is 600 s; lower "
    "it only to test token expiry (env RINGLET_MIN_ACCESS_TOKEN_TTL).",
)
@click.option(
    "--ws-idle-timeout",
    envvar="RINGLET_WS_IDLE_TIMEOUT",
    default=1800,
    show_default=True,
    type=click.IntRange(1, 86400),
    help="Seconds without a frame from a WebSocket client before the gateway closes the "
    "connection with WSG-902 (env RINGLET_WS_IDLE_TIMEOUT).",
)
@click.option(
    "--ws-absolute-timeout",
    envvar="RINGLET_WS_ABSOLUTE_TIMEOUT",
    default=86400,
    show_default=True,
    type=click.IntRange(1, 7 * 86400),
    help="Seconds a WebSocket connection may last before the gateway closes it with WSG-903 "
    "(env RINGLET_WS_ABSOLUTE_TIMEOUT).",
)
@click.option(
    "--ws-recovery-timeout",
    envvar="RINGLET_WS_RECOVERY_TIMEOUT",
    default=180,
    show_default=True,
    type=click.IntRange(1, 86400),
    help="Seconds a WebSocket session waits after its connection ends for a client to "
    "recover it with `wsc` (env RINGLET_WS_RECOVERY_TIMEOUT).",
)
@click.option(
    "--ws-recovery-buffer-size",
    envvar="RINGLET_WS_RECOVERY_BUFFER_SIZE",
    default=100,
    show_default=True,
    type=click.IntRange(1, 10000),
    help="Notifications a WebSocket session keeps for a recovery to replay "
    "(env RINGLET_WS_RECOVERY_BUFFER_SIZE).",
)
@_webhook_options
@click.option(
    "--webhook-delivery",
    envvar="RINGLET_WEBHOOK_DELIVERY",
    # A delivery process of its own by default: with 100 subscribers the sends keep 86 % of
    # their throughput, against 19 % when the server's own event loop POSTs (bench/README.md).
    default=PROCESS,
    show_default=True,
    type=click.Choice(WEBHOOK_DELIVERY_MODES),
    help="Who POSTs WebHook notifications: a delivery process started beside the server at a "
    "lower CPU priority, the server processes themselves, or `ringlet deliver` run apart "
    "(env RINGLET_WEBHOOK_DELIVERY).",
)
@click.option(
    "--workers",
    envvar="RINGLET_WORKERS",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes sharing the port and the database. With more than one, each "
    "process keeps its own rate-limit counters and sees directory and token changes made "
    "through another within a second (env RINGLET_WORKERS).",
)
@click.option(
    "--http",
    "http_impl",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "httptools", "h11"]),
    help="HTTP/1.1 implementation (uvicorn's): auto takes httptools when installed.",
)
@click.option(
    "--loop",
    "loop_impl",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "uvloop", "asyncio"]),
    help="Event loop (uvicorn's): auto takes uvloop when installed.",
)
@click.option(
    "--carrier-delay",
    envvar="RINGLET_CARRIER_DELAY",
    default=0,
    show_default=True,
    type=click.IntRange(0, 3_600_000),
    help="Milliseconds an SMS to a handset stays Queued, and then Sent, before its final "
    "status (env RINGLET_CARRIER_DELAY).",
)
@click.option(
    "--carrier-url",
    envvar="RINGLET_CARRIER_URL",
    default=None,
    help="Forward SMS to handsets to this HTTP endpoint instead of the simulated carrier; "
    "receipts and inbound SMS come back at /_ringlet/carrier/reports and "
    "/_ringlet/carrier/inbound (env RINGLET_CARRIER_URL).",
)
@click.option(
    "--no-inspect",
    is_flag=True,
    envvar="RINGLET_NO_INSPECT",
    help="Turn off the inspection endpoints under /_ringlet/ (handsets, carrier, reset, the web "
    "inbox); needed to listen beyond loopback without --admin-token (env RINGLET_NO_INSPECT=1).",
)
@click.option(
    "--log-level",
    envvar="RINGLET_LOG_LEVEL",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    help="Server log verbosity (env RINGLET_LOG_LEVEL).",
)
@click.option(
    "--log-format",
    envvar="RINGLET_LOG_FORMAT",
    default="text",
    show_default=True,
    type=click.Choice(["text", "json"]),
    help="Log lines as text, or as one JSON object each (env RINGLET_LOG_FORMAT).",
)
@click.option(
    "--access-log/--no-access-log",
    envvar="RINGLET_ACCESS_LOG",
    default=False,
    show_default=True,
    help="Log one line per request, with its RCRequestId (env RINGLET_ACCESS_LOG=1).",
)
@click.option(
    "--public-url",
    envvar="RINGLET_PUBLIC_URL",
    default=None,
    help="The base of every uri in answers, e.g. https://rc.example.com, for a server behind a "
    "proxy; the Host header is then not checked. Unset: uris take the Host, which must name "
    "this server (env RINGLET_PUBLIC_URL).",
)
@click.option(
    "--page-memo-records",
    envvar="RINGLET_PAGE_MEMO_RECORDS",
    default=20_000,
    show_default=True,
    type=click.IntRange(0, 10_000_000),
    help="Records of rendered message-list pages each server process keeps while their store "
    "does not change; 0: none, every list reads the database (env RINGLET_PAGE_MEMO_RECORDS).",
)
@click.option(
    "--max-connections",
    envvar="RINGLET_MAX_CONNECTIONS",
    default=2048,
    show_default=True,
    type=click.IntRange(16, 65536),
    help="Open connections a server process holds; beyond, requests are answered 503 "
    "(env RINGLET_MAX_CONNECTIONS).",
)
def serve(
    host: str,
    port: int,
    database: str,
    fixtures: tuple[Path, ...],
    demo: bool,
    admin_token: str | None,
    rate_limit: bool,
    rate_limits: str | None,
    rate_limit_penalty: int,
    cors_origins: str,
    min_access_token_ttl: int,
    ws_idle_timeout: int,
    ws_absolute_timeout: int,
    ws_recovery_timeout: int,
    ws_recovery_buffer_size: int,
    webhook_timeout_ms: int,
    webhook_attempts: int,
    webhook_backoff_ms: int,
    webhook_delivery: str,
    workers: int,
    http_impl: str,
    loop_impl: str,
    carrier_delay: int,
    carrier_url: str | None,
    no_inspect: bool,
    log_level: str,
    log_format: str,
    access_log: bool,
    public_url: str | None,
    page_memo_records: int,
    max_connections: int,
) -> None:
    """Start the server.

    Every failure to start is one line naming the cause, before anything else is printed
    (the port is bound and the database URL checked first), and a non-zero exit."""
    from ringlet.api.inspect_access import startup_problem
    from ringlet.api.rate_limit import InvalidRateLimits
    from ringlet.bootstrap import build
    from ringlet.domain.errors import RingletError
    from ringlet.serving import listen, logs, protocols, run
    from ringlet.store.database_errors import DatabaseProblem, check_url

    log_config = logs.configure(log_level, "json" if log_format == "json" else "text")
    try:
        base = normalize_public_url(public_url) if public_url else None
        check_url(database)
        limits = protocols.fit_to_open_files(protocols.Limits(max_connections=max_connections))
        sock = listen.bind(host, port, run.BACKLOG)
    except (ValueError, DatabaseProblem, listen.CannotListen) as exc:
        raise click.ClickException(str(exc)) from None
    port = sock.getsockname()[1]  # --port 0: the one the system chose
    settings = Settings(
        database_url=database,
        host=host,
        port=port,
        fixtures=fixtures,
        demo=demo,
        admin_token=admin_token or None,
        rate_limit=rate_limit,
        rate_limits=rate_limits or None,
        rate_limit_penalty=rate_limit_penalty,
        cors_origins=cors_origins,
        min_access_token_ttl=min_access_token_ttl,
        carrier_delay_ms=carrier_delay,
        inspect=not no_inspect,
        carrier_url=carrier_url or None,
        ws_idle_timeout=ws_idle_timeout,
        ws_absolute_timeout=ws_absolute_timeout,
        ws_recovery_timeout=ws_recovery_timeout,
        ws_recovery_buffer_size=ws_recovery_buffer_size,
        webhook_timeout_ms=webhook_timeout_ms,
        webhook_attempts=webhook_attempts,
        webhook_backoff_ms=webhook_backoff_ms,
        webhook_delivery=webhook_delivery,
        public_url=base,
        access_log=access_log,
        page_memo_records=page_memo_records,
    )
    problem = startup_problem(settings)
    if problem is not None:
        raise click.ClickException(problem)
    try:
        services = build(settings)
    except InvalidRateLimits as exc:
        raise click.ClickException(f"--rate-limits: {exc}") from None
    except Exception as exc:
        raise click.ClickException(_database_failure(exc, database)) from None
    try:
        fresh = services.provisioning.is_empty()
        for path in fixtures:
            report = services.provisioning.load_path(path)
            click.echo(f"Loaded {path}: {report.summary()}")
        if demo:
            intro = services.provisioning.provision_demo_if_empty(fresh=fresh)
            shown_host = f"[{host}]" if ":" in host else host  # an IPv6 address
            click.echo(intro.describe(base or f"http://{shown_host}:{port}"))
    except RingletError as exc:
        services.db.close()
        raise click.ClickException(exc.message) from None
    except Exception as exc:
        services.db.close()
        raise click.ClickException(_database_failure(exc, database)) from None
    delivery = None
    if webhook_delivery == PROCESS:
        from ringlet.serving.delivery_process import DeliveryProcess

        delivery = DeliveryProcess(settings, log_level, log_format)
        delivery.start()
    try:
        run.serve(
            services,
            sock,
            workers=workers,
            http=http_impl,
            loop=loop_impl,
            log_level=log_level,
            log_config=log_config,
            limits=limits,
        )
    finally:
        if delivery is not None:
            delivery.stop()


def normalize_public_url(value: str) -> str:
    """`--public-url`: http(s)://host[:port][/path], returned without a trailing slash."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--public-url {value!r}: write http(s)://host[:port][/path]")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"--public-url {value!r}: no query, fragment or user name, please")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ValueError(f"--public-url {value!r}: the port is not a number") from None
    return value.strip().rstrip("/")


def _database_failure(exc: Exception, url: str) -> str:
    """One line for a failure to open or write the database; anything else is a bug, and
    keeps its traceback."""
    from sqlalchemy.exc import DBAPIError

    from ringlet.store.database_errors import DatabaseProblem, describe

    if isinstance(exc, DBAPIError | DatabaseProblem | OSError):
        return describe(exc, url)
    raise exc


def _on_database(database: str, work: Callable[[], T], refusal: Callable[[str], str]) -> T:
    """A one-off command's `work` on DATABASE (`load`, `import-messages`): a URL that cannot
    serve, a refusal (a RingletError: `refusal` of its message) and a database failure are each
    one line, and a failure on a SQLite database the command created leaves none behind."""
    from ringlet.domain.errors import RingletError
    from ringlet.store.database_errors import DatabaseProblem, check_url, sqlite_files

    try:
        check_url(database)
    except DatabaseProblem as exc:
        raise click.ClickException(str(exc)) from None
    created = [path for path in sqlite_files(database) if not path.exists()]
    try:
        return work()
    except BaseException as exc:
        for path in created:
            path.unlink(missing_ok=True)
        if isinstance(exc, RingletError):
            raise click.ClickException(refusal(exc.message)) from None
        if isinstance(exc, Exception):
            raise click.ClickException(_database_failure(exc, database)) from None
        raise


@main.command()
@click.argument("fixture", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--database",
    envvar="RINGLET_DATABASE_URL",
    default=DEFAULT_DATABASE_URL,
    show_default=True,
    help=_DATABASE_HELP + " (env RINGLET_DATABASE_URL)",
)
def load(fixture: Path, database: str) -> None:
    """Provision accounts, extensions, numbers and apps from a FIXTURE file (YAML or JSON).
    Loading the same file twice changes nothing; a bad file is refused whole."""
    from ringlet.bootstrap import build

    def work() -> LoadReport:
        services = build(Settings(database_url=database))
        try:
            return services.provisioning.load_path(fixture)
        finally:
            services.db.close()

    report = _on_database(database, work, lambda message: message)
    click.echo(f"Loaded {fixture}: {report.summary()}")


@main.command("import-messages")
@click.argument("messages_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--database",
    envvar="RINGLET_DATABASE_URL",
    default=DEFAULT_DATABASE_URL,
    show_default=True,
    help=_DATABASE_HELP + " (env RINGLET_DATABASE_URL)",
)
def import_messages(messages_file: Path, database: str) -> None:
    """Import message history from MESSAGES_FILE, JSON Lines: one stored copy of a message per
    line, into the message store of the account and extension it names (the format is in the
    README). The accounts and extensions must be provisioned first (`ringlet load`). The file
    is one transaction: a bad line is named by its number and nothing is imported."""
    import time

    from ringlet.services.history_import import import_file
    from ringlet.store import migrate
    from ringlet.store.database import Database

    def work() -> ImportReport:
        db = Database(database, read_threads=1)
        try:
            migrate.upgrade(db.writer_engine)
            return import_file(db, messages_file)
        finally:
            db.close()

    start = time.monotonic()
    report = _on_database(
        database, work, lambda message: f"{messages_file}: {message}; nothing was imported"
    )
    seconds = time.monotonic() - start
    click.echo(f"Imported {messages_file}: {report.summary()} in {seconds:.1f} s")


@main.command()
@click.option(
    "--database",
    envvar="RINGLET_DATABASE_URL",
    default=DEFAULT_DATABASE_URL,
    show_default=True,
    help=_DATABASE_HELP + " (env RINGLET_DATABASE_URL)",
)
@_webhook_options
@click.option(
    "--nice",
    default=0,
    show_default=True,
    type=click.IntRange(0, 19),
    help="Run at this much lower CPU priority than a server (os.nice).",
)
@click.option(
    "--log-level",
    envvar="RINGLET_LOG_LEVEL",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.option(
    "--log-format",
    envvar="RINGLET_LOG_FORMAT",
    default="text",
    show_default=True,
    type=click.Choice(["text", "json"]),
)
@click.option("--parent-pid", type=int, default=None, hidden=True)
def deliver(
    database: str,
    webhook_timeout_ms: int,
    webhook_attempts: int,
    webhook_backoff_ms: int,
    nice: int,
    log_level: str,
    log_format: str,
    parent_pid: int | None,
) -> None:
    """Deliver WebHook notifications for the servers on DATABASE that run with
    `--webhook-delivery external` (`ringlet serve` starts one of these itself by default).
    Any number may run, on any host that reaches the database: they share the subscriptions.
    Stops on SIGTERM or Ctrl+C."""
    from ringlet.notify import delivery
    from ringlet.serving import logs
    from ringlet.store.database_errors import DatabaseProblem, check_url

    logs.configure(log_level, "json" if log_format == "json" else "text")
    try:
        check_url(database)
    except DatabaseProblem as exc:
        raise click.ClickException(str(exc)) from None
    settings = Settings(
        database_url=database,
        webhook_timeout_ms=webhook_timeout_ms,
        webhook_attempts=webhook_attempts,
        webhook_backoff_ms=webhook_backoff_ms,
    )
    delivery.run(settings, parent_pid=parent_pid, nice=nice)
