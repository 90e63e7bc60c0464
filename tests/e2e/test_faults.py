"""Faults, end to end, on real servers: a crash (SIGKILL) in the middle of concurrent sends, the
database going away under load (PostgreSQL restarted; SQLite's disk full), a read-only file.

What must hold: every send answered 200 is there after the crash with all its copies, and no
copy is there without its siblings (a send is one transaction); while the database is away the
server answers 503 CMN-211 with RingCentral's error body, never 500, and serves again by itself
when it is back; nothing is corrupted.
"""

from __future__ import annotations

import json
import resource
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
import yaml

from tests.e2e.messaging import send_pager, send_sms
from tests.e2e.test_cli import ringlet
from tests.e2e.test_provisioning import rows
from tests.support.client import ApiClient
from tests.support.fixtures import ProvisionedAccount, build_account
from tests.support.openapi import SpecValidator
from tests.support.pg_cluster import PgCluster
from tests.support.server import RingletServer

ROUNDS = 3
SENDERS = 8
ACKED_PER_ROUND = 60  # acknowledged sends before the kill: the crash comes amid the flood


def _expected_copies(account: ProvisionedAccount) -> dict[str, set[tuple[int, str]]]:
    """(store, direction) of every copy, per kind of send: an SMS 101 -> 102; a Pager to the
    department 201, whose active members are 102 and 103 (R10)."""
    operator, bob, carol = (account.ext(n).id for n in ("101", "102", "103"))
    return {
        "sms": {(operator, "Outbound"), (bob, "Inbound")},
        "pager": {(operator, "Outbound"), (bob, "Inbound"), (carol, "Inbound")},
    }


class Flood:
    """SENDERS threads sending as 101 until the server stops answering; alternately an SMS and
    a Pager, each with a text of its own (`sms r1 t3 17`) so that its copies can be found."""

    def __init__(
        self,
        srv: RingletServer,
        account: ProvisionedAccount,
        token: str,
        validator: SpecValidator,
        label: str,
    ) -> None:
        self.srv, self.account, self.token, self.validator = srv, account, token, validator
        self.label = label
        self.acked: list[tuple[str, str]] = []  # (kind, text) answered 200
        self.answers: defaultdict[int, int] = defaultdict(int)  # status -> count
        self.bodies: list[dict[str, Any]] = []  # error bodies seen
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._send, args=(n,)) for n in range(SENDERS)]

    def __enter__(self) -> Flood:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _send(self, n: int) -> None:
        sender = self.account.ext("101").number
        recipient = self.account.ext("102").number
        headers = {"Authorization": f"Bearer {self.token}"}
        with ApiClient(
            self.srv.base_url, validator=self.validator, headers=headers, timeout=30
        ) as client:
            for i in range(1_000_000):
                if self.stop.is_set():
                    return
                kind = "sms" if i % 2 == 0 else "pager"
                text = f"{kind} {self.label} t{n} {i}"
                try:
                    if kind == "sms":
                        response = send_sms(client, sender, recipient, text)
                    else:
                        response = send_pager(client, ["201"], text)
                except httpx.TransportError:
                    if self.stop.is_set():
                        return
                    time.sleep(0.05)  # the server is down: try again until told to stop
                    continue
                with self._lock:
                    self.answers[response.status_code] += 1
                    if response.status_code == 200:
                        self.acked.append((kind, text))
                    else:
                        self.bodies.append(response.json())

    def wait_for(self, acked: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < acked:
            assert time.monotonic() < deadline, f"only {len(self.acked)} sends acknowledged"
            time.sleep(0.01)

    def wait_for_status(self, status: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.answers[status] == 0:
            assert time.monotonic() < deadline, f"no {status} answer: {dict(self.answers)}"
            time.sleep(0.01)


def _copies(database_url: str) -> dict[str, set[tuple[int, str]]]:
    found: defaultdict[str, set[tuple[int, str]]] = defaultdict(set)
    for row in rows(database_url, "SELECT extension_id, direction, subject FROM messages"):
        found[row["subject"]].add((int(row["extension_id"]), row["direction"]))
    return found


def _assert_whole_sends(
    database_url: str, account: ProvisionedAccount, acked: list[tuple[str, str]]
) -> None:
    expected = _expected_copies(account)
    copies = _copies(database_url)
    lost = [text for _, text in acked if copies.get(text) != expected[text.split()[0]]]
    assert lost == [], f"{len(lost)} acknowledged sends lost or incomplete: {lost[:5]}"
    half = {t: c for t, c in copies.items() if c != expected[t.split()[0]]}
    assert half == {}, f"sends with copies missing: {list(half.items())[:5]}"


def _login(srv: RingletServer, account: ProvisionedAccount, validator: SpecValidator) -> str:
    with ApiClient(srv.base_url, validator=validator) as api:
        client = api.login(account, "101")
        token = client.access_token
        client.close()
    return token


# -- a crash in the middle of concurrent sends -------------------------------------------------


def test_a_crash_amid_concurrent_sends_loses_no_acknowledged_send(
    server_factory: Callable[..., RingletServer], spec_validator: SpecValidator
) -> None:
    srv = server_factory()
    account = build_account(6931)
    srv.provision(account.document)
    token = _login(srv, account, spec_validator)
    acked: list[tuple[str, str]] = []
    for round_number in range(ROUNDS):
        with Flood(srv, account, token, spec_validator, f"r{round_number}") as flood:
            flood.wait_for(ACKED_PER_ROUND)
            srv.kill()  # SIGKILL while the senders are mid-request
        acked += flood.acked
        assert set(flood.answers) == {200}, dict(flood.answers)
        srv.start()
        _assert_whole_sends(srv.database_url, account, acked)
    assert len(acked) >= ROUNDS * ACKED_PER_ROUND
    # And the server reads them all back, as the senders saw them.
    with ApiClient(srv.base_url, validator=spec_validator) as api:
        olivia = api.login(account, "101")
        listed = olivia.get(
            "/restapi/v1.0/account/~/extension/~/message-store",
            params={"perPage": 1000, "dateFrom": "2000-01-01T00:00:00Z"},
        )
        assert listed.status_code == 200
        subjects = {m["subject"] for m in listed.json()["records"]}
        olivia.close()
    assert {text for _, text in acked} <= subjects


# -- the database away under load, then back ------------------------------------------------


def _assert_unavailable_bodies(flood: Flood, spec_validator: SpecValidator) -> None:
    assert 500 not in flood.answers, dict(flood.answers)
    assert set(flood.answers) <= {200, 503}, dict(flood.answers)
    for body in flood.bodies:
        assert body["errorCode"] == "CMN-211", body
        spec_validator.validate_error(
            "/restapi/v1.0/account/~/extension/~/sms", json.dumps(body).encode()
        )


def test_the_database_away_under_load_answers_503_then_recovers(
    backend: str,
    server_factory: Callable[..., RingletServer],
    spec_validator: SpecValidator,
    tmp_path: Path,
) -> None:
    """PostgreSQL: a server of the test's own (never the shared one) stopped and started again
    under load. SQLite: the file system refuses to let the database grow (the process's
    file-size limit, set from outside: what a full disk does), then lets it again. Both times
    the same server process serves again by itself."""
    if backend == "postgresql":
        with PgCluster.started() as cluster:
            url = cluster.create_database("ringlet")
            srv = RingletServer(url, tmp_path / "server.log")
            srv.start()
            try:
                _outage_under_load(
                    srv, spec_validator, 6932, begin=cluster.stop, end=cluster.start, readable=False
                )
            finally:
                srv.stop()
        return
    srv = server_factory()
    database = Path(srv.database_url.removeprefix("sqlite:///"))
    pid = srv.pid
    assert pid is not None

    def disk_full() -> None:
        size = max(p.stat().st_size for p in database.parent.glob(database.name + "*"))
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))

    def space_again() -> None:
        unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, unlimited)

    _outage_under_load(srv, spec_validator, 6933, begin=disk_full, end=space_again, readable=True)
    srv.stop()
    [check] = rows(srv.database_url, "PRAGMA integrity_check")
    assert list(check.values()) == ["ok"]


def _outage_under_load(
    srv: RingletServer,
    spec_validator: SpecValidator,
    seed: int,
    *,
    begin: Callable[[], None],
    end: Callable[[], None],
    readable: bool,
) -> None:
    account = build_account(seed)
    srv.provision(account.document)
    token = _login(srv, account, spec_validator)
    with Flood(srv, account, token, spec_validator, "outage") as flood:
        flood.wait_for(40)
        begin()
        flood.wait_for_status(503)
        with httpx.Client(base_url=srv.base_url, timeout=30) as probe:
            health = probe.get("/_ringlet/health")
        if readable:  # a full disk still lets the database be read: the server is up
            assert health.status_code == 200, health.text
        else:
            assert health.status_code == 503, health.text
            assert health.json()["errorCode"] == "CMN-211"
            assert health.headers["Retry-After"] == "2"
        with ApiClient(srv.base_url, validator=spec_validator) as api:
            login = api.token_request(
                api.login_form(account, "102", "password"),
                client_id=account.client_id,
                client_secret=account.client_secret,
            )
        assert login.status_code == 503, login.text  # OAuth's body, RFC 6749's word
        assert login.json()["error"] == "temporarily_unavailable"
        during = len(flood.acked)
        end()
        flood.wait_for(during + 40)  # served again, by the same process
    assert srv.running
    _assert_unavailable_bodies(flood, spec_validator)
    _assert_whole_sends(srv.database_url, account, flood.acked)
    log = srv.log_text()
    assert "database unavailable" in log and "database available again" in log
    assert "Traceback" not in log, log[-3000:]


# -- a read-only database ---------------------------------------------------------------------


def test_a_read_only_database_is_one_line_and_left_untouched(
    backend: str, server_factory: Callable[..., RingletServer], tmp_path: Path
) -> None:
    """SQLite opened read-only (what a file without write permission gives: root, who runs
    these tests, may write any file); PostgreSQL with read-only transactions."""
    srv = server_factory()
    srv.provision(build_account(6934).document)
    srv.stop()
    before = _copies(srv.database_url), rows(srv.database_url, "SELECT id FROM accounts")
    if backend == "sqlite":
        path = srv.database_url.removeprefix("sqlite:///")
        read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    else:
        read_only = srv.database_url
        name = read_only.rsplit("/", 1)[1]
        admin = read_only.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    fixture = tmp_path / "more.yaml"
    fixture.write_text(yaml.safe_dump(build_account(6935).document))
    result = ringlet("load", fixture, "--database", read_only, cwd=tmp_path)
    assert result.returncode != 0 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: the database ") and "is read-only" in line, line
    if backend == "postgresql":
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
    assert (_copies(srv.database_url), rows(srv.database_url, "SELECT id FROM accounts")) == before
