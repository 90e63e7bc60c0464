"""Memory soak: `python -m bench.soak [--duration 3600] [--messages 100000] [options]`.

Starts ringlet as bench/run.py does (a fresh SQLite database, bench/fixture.yaml; `--database`
for PostgreSQL), with `--messages` messages in extension 102's store, imported before the start
by `ringlet import-messages` (`import_store`; `--seed api` sends them through the API instead),
then drives a mixed traffic for `--duration` seconds from this process: sends (SMS between the
two extensions and to simulated handsets, Pager), lists with several filters, FSync and ISync,
reads by id, deletes (a message, a conversation), logins (password grant) and token refreshes,
and the churn of WebSocket sessions and WebHook subscriptions (to a receiver in this process).
`--concurrency` connections, at most `--rate` requests a second in all.

Meanwhile it samples VmRSS and VmHWM of each process of the server's tree (the server and the
delivery process it starts) every `--sample-interval` seconds, and reports per process: the
peak, the RSS when the soak starts (after seeding and `--warmup`) and when it ends, and the
growth: the least-squares slope of RSS over the second half of the soak, in MiB an hour.

PASS when, for every process, the peak is under `--max-peak` MiB, the slope under `--max-slope`
MiB/h and the last RSS within `--max-drift` MiB of the RSS at the midpoint; and no request got a
5xx, an unexpected status or a transport error. Exit code 0 PASS, 1 FAIL, 2 could not run,
130 interrupted. Results in bench/results/soak.json. See bench/README.md, "Memory soak".

`--tracemalloc` runs every server process under tracemalloc (a sitecustomize module on the
servers' PYTHONPATH, written for the run; nothing in ringlet) and prints, per process, the
allocation sites that grew most between the soak's start and its end. Its RSS figures then
include tracemalloc's own overhead and say nothing about ringlet's.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import websockets

from bench import scale
from bench.run import (
    BENCH_DIR,
    CLIENT_AUTH,
    EXTENSION_PATH,
    EXTENSIONS,
    FIXTURE,
    MAIN_NUMBER,
    STACKS,
    BenchError,
    Server,
    _free_port,
    _process_tree,
    _servers,
    login,
    percentile,
    run_and_report,
    seed,
)

DEFAULT_OUTPUT = BENCH_DIR / "results" / "soak.json"
STORE = f"{EXTENSION_PATH}/message-store"
SYNC = f"{EXTENSION_PATH}/message-sync"
STORE_FILTER = "/restapi/v1.0/account/~/extension/~/message-store"
# Simulated handsets (numbers no extension holds): each is a conversation of its own with each
# extension, which `delete_conversation` can delete without emptying the seeded store.
HANDSETS = [f"+1650555{n:04d}" for n in range(100, 120)]
KEPT_IDS = 2000  # message ids remembered per extension for reads and deletes
WEBHOOKS_KEPT = 4  # WebHook subscriptions alive at once; each new one deletes the oldest


# --- seeding ---------------------------------------------------------------------------------


def seed_store(port: int, tokens: dict[str, str], messages: int, args: argparse.Namespace) -> None:
    """`--seed api`: `messages` SMS alternating 101 -> 102 and 102 -> 101 through the HTTP API
    (bench/run.py's `seed`), so that each of the two extensions holds `messages` records."""
    if messages > 0 and args.seed == "api":
        seed(port, tokens, messages, args)


def import_store(database: str, workdir: Path, messages: int) -> None:
    """`--seed import` (the default), before the server starts: 102's store filled with
    `messages` messages of bench/scale.py's generated history by `ringlet import-messages`,
    minutes for a million where the API takes most of an hour."""
    if messages <= 0:
        return
    history = workdir / "history.jsonl"
    scale.generate(history, messages, 0, 10_000, int(time.time() * 1000))
    for command in (
        ["load", str(FIXTURE), "--database", database],
        ["import-messages", str(history), "--database", database],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "ringlet", *command],
            capture_output=True,
            text=True,
            timeout=7200,
        )
        if done.returncode != 0:
            raise BenchError(f"ringlet {command[0]} failed: {done.stderr or done.stdout}")
    history.unlink()


# --- the client ------------------------------------------------------------------------------


# The churn's client refreshes its tokens this often (an access token lives an hour).
TOKEN_REFRESH_SECONDS = 1800


@dataclass
class Tally:
    """Every response, by operation and status; failures kept for the report."""

    counts: Counter[str] = field(default_factory=Counter)  # "operation status"
    statuses: Counter[int] = field(default_factory=Counter)
    failures: int = 0
    transport_errors: int = 0
    first_failures: list[str] = field(default_factory=list)
    counting: bool = False  # False during the warm-up: only failures counted
    # Seconds each request took, by kind (the operation, a list by its filter's names), since
    # the last progress line: what tells which request slows down when the rate falls.
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    timeline: list[dict[str, Any]] = field(default_factory=list)

    def took(self, kind: str, seconds: float) -> None:
        if self.counting:
            self.latencies[kind].append(seconds)

    def close_window(self, at: float) -> dict[str, tuple[int, float, float]]:
        """Per kind: count, mean and p95 in ms since the last call; kept in the timeline."""
        window = {
            kind: (
                len(times),
                round(1000 * statistics.fmean(times), 2),
                round(1000 * percentile(times, 95), 2),
            )
            for kind, times in sorted(self.latencies.items())
            if times
        }
        self.latencies.clear()
        self.timeline.append({"at_s": round(at), "by_kind": window})
        return window

    def record(self, op: str, status: int, expected: tuple[int, ...], body: bytes) -> None:
        if self.counting:
            self.counts[f"{op} {status}"] += 1
            self.statuses[status] += 1
        if status not in expected:
            self.failures += 1
            if len(self.first_failures) < 10:
                self.first_failures.append(f"{op}: HTTP {status}: {body[:400]!r}")

    def error(self, op: str, error: BaseException) -> None:
        self.transport_errors += 1
        if self.counting:
            self.counts[f"{op} error"] += 1
        if len(self.first_failures) < 10:
            self.first_failures.append(f"{op}: {type(error).__name__}: {error}")


class Connection:
    """One kept-alive HTTP/1.1 connection (plain asyncio streams, as bench/run.py seeds), and
    the tokens of the client using it: each worker logs in on its own, so that its logins and
    refreshes (which end the previous access token) do not pull the tokens of the others."""

    def __init__(self, port: int, tokens: dict[str, dict[str, str]]) -> None:
        self.port = port
        self.tokens = tokens  # extension -> the token response (access and refresh token)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        try:
            head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            status = int(head[0].split()[1])
            fields = (line.partition(":") for line in head[1:] if line)
            got = {name.strip().lower(): value.strip().lower() for name, _, value in fields}
            if "content-length" in got:
                data = await self.reader.readexactly(int(got["content-length"]))
            elif status in (204, 304) or 100 <= status < 200:
                data = b""
            else:
                raise BenchError(f"response without Content-Length: {head}")
        except BaseException:
            self.close()
            raise
        if got.get("connection") == "close":
            self.close()
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Traffic:
    """The mixed traffic: `concurrency` workers, each on its own connection, each picking an
    operation at random by weight, at most `rate` requests a second in all (0: no limit)."""

    def __init__(self, url: str, port: int, args: argparse.Namespace) -> None:
        self.url, self.port, self.args = url, port, args
        self.tally = Tally()
        self.ids: dict[str, deque[str]] = {ext: deque(maxlen=KEPT_IDS) for ext in EXTENSIONS}
        self.handset_conversations: dict[str, set[str]] = {ext: set() for ext in EXTENSIONS}
        self.sync_tokens: dict[str, str] = {}
        self.webhooks: deque[tuple[str, str]] = deque()  # (extension, subscription id)
        self.receiver_port = 0
        self.notifications = 0
        self.random = random.Random(1)
        self.interval = 1 / args.rate if args.rate > 0 else 0.0
        self.next_slot = time.monotonic()
        self.operations: list[tuple[str, int, Callable[[Connection], Awaitable[None]]]] = [
            ("sms", 24, self.sms),
            ("sms-handset", 6, self.sms_handset),
            ("pager", 8, self.pager),
            ("list", 22, self.list_messages),
            ("read", 10, self.read),
            ("fsync", 4, self.fsync),
            ("isync", 8, self.isync),
            ("delete", 5, self.delete),
            ("delete-conversation", 2, self.delete_conversation),
            ("login", 2, self.login),
            ("refresh", 2, self.refresh),
        ]
        self.by_name = {name: operation for name, _, operation in self.operations}
        self.names = [name for name, _, _ in self.operations]
        self.weights = [weight for _, weight, _ in self.operations]

    # -- plumbing ---------------------------------------------------------------------------

    def ext(self) -> str:
        return self.random.choice(list(EXTENSIONS))

    async def call(
        self,
        conn: Connection,
        op: str,
        method: str,
        path: str,
        ext: str | None,
        body: Any = None,
        expected: tuple[int, ...] = (200,),
        form: dict[str, str] | None = None,
        kind: str | None = None,
    ) -> tuple[int, Any]:
        """One request; the JSON body of a 2xx answer (None otherwise or when empty). `kind`
        names it in the latency timeline (default: `op`)."""
        headers = {}
        if ext is not None:
            headers["Authorization"] = f"Bearer {conn.tokens[ext]['access_token']}"
        data = b""
        if form is not None:
            data = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            basic = base64.b64encode(":".join(CLIENT_AUTH).encode()).decode()
            headers["Authorization"] = f"Basic {basic}"
        elif body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        began = time.perf_counter()
        try:
            status, raw = await asyncio.wait_for(
                conn.request(method, path, headers, data), self.args.request_timeout
            )
            self.tally.took(kind or op, time.perf_counter() - began)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, BenchError, ValueError) as e:
            conn.close()
            self.tally.error(op, e)
            return 0, None
        if status == 400 and op == "isync" and b'"MSG-333"' not in raw:
            expected = (200,)  # only "full synchronization is required" is expected
        self.tally.record(op, status, expected, raw)
        if 200 <= status < 300 and raw:
            return status, json.loads(raw)
        return status, None

    async def pace(self) -> None:
        if self.interval:
            now = time.monotonic()
            self.next_slot = max(self.next_slot + self.interval, now)
            if self.next_slot > now:
                await asyncio.sleep(self.next_slot - now)

    async def worker(self, conn: Connection, deadline: float) -> None:
        try:
            while time.monotonic() < deadline:
                await self.pace()
                name = self.random.choices(self.names, self.weights)[0]
                await self.by_name[name](conn)
        finally:
            conn.close()

    async def churn(self, conn: Connection, deadline: float) -> None:
        """Every --churn-interval seconds a WebSocket session or a WebHook subscription, in
        turn, on top of the workers' traffic."""
        refreshed = time.monotonic()
        try:
            for turn in itertools.count():
                conn.close()  # idle longer than the server's keep-alive timeout
                await asyncio.sleep(self.args.churn_interval)
                if time.monotonic() >= deadline:
                    return
                # The workers refresh their tokens among their requests; this client does as
                # an app does, before its access token (an hour) runs out.
                if time.monotonic() - refreshed > TOKEN_REFRESH_SECONDS:
                    for ext in EXTENSIONS:
                        await self.refresh(conn, ext)
                    refreshed = time.monotonic()
                await (self.websocket(conn, drop=turn % 8 == 0) if turn % 2 else self.webhook(conn))
        finally:
            conn.close()

    async def run(self, clients: list[Connection], seconds: float) -> None:
        """The workers (all clients but the last) and the churn (the last client)."""
        deadline = time.monotonic() + seconds
        async with asyncio.TaskGroup() as group:
            for conn in clients[:-1]:
                group.create_task(self.worker(conn, deadline))
            if self.args.churn_interval > 0:
                group.create_task(self.churn(clients[-1], deadline))

    def remember(self, ext: str, record: Any) -> None:
        if isinstance(record, dict) and "id" in record:
            self.ids[ext].append(str(record["id"]))

    # -- the operations ---------------------------------------------------------------------

    async def sms(self, conn: Connection) -> None:
        sender = self.ext()
        recipient = "101" if sender == "102" else "102"
        body = {
            "from": {"phoneNumber": EXTENSIONS[sender][1]},
            "to": [{"phoneNumber": EXTENSIONS[recipient][1]}],
            "text": f"soak {uuid.uuid4().hex[:12]}",
        }
        _, record = await self.call(conn, "sms", "POST", f"{EXTENSION_PATH}/sms", sender, body)
        self.remember(sender, record)

    async def sms_handset(self, conn: Connection) -> None:
        sender = self.ext()
        body = {
            "from": {"phoneNumber": EXTENSIONS[sender][1]},
            "to": [{"phoneNumber": self.random.choice(HANDSETS)}],
            "text": "soak to a handset",
        }
        op = "sms-handset"
        _, record = await self.call(conn, op, "POST", f"{EXTENSION_PATH}/sms", sender, body)
        self.remember(sender, record)
        if isinstance(record, dict) and isinstance(record.get("conversation"), dict):
            self.handset_conversations[sender].add(str(record["conversation"]["id"]))

    async def pager(self, conn: Connection) -> None:
        sender = self.ext()
        recipient = "101" if sender == "102" else "102"
        body = {"to": [{"extensionNumber": recipient}], "text": "soak pager"}
        path = f"{EXTENSION_PATH}/company-pager"
        _, record = await self.call(conn, "pager", "POST", path, sender, body)
        self.remember(sender, record)

    def _list_query(self, ext: str) -> list[tuple[str, str]]:
        other = "101" if ext == "102" else "102"
        choices: list[list[tuple[str, str]]] = [
            [("perPage", "100")],
            [("perPage", "100"), ("page", "2")],
            [("messageType", "SMS"), ("perPage", "50")],
            [("messageType", "Pager")],
            [("direction", "Inbound"), ("readStatus", "Unread")],
            [("distinctConversations", "true")],
            [("phoneNumber", EXTENSIONS[other][1])],
            [("dateFrom", "2000-01-01T00:00:00Z"), ("perPage", "20"), ("page", "3")],
            [("availability", "Deleted"), ("perPage", "30")],
        ]
        conversations = self.handset_conversations[ext]
        if conversations:
            choices.append([("conversationId", self.random.choice(sorted(conversations)))])
        return self.random.choice(choices)

    async def list_messages(self, conn: Connection) -> None:
        ext = self.ext()
        params = self._list_query(ext)
        kind = "list " + ",".join(name for name, _ in params if name != "perPage")
        await self.call(conn, "list", "GET", f"{STORE}?{urlencode(params)}", ext, kind=kind)

    async def read(self, conn: Connection) -> None:
        ext = self.ext()
        if not self.ids[ext]:
            return await self.list_messages(conn)
        message_id = self.random.choice(self.ids[ext])
        await self.call(conn, "read", "GET", f"{STORE}/{message_id}", ext, expected=(200, 404))

    async def fsync(self, conn: Connection) -> None:
        ext = self.ext()
        query = urlencode({"syncType": "FSync", "recordCount": "50"})
        _, answer = await self.call(conn, "fsync", "GET", f"{SYNC}?{query}", ext)
        if isinstance(answer, dict):
            self.sync_tokens[ext] = answer["syncInfo"]["syncToken"]

    async def isync(self, conn: Connection) -> None:
        ext = self.ext()
        token = self.sync_tokens.get(ext)
        if token is None:
            return await self.fsync(conn)
        query = urlencode({"syncType": "ISync", "syncToken": token})
        # 400 MSG-333: more changes since the token than an ISync answers (2,000; the seeding
        # makes that many in a few seconds): the client must sync in full, and does.
        status, answer = await self.call(
            conn, "isync", "GET", f"{SYNC}?{query}", ext, expected=(200, 400)
        )
        if isinstance(answer, dict):
            self.sync_tokens[ext] = answer["syncInfo"]["syncToken"]
        elif status == 400:
            self.sync_tokens.pop(ext, None)

    async def delete(self, conn: Connection) -> None:
        ext = self.ext()
        if not self.ids[ext]:
            return await self.sms(conn)
        message_id = self.ids[ext].popleft()
        path = f"{STORE}/{message_id}"
        await self.call(conn, "delete", "DELETE", path, ext, expected=(204, 404))

    async def delete_conversation(self, conn: Connection) -> None:
        ext = self.ext()
        conversations = self.handset_conversations[ext]
        if not conversations:
            return await self.sms_handset(conn)
        conversation = conversations.pop()
        path = f"{STORE}?conversationId={conversation}"
        await self.call(conn, "delete-conversation", "DELETE", path, ext, expected=(204,))

    async def login(self, conn: Connection) -> None:
        ext = self.ext()
        form = {
            "grant_type": "password",
            "username": MAIN_NUMBER,
            "extension": ext,
            "password": EXTENSIONS[ext][0],
        }
        _, answer = await self.call(conn, "login", "POST", "/restapi/oauth/token", None, form=form)
        if isinstance(answer, dict):
            conn.tokens[ext] = answer

    async def refresh(self, conn: Connection, ext: str | None = None) -> None:
        ext = ext or self.ext()
        form = {"grant_type": "refresh_token", "refresh_token": conn.tokens[ext]["refresh_token"]}
        _, answer = await self.call(
            conn, "refresh", "POST", "/restapi/oauth/token", None, form=form
        )
        if isinstance(answer, dict):
            conn.tokens[ext] = answer

    async def websocket(self, conn: Connection, drop: bool) -> None:
        """A WebSocket session: wstoken, connect, subscribe over the socket, a send that it is
        told of (when it arrives in time), then the subscription deleted over the socket and the
        socket closed; or, with `drop`, the socket closed with the subscription alive (the
        session then waits out its recovery timeout on the server, 180 s by default)."""
        ext = self.ext()
        op = "websocket"
        _, token = await self.call(conn, op, "POST", "/restapi/oauth/wstoken", ext)
        if not isinstance(token, dict):
            return
        uri = f"{token['uri']}?access_token={quote(token['ws_access_token'])}"
        try:
            async with asyncio.timeout(self.args.request_timeout):
                async with websockets.connect(uri, max_size=None) as ws:
                    await ws.recv()  # ConnectionDetails
                    message_id = str(uuid.uuid4())
                    request = {"type": "ClientRequest", "messageId": message_id,
                               "method": "POST", "path": "/restapi/v1.0/subscription"}  # fmt: skip
                    body = {
                        "eventFilters": [STORE_FILTER],
                        "deliveryMode": {"transportType": "WebSocket"},
                    }
                    await ws.send(json.dumps([request, body]))
                    while True:
                        frame = json.loads(await ws.recv())
                        meta = frame[0]
                        if meta.get("messageId") == message_id:
                            text = json.dumps(frame).encode()
                            self.tally.record(f"{op}-subscribe", meta["status"], (200,), text)
                            break
                    subscription = None
                    if meta["status"] == 200 and len(frame) > 1:
                        subscription = frame[1]["id"]
                    await self.sms(conn)
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(1):
                            await ws.recv()
                    if subscription is not None and not drop:
                        message_id = str(uuid.uuid4())
                        path = f"/restapi/v1.0/subscription/{subscription}"
                        request = {"type": "ClientRequest", "messageId": message_id,
                                   "method": "DELETE", "path": path}  # fmt: skip
                        await ws.send(json.dumps([request]))
                        while True:
                            frame = json.loads(await ws.recv())
                            if frame[0].get("messageId") == message_id:
                                status, text = frame[0]["status"], json.dumps(frame).encode()
                                self.tally.record(f"{op}-unsubscribe", status, (204,), text)
                                break
        except (OSError, TimeoutError, websockets.WebSocketException) as e:
            self.tally.error(op, e)

    async def webhook(self, conn: Connection) -> None:
        """A WebHook subscription to this process's receiver; the oldest of those alive is
        deleted once more than WEBHOOKS_KEPT are."""
        ext = self.ext()
        body = {
            "eventFilters": [STORE_FILTER],
            "deliveryMode": {
                "transportType": "WebHook",
                "address": f"http://127.0.0.1:{self.receiver_port}/hook",
            },
        }
        path = "/restapi/v1.0/subscription"
        _, answer = await self.call(conn, "webhook-create", "POST", path, ext, body)
        if isinstance(answer, dict):
            self.webhooks.append((ext, str(answer["id"])))
        while len(self.webhooks) > WEBHOOKS_KEPT:
            owner, sub_id = self.webhooks.popleft()
            await self.call(
                conn, "webhook-delete", "DELETE", f"{path}/{sub_id}", owner, expected=(204,)
            )

    # -- the WebHook receiver ---------------------------------------------------------------

    async def start_receiver(self) -> asyncio.Server:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    headers = {}
                    for line in head.split(b"\r\n")[1:]:
                        name, _, value = line.partition(b":")
                        headers[name.strip().lower()] = value.strip()
                    length = int(headers.get(b"content-length", b"0") or 0)
                    if length:
                        await reader.readexactly(length)
                        self.notifications += 1
                    extra = b""
                    if (token := headers.get(b"validation-token")) is not None:
                        extra = b"Validation-Token: " + token + b"\r\n"
                    writer.write(b"HTTP/1.1 200 OK\r\n" + extra + b"Content-Length: 0\r\n\r\n")
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
                pass
            except asyncio.CancelledError:  # the soak is over
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        self.receiver_port = server.sockets[0].getsockname()[1]
        return server


# --- memory ----------------------------------------------------------------------------------


def _status_kib(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) of a process in KiB, None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    rss = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    hwm = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    if rss is None or hwm is None:
        return None
    return int(rss.group(1)), int(hwm.group(1))


def _role(pid: int, root: int) -> str:
    if pid == root:
        return "server"
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"pid {pid}"
    return "delivery" if b"deliver" in words else f"pid {pid}"


class Sampler:
    """Samples (seconds since `t0`, VmRSS, VmHWM) of each process of the server's tree, every
    `interval` seconds, on a thread of its own (the client's event loop does not delay it)."""

    def __init__(self, root: int, interval: float) -> None:
        self.root, self.interval = root, interval
        self.t0 = time.monotonic()
        self.samples: dict[str, list[tuple[float, float, float]]] = {}
        self.pids: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-sampler", daemon=True)

    def sample(self) -> None:
        now = time.monotonic() - self.t0
        for pid in _process_tree(self.root):
            kib = _status_kib(pid)
            if kib is None:
                continue
            role = _role(pid, self.root)
            if self.pids.setdefault(role, pid) != pid:  # restarted: a process of its own
                role = f"{role} (pid {pid})"
                self.pids[role] = pid
            series = self.samples.setdefault(role, [])
            series.append((round(now, 1), round(kib[0] / 1024, 2), round(kib[1] / 1024, 2)))

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.sample()
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def slope_mib_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB), in MiB an hour; 0 with fewer than two points."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_m = sum(m for _, m in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return 0.0
    cov = sum((t - mean_t) * (m - mean_m) for t, m in points)
    return cov / var * 3600


def memory_verdict(
    series: list[tuple[float, float, float]], args: argparse.Namespace
) -> dict[str, Any]:
    """Peak, start, middle and end RSS of one process, the slope over the second half, and
    whether they are within the limits."""
    end_t = series[-1][0]
    mid_t = end_t / 2
    second_half = [(t, rss) for t, rss, _ in series if t >= mid_t]
    mid_rss = min(series, key=lambda s: abs(s[0] - mid_t))[1]
    peak = max(hwm for _, _, hwm in series)
    slope = slope_mib_per_hour(second_half)
    drift = series[-1][1] - mid_rss
    checks = {
        "peak_under_limit": peak < args.max_peak,
        "slope_under_limit": slope < args.max_slope,
        "drift_under_limit": drift < args.max_drift,
    }
    return {
        "peak_mib": peak,
        "start_rss_mib": series[0][1],
        "mid_rss_mib": mid_rss,
        "end_rss_mib": series[-1][1],
        "min_rss_mib": min(rss for _, rss, _ in series),
        "max_rss_mib": max(rss for _, rss, _ in series),
        "slope_mib_per_hour": round(slope, 2),
        "end_minus_mid_mib": round(drift, 2),
        **checks,
        "passed": all(checks.values()),
    }


# --- tracemalloc in the server processes -------------------------------------------------------

_SITECUSTOMIZE = '''
"""Written by bench/soak.py --tracemalloc: traces allocations in this process and writes a
snapshot to $BENCH_TRACEMALLOC_DIR/<label>-<pid>.snap when a file request-<label> appears."""
import os, threading, time, tracemalloc

_DIR = os.environ.get("BENCH_TRACEMALLOC_DIR")
if _DIR:
    tracemalloc.start(int(os.environ.get("BENCH_TRACEMALLOC_FRAMES", "8")))

    def _watch():
        done = set()
        while True:
            time.sleep(0.5)
            try:
                names = os.listdir(_DIR)
            except OSError:
                continue
            for name in names:
                if name.startswith("request-") and name not in done:
                    done.add(name)
                    label = name[len("request-"):]
                    path = os.path.join(_DIR, f"{label}-{os.getpid()}.snap")
                    tracemalloc.take_snapshot().dump(path + ".tmp")
                    os.replace(path + ".tmp", path)

    threading.Thread(target=_watch, name="bench-tracemalloc", daemon=True).start()
'''


class Tracing:
    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "tracemalloc"
        self.dir.mkdir()
        (self.dir / "sitecustomize.py").write_text(_SITECUSTOMIZE)

    def env(self) -> dict[str, str]:
        path = os.pathsep.join(p for p in (str(self.dir), os.environ.get("PYTHONPATH")) if p)
        return {"PYTHONPATH": path, "BENCH_TRACEMALLOC_DIR": str(self.dir)}

    def snapshot(self, label: str, pids: dict[str, int], timeout: float = 120) -> None:
        (self.dir / f"request-{label}").touch()
        deadline = time.monotonic() + timeout
        for pid in pids.values():
            while not (self.dir / f"{label}-{pid}.snap").exists():
                if time.monotonic() > deadline:
                    raise BenchError(f"no tracemalloc snapshot {label} from process {pid}")
                time.sleep(0.2)

    def compare(self, first: str, last: str, pids: dict[str, int], top: int) -> dict[str, Any]:
        import tracemalloc

        result: dict[str, Any] = {}
        ignore = [
            tracemalloc.Filter(False, tracemalloc.__file__),
            tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
            tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
            tracemalloc.Filter(False, "<unknown>"),
        ]
        for role, pid in pids.items():
            paths = [self.dir / f"{label}-{pid}.snap" for label in (first, last)]
            if not all(p.exists() for p in paths):
                continue
            old, new = (tracemalloc.Snapshot.load(str(p)).filter_traces(ignore) for p in paths)
            stats = new.compare_to(old, "traceback")
            total_old = sum(s.size for s in old.statistics("filename"))
            total_new = sum(s.size for s in new.statistics("filename"))
            result[role] = {
                "traced_mib": [round(total_old / 2**20, 2), round(total_new / 2**20, 2)],
                "top_held": [
                    {
                        "size_kib": round(s.size / 1024, 1),
                        "count": s.count,
                        "traceback": [f"{f.filename}:{f.lineno}" for f in s.traceback][-8:],
                    }
                    for s in new.statistics("traceback")[:top]
                ],
                "top_growth": [
                    {
                        "size_diff_kib": round(s.size_diff / 1024, 1),
                        "count_diff": s.count_diff,
                        "traceback": [f"{f.filename}:{f.lineno}" for f in s.traceback][-8:],
                    }
                    for s in stats[:top]
                ],
            }
        return result


# --- the run ---------------------------------------------------------------------------------


def _database(args: argparse.Namespace, workdir: Path) -> str:
    return str(args.database or f"sqlite:///{workdir / 'soak.db'}")


def _server(args: argparse.Namespace, workdir: Path) -> Server:
    port = _free_port()
    database = _database(args, workdir)
    command = [
        sys.executable, "-m", "ringlet", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--database", database, "--fixture", str(FIXTURE),
        "--loop", STACKS[args.stack][0], "--http", STACKS[args.stack][1],
        "--webhook-delivery", args.webhook_delivery,
    ]  # fmt: skip
    return Server("ringlet", command, port, workdir)


def _token(url: str, ext: str) -> dict[str, str]:
    import httpx

    form = {
        "grant_type": "password",
        "username": MAIN_NUMBER,
        "extension": ext,
        "password": EXTENSIONS[ext][0],
    }
    response = httpx.post(f"{url}/restapi/oauth/token", auth=CLIENT_AUTH, data=form, timeout=30)
    if not response.is_success:
        raise BenchError(f"login as {ext}: HTTP {response.status_code}: {response.text[:300]}")
    return dict(response.json())


async def _drive(
    traffic: Traffic, clients: list[Connection], sampler: Sampler, args: argparse.Namespace
) -> None:
    receiver = await traffic.start_receiver()
    try:
        if args.warmup > 0:
            print(f"warm-up: {args.warmup} s of the mixed traffic (not counted)", flush=True)
            await traffic.run(clients, args.warmup)
        traffic.tally.counting = True
        sampler.start()
        if args.tracing is not None:
            await asyncio.to_thread(args.tracing.snapshot, "start", dict(sampler.pids))
        print(
            f"soak: {args.duration} s, {args.concurrency} connections, "
            f"{'at most ' + str(args.rate) + ' requests/s' if args.rate else 'no rate limit'}; "
            f"RSS sampled every {args.sample_interval} s",
            flush=True,
        )
        progress = asyncio.create_task(_progress(traffic, sampler, args))
        try:
            await traffic.run(clients, args.duration)
        finally:
            progress.cancel()
        sampler.stop()
        traffic.tally.counting = False
        if args.tracing is not None:
            await asyncio.to_thread(args.tracing.snapshot, "end", dict(sampler.pids))
    finally:
        receiver.close()


async def _progress(traffic: Traffic, sampler: Sampler, args: argparse.Namespace) -> None:
    every = max(args.duration / 10, args.sample_interval)
    done = 0
    while True:
        await asyncio.sleep(every)
        requests = sum(traffic.tally.statuses.values())
        rate = (requests - done) / every
        done = requests
        memory = "  ".join(
            f"{role} {series[-1][1]:.1f} MiB" for role, series in sampler.samples.items()
        )
        at = time.monotonic() - sampler.t0
        window = traffic.tally.close_window(at)
        slowest = sorted(window.items(), key=lambda item: -item[1][1])[:3]
        print(
            f"  {at:6.0f} s  {rate:6.0f} req/s  {memory}  "
            f"failures {traffic.tally.failures + traffic.tally.transport_errors}  "
            "slowest (mean ms): "
            + ", ".join(f"{kind} {mean:.1f}" for kind, (_, mean, _) in slowest),
            flush=True,
        )


def run(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {k: str(v) for k, v in vars(args).items() if k != "tracing"},
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
    }
    with tempfile.TemporaryDirectory(prefix="ringlet-soak-") as tmp, _servers() as started:
        workdir = Path(tmp)
        args.tracing = Tracing(workdir) if args.tracemalloc else None
        start = time.monotonic()
        if args.seed == "import":
            print(f"seeding: {args.messages:,} messages imported into 102's store ...", flush=True)
            import_store(_database(args, workdir), workdir, args.messages)
        ringlet = _server(args, workdir)
        started.append(ringlet)
        print(f"starting ringlet on {ringlet.url} (log {ringlet.log_path})", flush=True)
        env = dict(item.split("=", 1) for item in args.server_env)
        ringlet.start({**env, **(args.tracing.env() if args.tracing else {})})
        ringlet.wait_ready("/_ringlet/health", timeout=60)
        assert ringlet.proc is not None

        if args.seed == "api":
            print(f"seeding: {args.messages:,} SMS between 101 and 102 ...", flush=True)
        seed_tokens = {ext: login(ringlet.url, ext) for ext in EXTENSIONS}
        seed_store(ringlet.port, seed_tokens, args.messages, args)
        seconds = time.monotonic() - start
        print(f"seeding took {seconds:.1f} s", flush=True)
        report["seeding"] = {"messages": args.messages, "seconds": round(seconds, 1)}

        clients = [
            Connection(ringlet.port, {ext: _token(ringlet.url, ext) for ext in EXTENSIONS})
            for _ in range(args.concurrency + 1)  # the workers, and the churn
        ]
        traffic = Traffic(ringlet.url, ringlet.port, args)
        sampler = Sampler(ringlet.proc.pid, args.sample_interval)
        asyncio.run(_drive(traffic, clients, sampler, args))
        if ringlet.proc.poll() is not None:
            raise BenchError(f"ringlet exited during the soak:\n{ringlet.log_tail()}")

        tally = traffic.tally
        requests = sum(tally.statuses.values())
        report["traffic"] = {
            "requests": requests,
            "requests_per_s": round(requests / args.duration, 1),
            "by_status": {str(k): v for k, v in sorted(tally.statuses.items())},
            "by_operation": dict(sorted(tally.counts.items())),
            "server_errors": sum(v for k, v in tally.statuses.items() if k >= 500),
            "unexpected_statuses": tally.failures,
            "transport_errors": tally.transport_errors,
            "first_failures": tally.first_failures,
            "webhook_notifications_received": traffic.notifications,
            "latency_timeline": tally.timeline,
        }
        report["memory"] = {
            role: memory_verdict(series, args) for role, series in sampler.samples.items()
        }
        report["samples"] = sampler.samples
        if args.tracing is not None:
            report["tracemalloc"] = args.tracing.compare(
                "start", "end", dict(sampler.pids), args.tracemalloc_top
            )
        report["log_tail"] = ringlet.log_tail(20)
    clean = not (tally.failures or tally.transport_errors)
    report["passed"] = clean and all(m["passed"] for m in report["memory"].values())
    return report


def print_report(report: dict[str, Any], args: argparse.Namespace) -> None:
    traffic = report["traffic"]
    print(
        f"\n{traffic['requests']:,} requests ({traffic['requests_per_s']:,.1f}/s) over "
        f"{args.duration} s with {args.messages:,} seeded messages"
    )
    print("by status: " + ", ".join(f"{k}: {v:,}" for k, v in traffic["by_status"].items()))
    print(
        f"5xx: {traffic['server_errors']}   unexpected statuses: {traffic['unexpected_statuses']}"
        f"   transport errors: {traffic['transport_errors']}   WebHook notifications received: "
        f"{traffic['webhook_notifications_received']:,}"
    )
    for line in traffic["first_failures"][:5]:
        print(f"  {line}")
    timeline = traffic["latency_timeline"]
    if len(timeline) >= 2:
        first, last = timeline[0]["by_kind"], timeline[-1]["by_kind"]
        print("\nlatency by request, mean ms: first tenth -> last tenth (p95)")
        for kind in sorted(set(first) & set(last), key=lambda k: -last[k][1]):
            print(
                f"  {kind:<44}{first[kind][1]:>9.1f} -> {last[kind][1]:>7.1f}"
                f"   ({first[kind][2]:.1f} -> {last[kind][2]:.1f})"
            )
    columns = ("peak", "start", "mid", "end", "slope MiB/h", "end-mid", "")
    header = f"{'process':<12}" + "".join(f"{c:>12}" for c in columns)
    print("\nRSS in MiB (peak: VmHWM over the process's life, seeding included)")
    print(header + "\n" + "-" * len(header))
    for role, m in report["memory"].items():
        print(
            f"{role:<12}{m['peak_mib']:>12.1f}{m['start_rss_mib']:>12.1f}{m['mid_rss_mib']:>12.1f}"
            f"{m['end_rss_mib']:>12.1f}{m['slope_mib_per_hour']:>12.2f}"
            f"{m['end_minus_mid_mib']:>12.2f}{'PASS' if m['passed'] else 'FAIL':>12}"
        )
    print(
        f"limits: peak < {args.max_peak} MiB, slope (second half) < {args.max_slope} MiB/h, "
        f"end - mid < {args.max_drift} MiB"
    )
    if args.duration < 1800:
        print(
            "note: under half an hour the slope is mostly noise and warm-up; the figures are "
            "indicative only"
        )
    for role, traced in report.get("tracemalloc", {}).items():
        before, after = traced["traced_mib"]
        print(f"\ntracemalloc, {role}: traced {before} -> {after} MiB; held most at the end:")
        for stat in traced["top_held"]:
            print(
                f"  {stat['size_kib']:10.1f} KiB {stat['count']:8d} blocks  {stat['traceback'][-1]}"
            )
            for frame in reversed(stat["traceback"][:-1][-3:]):
                print(f"{'':>34}{frame}")
        print("grew most:")
        for stat in traced["top_growth"]:
            print(
                f"  {stat['size_diff_kib']:+10.1f} KiB {stat['count_diff']:+8d} blocks  "
                f"{stat['traceback'][-1]}"
            )
            for frame in reversed(stat["traceback"][:-1][-3:]):
                print(f"{'':>34}{frame}")
    print(f"\n{'PASS' if report['passed'] else 'FAIL'}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description="Memory soak of ringlet under a mixed traffic (bench/README.md).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--duration", type=int, default=3600, help="seconds of soak (after the warm-up)")
    add("--messages", type=int, default=100_000, help="messages seeded before the soak")
    add("--warmup", type=int, default=60, help="seconds of traffic before the soak, not counted")
    add("--concurrency", type=int, default=8, help="connections driving the traffic")
    add("--rate", type=int, default=200, help="at most this many requests/s in all (0: no limit)")
    add("--sample-interval", type=float, default=5.0, help="seconds between RSS samples")
    add(
        "--churn-interval",
        type=float,
        default=5.0,
        help="seconds between WebSocket sessions / WebHook subscriptions made and ended (0: none)",
    )
    add("--request-timeout", type=float, default=30.0, help="seconds before a request fails")
    add("--max-peak", type=float, default=150.0, help="PASS: each process's peak RSS under this")
    add("--max-slope", type=float, default=5.0, help="PASS: RSS slope, second half, MiB/h")
    add("--max-drift", type=float, default=3.0, help="PASS: end RSS minus midpoint RSS, MiB")
    add("--database", default=None, help="a PostgreSQL URL (an empty database) instead of SQLite")
    add("--stack", choices=sorted(STACKS), default="auto")
    add("--webhook-delivery", choices=("inline", "process"), default="process")
    add(
        "--seed",
        choices=("import", "api"),
        default="import",
        help="how the store is filled: `ringlet import-messages` before the start (102's store "
        "holds --messages), or sends through the API (101's and 102's hold --messages each)",
    )
    add("--seed-concurrency", type=int, default=16, help="--seed api: concurrent sends")
    add("--seed-timeout", type=int, default=7200, help="give up seeding after this many seconds")
    add(
        "--tracemalloc",
        action="store_true",
        help="trace the servers' allocations and print what grew (RSS figures then inflated)",
    )
    add("--tracemalloc-top", type=int, default=15, help="allocation sites shown per process")
    add(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the server processes (repeatable), e.g. "
        "MALLOC_ARENA_MAX=2",
    )
    add("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSON results")
    args = parser.parse_args(argv)
    if min(args.duration, args.concurrency) < 1 or args.messages < 0 or args.warmup < 0:
        parser.error("--duration and --concurrency must be >= 1, --messages and --warmup >= 0")
    if any("=" not in item for item in args.server_env):
        parser.error("--server-env takes NAME=VALUE")
    if args.sample_interval <= 0 or args.rate < 0:
        parser.error("--sample-interval must be > 0 and --rate >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_and_report(lambda: run(args), lambda report: print_report(report, args), args.output)


if __name__ == "__main__":
    sys.exit(main())
