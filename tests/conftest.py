"""Shared fixtures: one real ringlet server per database backend, and fresh accounts on it.

- `backend`: "sqlite" / "postgresql", session-scoped; every test that uses a server runs once per
  backend. Choose with `--backends sqlite` or `RINGLET_TEST_BACKENDS=sqlite` (default: both).
- `server`: the RingletServer of the backend, started once per session.
- `account` / `new_account()`: a fresh copy of reference/fixture.yaml provisioned on `server`;
  `new_account(edit=lambda doc: ...)` changes the copy (in place) before it is provisioned.
- `api`: an anonymous ApiClient; `client_for(account, "102")`: one logged in as extension 102.
- `server_factory(extra_args=..., env=..., with_admin_token=True)`: a server of its own on a new
  database, for tests that need special flags, that stop, kill and restart it, or that reset it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Final

import psycopg
import pytest

from tests.support.client import ApiClient, Grant
from tests.support.fixtures import MIN_SEED, FixtureEdit, ProvisionedAccount, build_account
from tests.support.openapi import SpecValidator
from tests.support.server import PG_ADMIN_URL_ENV, RingletServer, fresh_database, pg_admin_url

BACKENDS_ENV: Final = "RINGLET_TEST_BACKENDS"
KNOWN_BACKENDS: Final = ("sqlite", "postgresql")
_LOG_OFFSET = pytest.StashKey[int]()
_LOG_REPORT_CHARS: Final = 8000

# Seeds must be unique per database: one counter per server database URL.
_seed_counters: dict[str, Iterator[int]] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backends",
        default=None,
        help=f"comma list of database backends for end-to-end tests ({','.join(KNOWN_BACKENDS)});"
        f" default ${BACKENDS_ENV} or all",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Warnings raised by the project's own test code are bugs; third-party ones are the lead's
    # call in pyproject's filterwarnings.
    config.addinivalue_line("filterwarnings", r"error:::tests\.")


def selected_backends(config: pytest.Config) -> list[str]:
    raw = config.getoption("--backends") or os.environ.get(BACKENDS_ENV) or ",".join(KNOWN_BACKENDS)
    names = [name.strip() for name in str(raw).split(",") if name.strip()]
    unknown = sorted(set(names) - set(KNOWN_BACKENDS))
    if unknown or not names:
        raise pytest.UsageError(
            f"unknown backend(s) {unknown} in {raw!r}; choose from {', '.join(KNOWN_BACKENDS)}"
        )
    return list(dict.fromkeys(names))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        backends = selected_backends(metafunc.config)
        metafunc.parametrize("backend", backends, indirect=True, scope="session", ids=backends)


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgresql":
        _require_postgresql()
    return name


def _require_postgresql() -> None:
    try:
        with psycopg.connect(pg_admin_url(), connect_timeout=5):
            pass
    except psycopg.Error as exc:
        pytest.fail(
            f"PostgreSQL backend selected but {pg_admin_url()} is not reachable ({exc}).\n"
            f"Set {PG_ADMIN_URL_ENV} to an admin URL, or run only SQLite with "
            f"{BACKENDS_ENV}=sqlite (or --backends sqlite).",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def spec_validator() -> SpecValidator:
    return SpecValidator.default()


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(backend, tmp_path_factory.mktemp(f"db-{backend}")) as url:
        yield url


@pytest.fixture(scope="session")
def server(
    backend: str, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RingletServer]:
    log_path = tmp_path_factory.mktemp(f"server-{backend}") / "server.log"
    srv = RingletServer(database_url, log_path)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _next_seed(srv: RingletServer) -> int:
    counter = _seed_counters.setdefault(srv.database_url, itertools.count(MIN_SEED))
    return next(counter)


def provision_account(srv: RingletServer, edit: FixtureEdit | None = None) -> ProvisionedAccount:
    """Provision a fresh fixture copy on `srv` (changed by `edit(doc)` first) and describe it."""
    acct = build_account(_next_seed(srv), edit=edit)
    srv.provision(acct.document)
    return acct


NewAccount = Callable[..., ProvisionedAccount]


@pytest.fixture
def new_account(server: RingletServer) -> NewAccount:
    """Factory: each call provisions one more account on `server` (cross-account tests).

    `new_account(edit=lambda doc: ...)` changes the fixture document in place before it is
    provisioned; the returned ProvisionedAccount describes the edited document.
    """

    def make(*, edit: FixtureEdit | None = None) -> ProvisionedAccount:
        return provision_account(server, edit=edit)

    return make


@pytest.fixture
def account(new_account: NewAccount) -> ProvisionedAccount:
    return new_account()


@pytest.fixture
def api(server: RingletServer, spec_validator: SpecValidator) -> Iterator[ApiClient]:
    with ApiClient(server.base_url, validator=spec_validator) as client:
        yield client


ClientFor = Callable[..., ApiClient]


@pytest.fixture
def client_for(api: ApiClient) -> Iterator[ClientFor]:
    """`client_for(account, "102", grant="password")` -> ApiClient logged in as that extension."""
    clients: list[ApiClient] = []

    def login(
        account: ProvisionedAccount, extension_number: str = "101", *, grant: Grant = "password"
    ) -> ApiClient:
        client = api.login(account, extension_number, grant=grant)
        clients.append(client)
        return client

    yield login
    for client in clients:
        client.close()


@pytest.fixture
def server_factory(backend: str, tmp_path: Path) -> Iterator[Callable[..., RingletServer]]:
    """`server_factory(extra_args=[...], env={...}, start=True)`: a server on a new database,
    stopped (and its PostgreSQL database dropped) after the test."""
    counter = itertools.count(1)
    with ExitStack() as stack:

        def make(
            *,
            extra_args: Sequence[str] = (),
            env: dict[str, str] | None = None,
            start: bool = True,
            with_admin_token: bool = True,
        ) -> RingletServer:
            n = next(counter)
            url = stack.enter_context(fresh_database(backend, tmp_path / f"db{n}"))
            srv = RingletServer(
                url,
                tmp_path / f"server{n}.log",
                extra_args=extra_args,
                env=env,
                with_admin_token=with_admin_token,
            )
            stack.callback(srv.stop)  # LIFO: the server stops before its database is dropped
            if start:
                srv.start()
            return srv

        yield make


# -- server log in failure reports ----------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    srv = getattr(item, "funcargs", {}).get("server")
    if isinstance(srv, RingletServer):
        item.stash[_LOG_OFFSET] = len(srv.log_text())
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    srv = getattr(item, "funcargs", {}).get("server")
    if report.failed and isinstance(srv, RingletServer):
        text = srv.log_text()[item.stash.get(_LOG_OFFSET, 0) :]
        report.sections.append(
            (f"ringlet server log ({srv.log_path})", text[-_LOG_REPORT_CHARS:] or "(empty)")
        )
    return report
