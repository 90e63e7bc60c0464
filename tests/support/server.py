"""Run the real ringlet server as a subprocess, on SQLite or on a throw-away PostgreSQL database.

End-to-end tests talk to the server over HTTP exactly as an SDK would, so what they prove holds
for the shipped `ringlet serve`, not for an in-process app with test-only wiring.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from psycopg import sql

from tests.support.openapi import REPO_ROOT

ADMIN_HEADER: Final = "X-Ringlet-Admin-Token"
HEALTH_PATH: Final = "/_ringlet/health"
FIXTURES_PATH: Final = "/_ringlet/fixtures"
DEFAULT_PG_ADMIN_URL: Final = "postgresql://postgres@127.0.0.1:5432/test"
PG_ADMIN_URL_ENV: Final = "RINGLET_TEST_PG_URL"
_LOG_TAIL_CHARS: Final = 4000


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free right now (the OS picks it; a tiny race with other processes remains)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def sqlite_url(directory: Path) -> str:
    """SQLAlchemy-style URL of `<directory>/ringlet.db` (an absolute path gives `sqlite:////...`)."""
    return f"sqlite:///{(directory / 'ringlet.db').resolve()}"


class RingletServer:
    """`python -m ringlet serve` on 127.0.0.1:<free port>, its output in `log_path`.

    `start()` waits for GET /_ringlet/health == 200; `stop()` sends SIGTERM then SIGKILL;
    `restart()` keeps the port and the database (for durability tests); `kill()` simulates a crash.
    """

    def __init__(
        self,
        database_url: str,
        log_path: Path,
        *,
        admin_token: str | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 20.0,
        stop_timeout: float = 10.0,
        with_admin_token: bool = True,
    ) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.admin_token = admin_token or secrets.token_hex(16)
        # False: started without --admin-token (the inspection endpoints are then open).
        self.with_admin_token = with_admin_token
        self.host = host
        self.port = port or free_port(host)
        self.extra_args = list(extra_args)
        self.env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "ringlet",
            "serve",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--database",
            self.database_url,
            *(["--admin-token", self.admin_token] if self.with_admin_token else []),
            *self.extra_args,
        ]

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        # Test the working tree even when the package is not pip-installed (src layout).
        src = REPO_ROOT / "src"
        if src.is_dir():
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"  # so the log shows what happened before a crash
        # The flags must win over a developer's own settings.
        for name in ("RINGLET_DATABASE_URL", "RINGLET_HOST", "RINGLET_PORT"):
            env.pop(name, None)
        env.update(self.env)
        return env

    def start(self) -> None:
        if self.running:
            raise RuntimeError("server already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"\n=== start: {' '.join(self.command())}\n".encode())
            log.flush()
            # A session of its own, so stop() can signal the server and anything it spawned
            # (the process group we created) without touching anything else.
            self._proc = subprocess.Popen(
                self.command(),
                cwd=REPO_ROOT,
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_healthy()
        except BaseException:
            self.kill()
            raise

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last_error = "no answer"
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self._proc is not None and self._proc.poll() is not None:
                    raise RuntimeError(
                        f"ringlet exited with code {self._proc.returncode} during startup\n"
                        f"{self.log_tail()}"
                    )
                try:
                    response = client.get(HEALTH_PATH)
                    if response.status_code == 200:
                        return
                    last_error = f"HTTP {response.status_code}"
                except httpx.TransportError as exc:
                    last_error = repr(exc)
                time.sleep(0.1)
        raise RuntimeError(
            f"ringlet not healthy after {self.startup_timeout}s ({last_error})\n{self.log_tail()}"
        )

    def _signal(self, sig: signal.Signals) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
            os.killpg(self._proc.pid, sig)

    def stop(self) -> int | None:
        """SIGTERM, wait `stop_timeout`, then SIGKILL. Returns the exit code."""
        if self._proc is None:
            return None
        self._signal(signal.SIGTERM)
        try:
            self._proc.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self._proc.wait(self.stop_timeout)
        code = self._proc.returncode
        self._log_line(f"=== stopped, exit code {code}")
        return code

    def kill(self) -> None:
        """SIGKILL at once: a crash, for tests of what survives one."""
        if self._proc is None:
            return
        self._signal(signal.SIGKILL)
        self._proc.wait(self.stop_timeout)
        self._log_line("=== killed")

    def restart(self) -> None:
        """Stop (gracefully) and start again on the same port and database."""
        self.stop()
        self.start()

    def _log_line(self, text: str) -> None:
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(text + "\n")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, chars: int = _LOG_TAIL_CHARS) -> str:
        text = self.log_text()
        return f"--- {self.log_path} (tail) ---\n{text[-chars:]}"

    # -- admin API ---------------------------------------------------------------------------

    def admin_headers(self) -> dict[str, str]:
        """What a request to the /_ringlet/ inspection endpoints presents (nothing when the
        server runs without an admin token, the endpoints then being open on loopback)."""
        return {ADMIN_HEADER: self.admin_token} if self.with_admin_token else {}

    def admin_post(self, path: str, payload: Any) -> httpx.Response:
        with httpx.Client(base_url=self.base_url, timeout=30.0) as client:
            return client.post(path, json=payload, headers={ADMIN_HEADER: self.admin_token})

    def provision(self, document: Mapping[str, Any]) -> httpx.Response:
        """POST a fixture document (fixture.yaml's structure) to /_ringlet/fixtures; expects 200."""
        response = self.admin_post(FIXTURES_PATH, document)
        if response.status_code != 200:
            raise AssertionError(
                f"provisioning failed: HTTP {response.status_code} {response.text[:2000]}"
            )
        return response

    def __enter__(self) -> RingletServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# -- PostgreSQL ------------------------------------------------------------------------------


def pg_admin_url() -> str:
    return os.environ.get(PG_ADMIN_URL_ENV) or DEFAULT_PG_ADMIN_URL


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def create_pg_database(admin_url: str | None = None) -> str:
    """Create `ringlet_test_<hex>` next to the admin URL's database; return its URL."""
    admin_url = admin_url or pg_admin_url()
    name = f"ringlet_test_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return _with_database(admin_url, name)


def drop_pg_database(url: str, admin_url: str | None = None) -> None:
    """Drop the database of `url`, first ending connections a killed server may have left."""
    admin_url = admin_url or pg_admin_url()
    name = _database_name(url)
    if not name.startswith("ringlet_test_"):
        raise ValueError(f"refusing to drop {name!r}: not a test database")
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


@contextmanager
def fresh_database(backend: str, directory: Path) -> Iterator[str]:
    """A new, empty database for `backend` ("sqlite" or "postgresql"); PostgreSQL's is dropped
    on exit. `directory` holds the SQLite file."""
    if backend == "sqlite":
        directory.mkdir(parents=True, exist_ok=True)
        yield sqlite_url(directory)
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}")
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)
