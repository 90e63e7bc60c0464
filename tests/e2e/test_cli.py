"""The `ringlet` command as users run it, in a subprocess, on SQLite and PostgreSQL:
`ringlet load`, `ringlet serve --fixture/--demo`, environment variables, --help and --version.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from ringlet import __version__
from tests.e2e.test_provisioning import reference, rows, snapshot
from tests.support.client import ApiClient
from tests.support.fixtures import FIXTURE_PATH, build_account
from tests.support.openapi import REPO_ROOT, SpecValidator
from tests.support.server import RingletServer, free_port, fresh_database

_ENV_NAMES = ("RINGLET_DATABASE_URL", "RINGLET_HOST", "RINGLET_PORT", "RINGLET_ADMIN_TOKEN")
SUMMARY = "1 account, 8 extensions, 7 phone numbers, 1 app"
DEMO_ACCOUNT_ID = 1346632010  # src/ringlet/demo/demo.yaml


def ringlet(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m ringlet ARGS` with the working tree's sources and no RINGLET_* of ours."""
    environment = {k: v for k, v in os.environ.items() if k not in _ENV_NAMES}
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO_ROOT / "src"), environment.get("PYTHONPATH")])
    )
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "ringlet", *map(str, args)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def empty_db(backend: str, tmp_path: Path) -> Iterator[str]:
    with fresh_database(backend, tmp_path / "db") as url:
        yield url


def _write(path: Path, doc: object) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


# -- ringlet load ---------------------------------------------------------------------------------


def test_load_twice_leaves_one_copy(empty_db: str, tmp_path: Path) -> None:
    first = ringlet("load", FIXTURE_PATH, "--database", empty_db, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        f"Loaded {FIXTURE_PATH}: {SUMMARY} (created 17, updated 0, unchanged 0)"
    )
    loaded = snapshot(empty_db)
    second = ringlet("load", FIXTURE_PATH, "--database", empty_db, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip().endswith(f"{SUMMARY} (created 0, updated 0, unchanged 17)")
    assert snapshot(empty_db) == loaded
    assert len(loaded["extensions"]) == 8 and len(loaded["phone_numbers"]) == 7


def test_a_bad_file_is_refused_whole_and_named(empty_db: str, tmp_path: Path) -> None:
    assert ringlet("load", FIXTURE_PATH, "--database", empty_db, cwd=tmp_path).returncode == 0
    before = snapshot(empty_db)
    doc = reference()
    exts = doc["accounts"][0]["extensions"]
    exts[0]["name"] = "Renamed, but the file is bad"  # a good change in a bad file
    exts[3]["type"] = "Usr"
    bad = _write(tmp_path / "bad.yaml", doc)
    result = ringlet("load", bad, "--database", empty_db, cwd=tmp_path)
    assert result.returncode != 0
    assert (
        f"Error: {bad}: accounts[0].extensions[3].type: 'Usr' is not one of User, " in result.stderr
    ), result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(empty_db) == before


def test_a_file_conflicting_with_the_database_is_refused_whole(
    empty_db: str, tmp_path: Path
) -> None:
    assert ringlet("load", FIXTURE_PATH, "--database", empty_db, cwd=tmp_path).returncode == 0
    before = snapshot(empty_db)
    other = _write(
        tmp_path / "other.yaml",
        {
            "accounts": [
                {
                    "id": 5,
                    "name": "Fine",
                    "mainNumber": "+14155550100",
                    "extensions": [{"extensionNumber": "101", "name": "Op"}],
                },
                {
                    "id": 6,
                    "name": "Clash",
                    "extensions": [
                        {
                            "extensionNumber": "101",
                            "name": "Op",
                            "phoneNumbers": [{"phoneNumber": "+16509100020"}],
                        }
                    ],
                },
            ]
        },
    )
    result = ringlet("load", other, "--database", empty_db, cwd=tmp_path)
    assert result.returncode != 0
    assert (
        "accounts[1].extensions[0].phoneNumbers[0].phoneNumber: '+16509100020' already "
        "belongs to account 1346632010"
    ) in result.stderr, result.stderr
    assert snapshot(empty_db) == before  # not even the fine account


def test_load_syntax_error_names_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("accounts:\n  - name: A\n   id: 5\n")
    result = ringlet("load", broken, "--database", f"sqlite:///{tmp_path / 'x.db'}", cwd=tmp_path)
    assert result.returncode != 0
    assert f"{broken}: YAML can't be parsed: line 3, column" in result.stderr, result.stderr


def test_load_uses_the_default_database_and_the_environment(tmp_path: Path) -> None:
    # No --database: ./ringlet.db in the working directory.
    result = ringlet("load", FIXTURE_PATH, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ringlet.db").is_file()
    # RINGLET_DATABASE_URL does what --database does.
    env_db = tmp_path / "from-env.db"
    result = ringlet(
        "load", FIXTURE_PATH, cwd=tmp_path, env={"RINGLET_DATABASE_URL": f"sqlite:///{env_db}"}
    )
    assert result.returncode == 0, result.stderr
    assert "created 17" in result.stdout
    assert len(snapshot(f"sqlite:///{env_db}")["extensions"]) == 8


# -- ringlet serve --------------------------------------------------------------------------------


def test_serve_with_a_fixture_loads_it_on_every_start(
    server_factory: Callable[..., RingletServer],
) -> None:
    srv = server_factory(extra_args=["--fixture", str(FIXTURE_PATH)])
    assert (
        f"Loaded {FIXTURE_PATH}: {SUMMARY} (created 17, updated 0, unchanged 0)" in srv.log_text()
    )
    loaded = snapshot(srv.database_url)
    srv.restart()
    assert "(created 0, updated 0, unchanged 17)" in srv.log_text()
    assert snapshot(srv.database_url) == loaded


def test_serve_on_plain_uvicorn(
    server_factory: Callable[..., RingletServer], spec_validator: SpecValidator
) -> None:
    """`--loop asyncio --http h11`: uvicorn without its extras (the benchmark's `--stack plain`)."""
    srv = server_factory(extra_args=["--demo", "--loop", "asyncio", "--http", "h11"])
    with ApiClient(srv.base_url, validator=spec_validator) as api:
        token = api.token_request(
            {
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": "jwt-olivia-101",
            },
            client_id="demo-app",
            client_secret="demo-secret",
        )
        assert token.status_code == 200, token.text
        olivia = api.with_token(token.json()["access_token"])
        me = olivia.get("/restapi/v1.0/account/~/extension/~")
        assert me.status_code == 200
        assert me.json()["extensionNumber"] == "101"
        olivia.close()


def test_serve_demo_prints_how_to_log_in_and_the_login_works(
    server_factory: Callable[..., RingletServer],
) -> None:
    srv = server_factory(extra_args=["--demo"])
    log = srv.log_text()
    for expected in (
        "demo account (provisioned now)",
        srv.base_url,
        "demo-app",
        "demo-secret",
        "+16509100000",
        "Operator-101!",
        "jwt-olivia-101",
        f"{srv.base_url}/restapi/oauth/token",
        "/extension/~/sms",
    ):
        assert expected in log, expected
    provisioned = snapshot(srv.database_url)
    with httpx.Client(base_url=srv.base_url, timeout=30) as client:
        password = client.post(
            "/restapi/oauth/token",
            auth=("demo-app", "demo-secret"),
            data={
                "grant_type": "password",
                "username": "+16509100000",
                "extension": "101",
                "password": "Operator-101!",
            },
        )
        assert password.status_code == 200, password.text
        jwt = client.post(
            "/restapi/oauth/token",
            auth=("demo-app", "demo-secret"),
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": "jwt-bob-102",
            },
        )
        assert jwt.status_code == 200, jwt.text
    srv.restart()  # the same database: the demo is there, not twice
    assert "demo account (already in the database)" in srv.log_text()
    after = snapshot(srv.database_url)
    for table in ("accounts", "extensions", "phone_numbers", "apps", "department_members"):
        assert after[table] == provisioned[table], table


def test_serve_demo_and_a_fixture_on_a_new_database_provision_both(
    server_factory: Callable[..., RingletServer],
    tmp_path: Path,
) -> None:
    mine = _write(tmp_path / "mine.yaml", build_account(6901).document)
    srv = server_factory(extra_args=["--fixture", str(mine), "--demo"])
    assert "demo account (provisioned now)" in srv.log_text()
    ids = {r["id"] for r in rows(srv.database_url, "SELECT id FROM accounts")}
    assert ids == {build_account(6901).id, DEMO_ACCOUNT_ID}
    srv.restart()  # both there: nothing provisioned twice
    assert "demo account (already in the database)" in srv.log_text()
    assert {r["id"] for r in rows(srv.database_url, "SELECT id FROM accounts")} == ids


def test_serve_demo_leaves_a_database_with_accounts_alone(
    server_factory: Callable[..., RingletServer],
    tmp_path: Path,
) -> None:
    doc = reference()
    doc["accounts"][0]["id"] = 99
    mine = _write(tmp_path / "mine.yaml", doc)
    srv = server_factory(extra_args=["--fixture", str(mine)])
    srv.extra_args.append("--demo")  # a later start on that database, with --demo
    srv.restart()
    assert "Demo account not provisioned" in srv.log_text()
    assert [r["id"] for r in rows(srv.database_url, "SELECT id FROM accounts")] == [99]


def test_serve_refuses_a_bad_fixture(
    server_factory: Callable[..., RingletServer],
    tmp_path: Path,
) -> None:
    doc = reference()
    doc["accounts"][0]["operator"] = "109"
    bad = _write(tmp_path / "bad.yaml", doc)
    srv = server_factory(extra_args=["--fixture", str(bad)], start=False)
    with pytest.raises(RuntimeError, match="exited with code"):
        srv.start()
    assert "accounts[0].operator: '109' is not the extensionNumber" in srv.log_text()
    assert snapshot(srv.database_url)["accounts"] == []


def test_serve_reports_a_bad_fixture_without_a_traceback(
    server_factory: Callable[..., RingletServer],
    tmp_path: Path,
) -> None:
    doc = reference()
    doc["accounts"][0]["operator"] = "109"
    bad = _write(tmp_path / "bad.yaml", doc)
    srv = server_factory(extra_args=["--fixture", str(bad)], start=False)
    with pytest.raises(RuntimeError):
        srv.start()
    assert f"Error: {bad}: accounts[0].operator" in srv.log_text()
    assert "Traceback" not in srv.log_text()


class _EnvConfigured(RingletServer):
    """`ringlet serve` told where to listen and which database only by the environment."""

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "ringlet",
            "serve",
            "--admin-token",
            self.admin_token,
            *self.extra_args,
        ]


def test_serve_takes_host_port_and_database_from_the_environment(
    empty_db: str, tmp_path: Path
) -> None:
    port = free_port()
    srv = _EnvConfigured(
        empty_db,
        tmp_path / "server.log",
        port=port,
        env={
            "RINGLET_HOST": "127.0.0.1",
            "RINGLET_PORT": str(port),
            "RINGLET_DATABASE_URL": empty_db,
        },
    )
    with srv:
        response = srv.provision(reference())  # reaches the server on the port from the env
        assert response.json()["accounts"] == [{"id": 1346632010, "mainNumber": "+16509100000"}]
    assert len(snapshot(empty_db)["extensions"]) == 8  # ... and the database from the env


# -- help and version -----------------------------------------------------------------------------


def test_help_explains_every_option(tmp_path: Path) -> None:
    top = ringlet("--help", cwd=tmp_path)
    assert top.returncode == 0
    assert "serve" in top.stdout and "load" in top.stdout
    serve = ringlet("serve", "--help", cwd=tmp_path)
    assert serve.returncode == 0
    for option in (
        "--host",
        "--port",
        "--database",
        "--fixture",
        "--demo",
        "--admin-token",
        "RINGLET_HOST",
        "RINGLET_PORT",
        "RINGLET_DATABASE_URL",
        "sqlite:///",
        "postgresql://",
    ):
        assert option in serve.stdout, option
    load = ringlet("load", "--help", cwd=tmp_path)
    assert load.returncode == 0
    for text in ("FIXTURE", "--database", "RINGLET_DATABASE_URL", "twice"):
        assert text in load.stdout, text


def test_version(tmp_path: Path) -> None:
    result = ringlet("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"ringlet, version {__version__}"


def test_the_installed_command(tmp_path: Path) -> None:
    command = Path(sys.executable).parent / "ringlet"
    if not command.exists():
        pytest.skip("ringlet is not installed into this interpreter's environment")
    result = subprocess.run(
        [str(command), "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0 and __version__ in result.stdout
