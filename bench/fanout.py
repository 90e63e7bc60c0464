"""Department fan-out benchmark: `python -m bench.fanout`.

A Pager to a Department stores one copy for the sender and one for each active member, in one
transaction (R10, R11). For each size in `--members`, one account is provisioned (through a
fixture file generated for the run) with a sender 101, a peer 102 and a Department 201 of that
many members; then, in one run, on one server:

1. Latency, sequential requests from one client on a kept-alive connection: `--rounds` rounds,
   each of `--sends` two-party Pagers 101 -> 102 and then `--sends` Pagers 101 -> 201, for every
   size in turn, so that drift of the machine hits both kinds alike. p50 and p99 of each kind;
   the figure is the ratio department p50 / two-party p50 (issue 10: at most 10 for 1,000
   members). With `--wrk-duration S`, the same two requests under wrk at low concurrency
   (`--wrk-connections`, default 2), alternating, as throughput.
2. Notifications: `--sample` members each subscribe (WebHook) to their own message store; a
   few more Pagers to the department; every sampled member must be told of each of them.
3. Atomicity: a fault injected mid-way through the fan-out (a trigger in the database that
   refuses the copy of the member in the middle of the insertion order, for one text only)
   must leave nothing stored: no copy for anyone, no notification event. Then the trigger
   goes and the next Pager is stored whole.
4. Every store holds what it should: for every member, its count of inbound Pagers in the
   database equals the number of department Pagers answered 200; for the sample, the API's
   list (read by the admin 101) agrees.

SQLite on a fresh file by default; `--database postgresql://...` runs on a scratch database
`ringlet_bench_fanout` created on that server for the run and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import yaml

from bench.notifications import _new_messages, subscribe
from bench.pg import scratch_database
from bench.run import (
    LUA_SCRIPT,
    STACKS,
    BenchError,
    Server,
    _free_port,
    _servers,
    parse_wrk,
    percentile,
    run_and_report,
)

EXTENSION_PATH = "/restapi/v1.0/account/~/extension/~"
PAGER_PATH = f"{EXTENSION_PATH}/company-pager"
STORE_FILTER = f"{EXTENSION_PATH}/message-store"
CLIENT_AUTH = ("demo-app", "demo-secret")
PASSWORD = "Fanout-bench-1!"
TEXT = "Hello from the fan-out benchmark"
FAULT_TEXT = "This Pager meets an injected fault"
FAULT_TRIGGER = "bench_fanout_fault"
SENDER, PEER, DEPARTMENT = "101", "102", "201"
TARGET_RATIO = 10.0  # issue 10: department p50 <= 10 x two-party p50, for 1,000 members
TARGET_MEMBERS = 1000
FIRST_MEMBER_NUMBER = 10000


# -- the fixture ------------------------------------------------------------------------------


@dataclass
class Department:
    """One account of the run: sender 101, peer 102, Department 201 of `members` members."""

    index: int
    members: int
    sample_every: int
    account_id: int = 0
    main_number: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    sent_to_department: int = 0  # Pagers to 201 answered 200
    sent_two_party: int = 0

    def __post_init__(self) -> None:
        self.account_id = 1_346_700_000 + self.index * 1_000_000
        self.main_number = f"+1650930{self.index}000"

    def extension_id(self, number: str) -> int:
        return self.account_id + {SENDER: 0, PEER: 2, DEPARTMENT: 3}[number]

    def member_id(self, i: int) -> int:
        return self.account_id + 10 + i

    def member_number(self, i: int) -> str:
        return str(FIRST_MEMBER_NUMBER + i)

    @property
    def sample(self) -> list[int]:
        return list(range(0, self.members, self.sample_every))

    def document(self) -> dict[str, Any]:
        sample = set(self.sample)
        members = []
        for i in range(self.members):
            member: dict[str, Any] = {
                "id": self.member_id(i),
                "extensionNumber": self.member_number(i),
                "name": f"Member {i}",
            }
            if i in sample:
                member["credentials"] = {"password": PASSWORD}
            members.append(member)
        return {
            "id": self.account_id,
            "name": f"Fan-out {self.members}",
            "mainNumber": self.main_number,
            "operator": SENDER,
            "extensions": [
                {
                    "id": self.extension_id(SENDER),
                    "extensionNumber": SENDER,
                    "name": "Sender",
                    "admin": True,
                    "credentials": {"password": PASSWORD},
                },
                {
                    "id": self.extension_id(PEER),
                    "extensionNumber": PEER,
                    "name": "Peer",
                    "credentials": {"password": PASSWORD},
                },
                {
                    "id": self.extension_id(DEPARTMENT),
                    "extensionNumber": DEPARTMENT,
                    "type": "Department",
                    "name": f"Department of {self.members}",
                    "members": [m["extensionNumber"] for m in members],
                },
                *members,
            ],
        }


def write_fixture(departments: list[Department], path: Path) -> Path:
    document = {
        "apps": [{"clientId": CLIENT_AUTH[0], "clientSecret": CLIENT_AUTH[1], "name": "Bench"}],
        "accounts": [d.document() for d in departments],
    }
    loader = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(yaml.dump(document, Dumper=loader, sort_keys=False))
    return path


# -- HTTP -------------------------------------------------------------------------------------


def login(url: str, department: Department, extension: str) -> str:
    form = {
        "grant_type": "password",
        "username": department.main_number,
        "extension": extension,
        "password": PASSWORD,
    }
    response = httpx.post(f"{url}/restapi/oauth/token", auth=CLIENT_AUTH, data=form, timeout=60)
    if not response.is_success:
        raise BenchError(f"login as {extension}: {response.status_code} {response.text[:300]}")
    return str(response.json()["access_token"])


def pager_body(to: str, text: str = TEXT) -> str:
    return json.dumps({"to": [{"extensionNumber": to}], "text": text}, separators=(",", ":"))


def _latency_summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values), 2),
        "p99_ms": round(percentile(values, 99), 2),
        "max_ms": round(max(values), 2),
    }


def timed_sends(
    client: httpx.Client, department: Department, to: str, count: int, text: str = TEXT
) -> list[float]:
    """`count` Pagers 101 -> `to`, one after the other; each one's milliseconds."""
    body = pager_body(to, text).encode()
    headers = {"Content-Type": "application/json"}
    took = []
    for _ in range(count):
        start = time.perf_counter()
        response = client.post(PAGER_PATH, content=body, headers=headers)
        took.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise BenchError(f"Pager to {to}: {response.status_code} {response.text[:300]}")
        if to == DEPARTMENT:
            department.sent_to_department += 1
        else:
            department.sent_two_party += 1
    return took


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=300)


# -- wrk --------------------------------------------------------------------------------------


def run_wrk(url: str, token: str, body: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        "wrk",
        f"--threads={min(2, args.wrk_connections)}",
        f"--connections={args.wrk_connections}",
        f"--duration={args.wrk_duration}s",
        "--timeout=120s",
        "--latency",
        f"--script={LUA_SCRIPT}",
        url + PAGER_PATH,
    ]
    env = {**os.environ, "BENCH_METHOD": "POST", "BENCH_TOKEN": token, "BENCH_BODY": body}
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=args.wrk_duration + 180
    )
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    result = parse_wrk(done.stdout)
    return {
        "requests_per_s": result.requests_per_s,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "requests": result.requests,
        "errors": result.non_2xx + result.socket_errors,
    }


# -- the WebHook receiver ---------------------------------------------------------------------


class Receiver:
    """A minimal HTTP server on a thread of its own: echoes Validation-Token, answers 200, and
    counts per path (one path per subscription) the new messages each notification announces
    (changes committed together, or pending for a subscriber that is behind, are one
    notification, so messages are counted, not POSTs)."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.counts: Counter[str] = Counter()
        self.last_arrival = 0.0
        self.cond = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise BenchError("the WebHook receiver did not start")

    def stop(self) -> None:
        if self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(10)

    def _run(self) -> None:
        async def main() -> None:
            self._stopped = asyncio.Event()
            server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, backlog=1024)
            self._ready.set()
            async with server:
                await self._stopped.wait()
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()

        self._loop.run_until_complete(main())
        self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                path = lines[0].split()[1].decode()
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get(b"content-length", b"0") or 0)
                body = await reader.readexactly(length) if length else b""
                token = headers.get(b"validation-token")
                extra = b""
                if token is not None and not body:
                    extra = b"Validation-Token: " + token + b"\r\n"
                elif body:
                    announced = _new_messages(body)
                    with self.cond:
                        self.counts[path] += announced
                        self.last_arrival = time.perf_counter()
                        self.cond.notify_all()
                writer.write(b"HTTP/1.1 200 OK\r\n" + extra + b"Content-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def wait(self, expected: dict[str, int], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while any(self.counts[p] < n for p, n in expected.items()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True


# -- the database -----------------------------------------------------------------------------


def _engine_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@contextlib.contextmanager
def database(url: str) -> Iterator[sa.engine.Connection]:
    engine = sa.create_engine(_engine_url(url))
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA busy_timeout = 30000")
            yield conn
    finally:
        engine.dispose()


def inbound_pager_counts(url: str, department: Department) -> dict[int, int]:
    """Inbound Pager copies per store of the account, from the database."""
    with database(url) as conn:
        rows = conn.execute(
            sa.text(
                "SELECT extension_id, count(*) FROM messages WHERE account_id = :a "
                "AND type = 'Pager' AND direction = 'Inbound' GROUP BY extension_id"
            ),
            {"a": department.account_id},
        )
        return {int(r[0]): int(r[1]) for r in rows}


@contextlib.contextmanager
def injected_fault(url: str, extension_id: int) -> Iterator[None]:
    """A trigger that refuses the copy of FAULT_TEXT for one store: the failure comes when
    the copies before it are already inserted in the same transaction."""
    with database(url) as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(
                f"CREATE TRIGGER {FAULT_TRIGGER} BEFORE INSERT ON messages "
                f"WHEN NEW.extension_id = {int(extension_id)} AND NEW.subject = '{FAULT_TEXT}' "
                "BEGIN SELECT RAISE(ABORT, 'fault injected by bench.fanout'); END"
            )
        else:
            conn.exec_driver_sql(
                f"CREATE FUNCTION {FAULT_TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'fault injected by bench.fanout'; END $$"
            )
            conn.exec_driver_sql(
                f"CREATE TRIGGER {FAULT_TRIGGER} BEFORE INSERT ON messages FOR EACH ROW "
                f"WHEN (NEW.extension_id = {int(extension_id)} AND NEW.subject = '{FAULT_TEXT}') "
                f"EXECUTE FUNCTION {FAULT_TRIGGER}()"
            )
        conn.commit()
    try:
        yield
    finally:
        with database(url) as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {FAULT_TRIGGER}")
            else:
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {FAULT_TRIGGER} ON messages")
                conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {FAULT_TRIGGER}()")
            conn.commit()


def check_atomicity(url: str, db_url: str, department: Department) -> dict[str, Any]:
    """A Pager to the department whose fan-out fails mid-way stores nothing."""
    with database(db_url) as conn:
        # The insertion order of the last fan-out: its copies by id (ids follow the inserts).
        last = conn.execute(
            sa.text(
                "SELECT max(conversation_id) FROM messages WHERE id = (SELECT max(id) FROM "
                "messages WHERE account_id = :a AND type = 'Pager' AND direction = 'Inbound')"
            ),
            {"a": department.account_id},
        ).scalar_one()
        order = [
            int(r[0])
            for r in conn.execute(
                sa.text(
                    "SELECT extension_id FROM messages WHERE account_id = :a AND "
                    "conversation_id = :c AND direction = 'Inbound' ORDER BY id"
                ),
                {"a": department.account_id, "c": last},
            )
        ]
        events_before = int(
            conn.execute(sa.text("SELECT count(*) FROM notification_events")).scalar_one()
        )
    victim = order[len(order) // 2]
    with injected_fault(db_url, victim), _client(url, department.tokens[SENDER]) as client:
        response = client.post(
            PAGER_PATH,
            content=pager_body(DEPARTMENT, FAULT_TEXT),
            headers={"Content-Type": "application/json"},
        )
    with database(db_url) as conn:
        stored = int(
            conn.execute(
                sa.text("SELECT count(*) FROM messages WHERE subject = :s"), {"s": FAULT_TEXT}
            ).scalar_one()
        )
        events_after = int(
            conn.execute(sa.text("SELECT count(*) FROM notification_events")).scalar_one()
        )
    with _client(url, department.tokens[SENDER]) as client:
        after = timed_sends(client, department, DEPARTMENT, 1)
    result = {
        "failed_at_copy": len(order) // 2 + 1,
        "of_copies": len(order) + 1,
        "status": response.status_code,
        "copies_stored": stored,
        "notification_events_added": events_after - events_before,
        "next_pager_ms": round(after[0], 1),
    }
    result["passed"] = (
        response.status_code >= 500 and stored == 0 and (result["notification_events_added"] == 0)
    )
    return result


# -- the run ----------------------------------------------------------------------------------


def _listed_pagers(client: httpx.Client, extension_id: int) -> int:
    """How many Pagers the API lists in a store (every page of 1,000)."""
    count, page = 0, 1
    while True:
        response = client.get(
            f"/restapi/v1.0/account/~/extension/{extension_id}/message-store",
            params={"messageType": "Pager", "perPage": 1000, "page": page},
        )
        if response.status_code != 200:
            raise BenchError(f"list of {extension_id}: {response.status_code} {response.text}")
        listed = response.json()
        count += len(listed["records"])
        if "nextPage" not in listed.get("navigation", {}):
            return count
        page += 1


def check_stores(url: str, db_url: str, department: Department) -> dict[str, Any]:
    counts = inbound_pager_counts(db_url, department)
    expected = department.sent_to_department
    wrong = [
        i for i in range(department.members) if counts.get(department.member_id(i), 0) != expected
    ]
    peer = counts.get(department.extension_id(PEER), 0)
    api_wrong = []
    with _client(url, department.tokens[SENDER]) as client:
        for i in department.sample:
            listed = _listed_pagers(client, department.member_id(i))
            if listed != expected:
                api_wrong.append((i, listed))
    return {
        "department_pagers_answered_200": expected,
        "members_checked_in_database": department.members,
        "members_with_a_wrong_count": len(wrong),
        "peer_inbound": peer,
        "peer_expected": department.sent_two_party,
        "sample_checked_through_api": len(department.sample),
        "sample_with_a_wrong_count": api_wrong,
        "passed": not wrong and not api_wrong and peer == department.sent_two_party,
    }


def check_notifications(
    url: str, department: Department, receiver: Receiver, args: argparse.Namespace
) -> dict[str, Any]:
    expected = {}
    for i in department.sample:
        token = login(url, department, department.member_number(i))
        path = f"/{department.members}/{i}"
        subscribe(url, token, f"http://127.0.0.1:{receiver.port}{path}")
        expected[path] = args.notify_sends
    with _client(url, department.tokens[SENDER]) as client:
        took = timed_sends(client, department, DEPARTMENT, args.notify_sends)
    acknowledged = time.perf_counter()
    arrived = receiver.wait(expected, args.notify_timeout)
    return {
        "subscribed_members": len(expected),
        "pagers": args.notify_sends,
        "pager_ms": [round(t, 1) for t in took],
        "all_announced": arrived,
        "last_notification_after_last_200_ms": round(
            max(0.0, receiver.last_arrival - acknowledged) * 1000, 1
        )
        if arrived
        else None,
        "announced_per_member_short": {
            p: receiver.counts[p] for p, n in expected.items() if receiver.counts[p] < n
        },
        "passed": arrived,
    }


def measure_latency(
    url: str, departments: list[Department], args: argparse.Namespace
) -> dict[str, Any]:
    samples: dict[int, dict[str, list[float]]] = {
        d.members: {"two_party": [], "department": []} for d in departments
    }
    rounds: dict[int, list[dict[str, float]]] = {d.members: [] for d in departments}
    clients = {d.members: _client(url, d.tokens[SENDER]) for d in departments}
    try:
        for d in departments:  # warm-up: connections, memos, the page cache
            timed_sends(clients[d.members], d, PEER, 3)
            timed_sends(clients[d.members], d, DEPARTMENT, 2)
        for number in range(1, args.rounds + 1):
            for d in departments:
                client = clients[d.members]
                two = timed_sends(client, d, PEER, args.sends)
                dep = timed_sends(client, d, DEPARTMENT, args.sends)
                samples[d.members]["two_party"].extend(two)
                samples[d.members]["department"].extend(dep)
                ratio = statistics.median(dep) / statistics.median(two)
                rounds[d.members].append(
                    {
                        "two_party_p50_ms": round(statistics.median(two), 2),
                        "department_p50_ms": round(statistics.median(dep), 2),
                        "ratio": round(ratio, 2),
                    }
                )
                print(
                    f"  round {number} {d.members:>6} members: two-party p50 "
                    f"{statistics.median(two):7.2f} ms  department p50 "
                    f"{statistics.median(dep):8.2f} ms  ratio {ratio:6.2f}",
                    flush=True,
                )
    finally:
        for client in clients.values():
            client.close()
    report: dict[str, Any] = {}
    for d in departments:
        two_s = _latency_summary(samples[d.members]["two_party"])
        dep_s = _latency_summary(samples[d.members]["department"])
        ratio = dep_s["p50_ms"] / two_s["p50_ms"]
        report[str(d.members)] = {
            "two_party": two_s,
            "department": dep_s,
            "ratio_p50": round(ratio, 2),
            "ratio_per_round": [r["ratio"] for r in rounds[d.members]],
            "rounds": rounds[d.members],
            "ms_per_copy": round((dep_s["p50_ms"] - two_s["p50_ms"]) / max(d.members - 1, 1), 4),
            "target": TARGET_RATIO if d.members <= TARGET_MEMBERS else None,
            "passed": ratio <= TARGET_RATIO if d.members <= TARGET_MEMBERS else None,
        }
    return report


def measure_wrk(
    url: str, departments: list[Department], args: argparse.Namespace
) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for d in departments:
        two = run_wrk(url, d.tokens[SENDER], pager_body(PEER), args)
        dep = run_wrk(url, d.tokens[SENDER], pager_body(DEPARTMENT), args)
        d.sent_two_party += two["requests"] - two["errors"]
        d.sent_to_department += dep["requests"] - dep["errors"]
        report[str(d.members)] = {
            "two_party": two,
            "department": dep,
            "ratio_requests_per_s": round(
                two["requests_per_s"] / max(dep["requests_per_s"], 1e-9), 2
            ),
            "copies_per_s_department": round(dep["requests_per_s"] * (d.members + 1)),
        }
        print(
            f"  wrk {args.wrk_connections} connections, {d.members:>6} members: two-party "
            f"{two['requests_per_s']:8.1f} req/s (p50 {two['p50_ms']:.1f} ms), department "
            f"{dep['requests_per_s']:7.1f} req/s (p50 {dep['p50_ms']:.1f} ms), "
            f"{report[str(d.members)]['copies_per_s_department']:,} copies/s",
            flush=True,
        )
    return report


def run(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {k: str(v) for k, v in vars(args).items()},
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
    }
    departments = [
        Department(i, n, max(1, n // args.sample)) for i, n in enumerate(args.member_sizes)
    ]
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ringlet-fanout-")))
        if args.database:
            db_url = stack.enter_context(scratch_database(args.database, "ringlet_bench_fanout"))
        else:
            db_url = f"sqlite:///{workdir / 'bench.db'}"
        started = stack.enter_context(_servers())
        fixture = write_fixture(departments, workdir / "fixture.yaml")
        port = _free_port()
        command = [
            sys.executable, "-m", "ringlet", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--database", db_url, "--fixture", str(fixture),
            "--loop", STACKS[args.stack][0], "--http", STACKS[args.stack][1],
        ]  # fmt: skip
        ringlet = Server("ringlet", command, port, workdir)
        started.append(ringlet)
        total = sum(d.members for d in departments)
        print(f"starting ringlet on {ringlet.url} ({db_url}), provisioning {total:,} members")
        start = time.monotonic()
        ringlet.start()
        ringlet.wait_ready("/_ringlet/health", timeout=args.start_timeout)
        report["provisioning_s"] = round(time.monotonic() - start, 1)
        print(f"  up after {report['provisioning_s']} s", flush=True)
        for d in departments:
            d.tokens[SENDER] = login(ringlet.url, d, SENDER)
        receiver = Receiver()
        receiver.start()
        stack.callback(receiver.stop)

        print(f"latency: {args.rounds} rounds of {args.sends} sequential Pagers of each kind")
        report["latency"] = measure_latency(ringlet.url, departments, args)
        if args.wrk_duration > 0:
            report["wrk"] = measure_wrk(ringlet.url, departments, args)
        report["sizes"] = {}
        for d in departments:
            print(f"checks, {d.members} members:", flush=True)
            checks: dict[str, Any] = {}
            checks["notifications"] = check_notifications(ringlet.url, d, receiver, args)
            print(f"  notifications: {checks['notifications']}", flush=True)
            checks["atomicity"] = check_atomicity(ringlet.url, db_url, d)
            print(f"  atomicity: {checks['atomicity']}", flush=True)
            checks["stores"] = check_stores(ringlet.url, db_url, d)
            print(f"  stores: {checks['stores']}", flush=True)
            report["sizes"][str(d.members)] = checks
        report["ringlet_peak_rss_mib"] = ringlet.peak_rss_mib()
    report["checks_passed"] = all(c["passed"] for s in report["sizes"].values() for c in s.values())
    report["targets_passed"] = all(v["passed"] is not False for v in report["latency"].values())
    return report


def print_report(report: dict[str, Any]) -> None:
    print("\nmembers  two-party p50/p99 ms  department p50/p99 ms  ratio p50  target")
    for size, v in report["latency"].items():
        two, dep = v["two_party"], v["department"]
        target = f"<= {v['target']:.0f} {'met' if v['passed'] else 'MISSED'}" if v["target"] else ""
        print(
            f"{int(size):>7}  {two['p50_ms']:9.2f} / {two['p99_ms']:7.2f}  "
            f"{dep['p50_ms']:10.2f} / {dep['p99_ms']:8.2f}  {v['ratio_p50']:9.2f}  {target}"
        )
    verdict = "all passed" if report["checks_passed"] else "FAILED (see above)"
    print(f"checks (stores, notifications, atomicity): {verdict}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--members", default="1000,10000", help="comma-separated department sizes")
    add("--rounds", type=int, default=3, help="rounds, each of --sends Pagers of each kind")
    add("--sends", type=int, default=20, help="sequential Pagers of each kind per round")
    add("--sample", type=int, default=20, help="members checked through the API and WebHooks")
    add("--notify-sends", type=int, default=3, help="Pagers to the department with WebHooks on")
    add("--notify-timeout", type=float, default=120, help="seconds to wait for notifications")
    add("--wrk-duration", type=int, default=0, help="seconds of wrk per kind and size (0: none)")
    add("--wrk-connections", type=int, default=2, help="wrk connections")
    add("--database", default=None, help="a PostgreSQL URL: the run uses a scratch database there")
    add("--stack", choices=sorted(STACKS), default="auto")
    add("--start-timeout", type=float, default=600, help="seconds for start-up and provisioning")
    add("--output", type=Path, default=Path(__file__).parent / "results" / "fanout.json")
    args = parser.parse_args(argv)
    try:
        args.member_sizes = [int(n) for n in args.members.split(",") if n.strip()]
    except ValueError:
        parser.error("--members: comma-separated integers")
    if not args.member_sizes or min(args.member_sizes) < 2 or max(args.member_sizes) > 89_999:
        parser.error("--members: sizes between 2 and 89,999")
    if len(args.member_sizes) > 10:
        parser.error("--members: at most 10 sizes")
    if min(args.rounds, args.sends, args.sample, args.notify_sends) < 1:
        parser.error("--rounds, --sends, --sample and --notify-sends must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_and_report(
        lambda: run(args),
        print_report,
        args.output,
        lambda report: bool(report["checks_passed"] and report["targets_passed"]),
    )


if __name__ == "__main__":
    sys.exit(main())
