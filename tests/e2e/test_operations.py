"""Operating the server: start-up failures in one line, the access log and JSON logs, the Host
header and --public-url, the deadlines and the bound on connections, a client that leaves."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.test_cli import ringlet
from tests.e2e.test_provisioning import reference, rows
from tests.support.client import ApiClient
from tests.support.fixtures import FIXTURE_PATH, build_account
from tests.support.openapi import SpecValidator
from tests.support.server import RingletServer, free_port, fresh_database, sqlite_url

VERSIONS = "/restapi/v1.0"


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The whole output of a failed start: exactly one line, `Error: ...`, nothing on stdout."""
    assert result.returncode != 0
    stderr = result.stderr
    assert result.stdout == "", result.stdout
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: "), stderr
    return lines[0]


# -- start-up failures ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ringlet.db", "is not a database URL: write sqlite:///ringlet.db"),
        ("sqlite:///no/such/dir/x.db", "the directory 'no/such/dir' does not exist"),
        ("mysql://root@127.0.0.1/ringlet", "ringlet runs on SQLite and PostgreSQL only"),
        ("sqlite:///:memory:", "an in-memory SQLite database is not supported"),
    ],
)
def test_a_database_url_that_cannot_work_is_one_line(
    url: str, expected: str, tmp_path: Path
) -> None:
    for command in (["serve", "--port", str(free_port())], ["load", str(FIXTURE_PATH)]):
        result = ringlet(*command, "--database", url, cwd=tmp_path)
        assert expected in _one_error_line(result)
    assert list(tmp_path.iterdir()) == []  # nothing created


def test_an_unusable_database_is_one_line(backend: str, tmp_path: Path) -> None:
    port = str(free_port())
    if backend == "sqlite":
        garbage = tmp_path / "garbage.db"
        garbage.write_bytes(b"this is not a SQLite database at all" * 100)
        result = ringlet(
            "serve", "--port", port, "--database", sqlite_url_of(garbage), cwd=tmp_path
        )
        assert "is not a SQLite database file" in _one_error_line(result)
        return
    refused = f"postgresql://postgres@127.0.0.1:{free_port()}/ringlet"
    line = _one_error_line(ringlet("serve", "--port", port, "--database", refused, cwd=tmp_path))
    assert "cannot connect to PostgreSQL at 127.0.0.1:" in line and "connection refused" in line
    with fresh_database("postgresql", tmp_path / "pg") as url:
        missing = url.rsplit("/", 1)[0] + "/ringlet_test_missing"
        result = ringlet("serve", "--port", port, "--database", missing, cwd=tmp_path)
        assert 'database "ringlet_test_missing" does not exist' in _one_error_line(result)
        assert "createdb ringlet_test_missing" in result.stderr


def sqlite_url_of(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def test_a_port_in_use_is_one_line_before_any_banner(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path / "db") as url, socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = ringlet(
            "serve", "--port", str(port), "--database", url, "--demo", cwd=tmp_path, timeout=60
        )
        line = _one_error_line(result)  # no demo banner, no uvicorn lines
        assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in line
        assert "choose another --port" in line
        if backend == "sqlite":
            assert list((tmp_path / "db").iterdir()) == []  # the database was not even opened


def test_a_failed_load_leaves_no_database_behind(backend: str, tmp_path: Path) -> None:
    doc = reference()
    doc["accounts"][0]["operator"] = "109"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc))
    with fresh_database(backend, tmp_path / "db") as url:
        result = ringlet("load", bad, "--database", url, cwd=tmp_path)
        assert "accounts[0].operator: '109' is not the extensionNumber" in _one_error_line(result)
        if backend == "sqlite":
            assert list((tmp_path / "db").iterdir()) == []  # not even an empty file
        else:
            assert rows(url, "SELECT id FROM accounts") == []
        # A database that was there before stays, with what it held.
        assert ringlet("load", FIXTURE_PATH, "--database", url, cwd=tmp_path).returncode == 0
        result = ringlet("load", bad, "--database", url, cwd=tmp_path)
        assert result.returncode != 0
        assert len(rows(url, "SELECT id FROM accounts")) == 1


# -- logs ------------------------------------------------------------------------------------


def _new_lines(srv: RingletServer, offset: int) -> list[str]:
    return srv.log_text()[offset:].splitlines()


def test_no_access_log_by_default(server_factory: Callable[..., RingletServer]) -> None:
    srv = server_factory()
    with ApiClient(srv.base_url) as api:
        assert api.get(VERSIONS).status_code == 200
    srv.stop()
    assert "ringlet.access" not in srv.log_text()


def test_the_access_log_names_each_request_with_its_request_id(
    server_factory: Callable[..., RingletServer], spec_validator: SpecValidator
) -> None:
    srv = server_factory(extra_args=["--access-log"])
    offset = len(srv.log_text())
    with ApiClient(srv.base_url, validator=spec_validator) as api:
        ok = api.get(VERSIONS)
        missing = api.get("/restapi/v1.0/no-such-thing?x=1")
    assert ok.status_code == 200 and missing.status_code == 404
    srv.stop()
    lines = [line for line in _new_lines(srv, offset) if "ringlet.access" in line]
    for response, request_line, status in (
        (ok, f'"GET {VERSIONS} HTTP/1.1" 200 ', 200),
        (missing, '"GET /restapi/v1.0/no-such-thing?x=1 HTTP/1.1" 404 ', 404),
    ):
        rid = response.headers["RCRequestId"]
        [line] = [line for line in lines if rid in line]
        assert request_line in line, line
        assert line.startswith("INFO ringlet.access: 127.0.0.1:"), line
        assert line.endswith(f"RCRequestId={rid}") and f" {status} " in line


def test_json_logs_are_one_object_a_line(server_factory: Callable[..., RingletServer]) -> None:
    srv = server_factory(extra_args=["--access-log", "--log-format", "json"])
    offset = len(srv.log_text())
    with ApiClient(srv.base_url) as api:
        rid = api.get(VERSIONS).headers["RCRequestId"]
    srv.stop()
    entries = [json.loads(line) for line in _new_lines(srv, offset) if not line.startswith("===")]
    assert entries, "no log lines"
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys()
    [access] = [e for e in entries if e.get("requestId") == rid]
    assert access["logger"] == "ringlet.access"
    assert (access["method"], access["path"], access["status"]) == ("GET", VERSIONS, 200)
    assert isinstance(access["durationMs"], int | float) and access["bytes"] > 0


def test_a_client_that_leaves_mid_body_is_no_error(
    server_factory: Callable[..., RingletServer], spec_validator: SpecValidator
) -> None:
    srv = server_factory(extra_args=["--log-level", "debug"])
    account = build_account(6911)
    srv.provision(account.document)
    with ApiClient(srv.base_url, validator=spec_validator) as api:
        olivia = api.login(account, "101")
        token = olivia.access_token
        for _ in range(20):  # a flood of them
            with socket.create_connection(("127.0.0.1", srv.port)) as sock:
                sock.sendall(
                    b"POST /restapi/v1.0/account/~/extension/~/sms HTTP/1.1\r\n"
                    b"Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    b"Authorization: Bearer " + token.encode() + b"\r\n"
                    b"Content-Length: 5000\r\n\r\n" + b'{"text": "half'
                )
        assert olivia.get("/restapi/v1.0/account/~/extension/~").status_code == 200
        olivia.close()
    srv.stop()
    log = srv.log_text()
    assert "client left during POST /restapi/v1.0/account/~/extension/~/sms" in log
    assert "ERROR" not in log and "Traceback" not in log, log[-3000:]
    assert rows(srv.database_url, "SELECT id FROM messages") == []


# -- Host and --public-url -------------------------------------------------------------------


@pytest.fixture
def plain_server(server_factory: Callable[..., RingletServer]) -> RingletServer:
    return server_factory()


@pytest.mark.parametrize(
    "host",
    [
        'evil.example"><script>',
        "evil.example",
        "127.0.0.1:80@evil.example",
        "[::1",
        "127.0.0.1:999999",
    ],
)
def test_a_host_that_does_not_name_the_server_is_refused_unechoed(
    plain_server: RingletServer, spec_validator: SpecValidator, host: str
) -> None:
    with ApiClient(plain_server.base_url, validator=spec_validator, headers={"Host": host}) as api:
        for path in (VERSIONS, "/restapi/oauth/token"):
            response = api.get(path) if path == VERSIONS else api.post(path, data={})
            assert response.status_code == 400, response.text
            errors = response.json()["errors"]
            assert errors[0]["errorCode"] == "CMN-101"
            assert errors[0]["parameterName"] == "Host"
            assert "evil.example" not in response.text and "<script>" not in response.text


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST:8080", "127.0.0.1:{port}"])
def test_the_server_s_own_names_are_served(
    plain_server: RingletServer, spec_validator: SpecValidator, host: str
) -> None:
    host = host.format(port=plain_server.port)
    with ApiClient(plain_server.base_url, validator=spec_validator, headers={"Host": host}) as api:
        response = api.get(VERSIONS)
    assert response.status_code == 200
    assert response.json()["uri"] == f"http://{host}{VERSIONS}"


def test_public_url_fixes_the_base_of_every_uri(
    server_factory: Callable[..., RingletServer], spec_validator: SpecValidator
) -> None:
    srv = server_factory(extra_args=["--public-url", "https://rc.example.com/ringlet/"])
    account = build_account(6912)
    srv.provision(account.document)
    behind_proxy = {"Host": "internal-name:9000"}
    with ApiClient(srv.base_url, validator=spec_validator, headers=behind_proxy) as api:
        olivia = api.login(account, "101")
        me = olivia.get("/restapi/v1.0/account/~/extension/~")
        assert me.status_code == 200
        assert me.json()["uri"].startswith("https://rc.example.com/ringlet/restapi/v1.0/account/")
        olivia.close()


def test_a_bad_public_url_stops_the_start(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    for bad in ("rc.example.com", "ftp://rc.example.com", "https://rc.example.com/?a=1"):
        result = ringlet(
            "serve",
            "--port",
            str(free_port()),
            "--database",
            url,
            "--public-url",
            bad,
            cwd=tmp_path,
        )
        assert f"--public-url {bad!r}" in _one_error_line(result)


# -- deadlines and the bound on connections --------------------------------------------------


def test_a_half_sent_request_head_is_closed(plain_server: RingletServer) -> None:
    """`ringlet serve`'s own deadline (10 s); both HTTP implementations and the body's
    deadline: tests/integration/test_deadlines.py, with short deadlines."""
    with socket.create_connection(("127.0.0.1", plain_server.port)) as sock:
        sock.sendall(b"GET /_ringlet/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        sock.settimeout(60)  # a bound for the test only: the server closes it well before
        assert sock.recv(1024) == b""  # closed by the server, nothing answered


@pytest.fixture
def held_connections() -> Iterator[list[socket.socket]]:
    held: list[socket.socket] = []
    yield held
    for sock in held:
        sock.close()


def test_beyond_max_connections_requests_get_503(
    server_factory: Callable[..., RingletServer],
    spec_validator: SpecValidator,
    held_connections: list[socket.socket],
) -> None:
    srv = server_factory(extra_args=["--max-connections", "16"])
    for _ in range(16):
        held_connections.append(socket.create_connection(("127.0.0.1", srv.port)))
    with ApiClient(srv.base_url, validator=spec_validator) as api:
        refused = api.get(VERSIONS)
        assert refused.status_code == 503
        assert refused.json()["errorCode"] == "CMN-211"
        assert refused.headers["Retry-After"] == "1"
        assert refused.headers["Connection"] == "close"
        for sock in held_connections:
            sock.close()
        held_connections.clear()
        for _ in range(50):  # the server notices the closed connections at its own pace
            response = api.get(VERSIONS)
            if response.status_code == 200:
                break
            time.sleep(0.1)
        assert response.status_code == 200
