"""The `ringlet` command: `serve` and `load`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from ringlet import __version__
from ringlet.config import DEFAULT_DATABASE_URL, DEFAULT_HOST, DEFAULT_PORT, Settings

_DATABASE_HELP = (
    "Database URL: sqlite:///path/to/file.db (the default is ./ringlet.db) or "
    "postgresql://user@host:port/dbname. The schema is created and migrated automatically."
)


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
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    help="Server log verbosity.",
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
    workers: int,
    http_impl: str,
    loop_impl: str,
    carrier_delay: int,
    carrier_url: str | None,
    no_inspect: bool,
    log_level: str,
) -> None:
    """Start the server."""
    import uvicorn

    from ringlet.api.app import create_app
    from ringlet.api.inspect_access import startup_problem
    from ringlet.api.rate_limit import InvalidRateLimits
    from ringlet.bootstrap import build
    from ringlet.domain.errors import RingletError

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
    )
    problem = startup_problem(settings)
    if problem is not None:
        raise click.ClickException(problem)
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        services = build(settings)
    except InvalidRateLimits as exc:
        raise click.BadParameter(str(exc), param_hint="'--rate-limits'") from None
    try:
        for path in fixtures:
            report = services.provisioning.load_path(path)
            click.echo(f"Loaded {path}: {report.summary()}")
    except RingletError as exc:
        services.db.close()
        raise click.ClickException(exc.message) from None
    if demo:
        intro = services.provisioning.provision_demo_if_empty()
        shown_host = f"[{host}]" if ":" in host else host  # an IPv6 address
        click.echo(intro.describe(f"http://{shown_host}:{port}"))

    def run(target: Any, **more: Any) -> None:
        uvicorn.run(
            target,
            host=host,
            port=port,
            log_level=log_level,
            access_log=False,
            server_header=False,
            # Long-polls (`wait`, the web inbox) would otherwise hold a stopping server for
            # up to 30 s; any other request is over long before.
            timeout_graceful_shutdown=5,
            http=http_impl,
            loop=loop_impl,
            **more,
        )

    if workers == 1:
        run(create_app(services))
        return
    # Migrated and provisioned above, once: each worker builds its own services.
    services.db.close()
    from ringlet import workers as worker_processes

    worker_processes.export_settings(settings)
    run("ringlet.workers:app", factory=True, workers=workers)


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
    from ringlet.domain.errors import RingletError

    services = build(Settings(database_url=database))
    try:
        report = services.provisioning.load_path(fixture)
    except RingletError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        services.db.close()
    click.echo(f"Loaded {fixture}: {report.summary()}")
