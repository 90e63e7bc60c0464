"""RingletServer process handling, against a stand-in server script; PostgreSQL helpers."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.support.server import (
    RingletServer,
    create_pg_database,
    drop_pg_database,
    fresh_database,
    pg_admin_url,
    sqlite_url,
)

# Speaks just enough of ringlet's admin API: health, fixtures (token-checked), and exit on demand.
FAKE_SERVER = textwrap.dedent("""
    import http.server, json, os, sys
    args = sys.argv[1:]
    port = int(args[args.index("--port") + 1])
    token = args[args.index("--admin-token") + 1]
    database = args[args.index("--database") + 1]
    if os.environ.get("FAKE_FAIL"):
        print("cannot start: FAKE_FAIL", flush=True)
        sys.exit(3)
    print("serving", database, flush=True)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
            self.wfile.write(b"ok")
        def do_POST(self):
            data = self.rfile.read(int(self.headers["Content-Length"]))
            ok = self.headers.get("X-Ringlet-Admin-Token") == token
            print("provision", len(json.loads(data)["accounts"]), flush=True)
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", "0"); self.end_headers()

    http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
""")


class FakeRinglet(RingletServer):
    script: Path

    def command(self) -> list[str]:
        base = super().command()
        assert base[1:4] == ["-m", "ringlet", "serve"]
        return [sys.executable, str(self.script), *base[4:]]


@pytest.fixture
def fake(tmp_path: Path) -> FakeRinglet:
    script = tmp_path / "fake_ringlet.py"
    script.write_text(FAKE_SERVER)
    srv = FakeRinglet(
        sqlite_url(tmp_path), tmp_path / "logs" / "server.log", startup_timeout=10, stop_timeout=5
    )
    srv.script = script
    return srv


def test_command_line(tmp_path: Path) -> None:
    srv = RingletServer(
        "sqlite:////x/ringlet.db",
        tmp_path / "l.log",
        admin_token="t",
        port=1234,
        extra_args=["--demo"],
    )
    assert srv.command()[1:] == [
        "-m",
        "ringlet",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "1234",
        "--database",
        "sqlite:////x/ringlet.db",
        "--admin-token",
        "t",
        "--demo",
    ]
    assert srv.base_url == "http://127.0.0.1:1234"


def test_sqlite_url(tmp_path: Path) -> None:
    assert sqlite_url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/ringlet.db"
    assert sqlite_url(tmp_path).startswith("sqlite:////")


def test_start_provision_restart_stop(fake: FakeRinglet) -> None:
    with fake:
        assert fake.running
        pid = fake.pid
        assert httpx.get(fake.base_url + "/_ringlet/health").status_code == 200
        fake.provision({"accounts": [{}]})
        bad = fake.admin_post("/_ringlet/fixtures", {"accounts": []})
        assert bad.status_code == 200  # right token
        port = fake.port
        fake.restart()
        assert fake.running and fake.port == port and fake.pid != pid
    assert not fake.running
    log = fake.log_text()
    assert log.count("=== start:") == 2
    assert "provision 1" in log and "stopped" in log


def test_provision_failure_raises(fake: FakeRinglet) -> None:
    with fake:
        fake.admin_token = "wrong"
        with pytest.raises(AssertionError, match="provisioning failed: HTTP 401"):
            fake.provision({"accounts": []})


def test_kill(fake: FakeRinglet) -> None:
    fake.start()
    fake.kill()
    assert not fake.running
    fake.start()  # same database, same port
    fake.stop()


def test_startup_failure_shows_log(fake: FakeRinglet) -> None:
    fake.env["FAKE_FAIL"] = "1"
    with pytest.raises(RuntimeError, match=r"(?s)exited with code 3.*cannot start"):
        fake.start()
    assert not fake.running


def test_environment_prefers_flags(fake: FakeRinglet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGLET_DATABASE_URL", "sqlite:///elsewhere.db")
    env = fake._environment()
    assert "RINGLET_DATABASE_URL" not in env
    assert env["PYTHONPATH"].split(os.pathsep)[0].endswith("src")


def _pg_reachable() -> bool:
    try:
        with psycopg.connect(pg_admin_url(), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@pytest.mark.skipif(not _pg_reachable(), reason="PostgreSQL not reachable")
def test_pg_database_lifecycle() -> None:
    url = create_pg_database()
    name = url.rsplit("/", 1)[1]
    assert name.startswith("ringlet_test_")
    leftover = psycopg.connect(url)  # a connection a killed server would leave behind
    try:
        drop_pg_database(url)
    finally:
        leftover.close()
    with psycopg.connect(pg_admin_url()) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
    assert row == (0,)


@pytest.mark.skipif(not _pg_reachable(), reason="PostgreSQL not reachable")
def test_fresh_database_postgresql(tmp_path: Path) -> None:
    with fresh_database("postgresql", tmp_path) as url, psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (url.rsplit("/")[-1],)


def test_drop_refuses_other_databases() -> None:
    with pytest.raises(ValueError, match="not a test database"):
        drop_pg_database("postgresql://postgres@127.0.0.1:5432/test")
