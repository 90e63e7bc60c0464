"""Notification benchmark: `python -m bench.notifications`.

In one run, on one machine, against the fixed reference of bench/run.py (the bare Starlette app):

1. Latency of a WebHook notification: sequential SMS sends 102 -> 101, each timed from the
   send's 200 (as the client sees it) to the moment the receiver gets the POST for 101's store.
   p50 and p99 over `--sends` sends, on an otherwise idle server.
2. Send throughput with 0, 10 and 100 WebHook subscriptions on the recipient's (101's) store:
   wrk drives the send scenario of bench/run.py; the reference is measured in the same rounds.
   After each round the receiver is given time to hear of every message the round's sends
   made, from every subscriber (sends x subscribers new messages announced; the seconds it
   took are printed as the backlog's drain), so that one round's backlog does not run into the
   next measurement. With `--webhook-delivery
   process` the POSTs run in a delivery process at a lower CPU priority: on a machine whose
   cores the sends keep busy, notifications then lag behind the sends, and the drain says by
   how much.

The receiver is a minimal asyncio HTTP server in a process of its own at nice 10
(`--receiver-nice`; it stands for receivers on other machines; it echoes Validation-Token and
answers 200 with no body). Each throughput level also reports the CPU milliseconds per send
of the server process, the delivery process and the receiver. 100 subscriptions need 5 apps
(20 per user and app): the fixture is bench/fixture.yaml plus apps bench-app-1..5.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.run import (
    EXTENSIONS,
    FIXTURE,
    MAIN_NUMBER,
    SCENARIOS,
    STACKS,
    BenchError,
    Server,
    _free_port,
    _process_tree,
    _servers,
    _uvicorn,
    check,
    percentile,
    run_wrk,
    summarize,
)

STORE_FILTER = "/restapi/v1.0/account/~/extension/~/message-store"
APPS = [(f"bench-app-{i}", f"bench-secret-{i}") for i in range(1, 6)]
LEVELS = (0, 10, 100)


class Receiver:
    """Counts the new messages that notifications announce and remembers when each arrived
    (perf_counter, which on Linux is one clock for every process). Messages, not POSTs: the
    changes of one store committed together (one group commit of the writer) are one event, and
    a subscriber that is behind gets what is pending for it as one notification.

    It runs in a process of its own at CPU priority `nice`: on this one machine it stands for
    receivers that live on other machines, so it should not take the server's cores from it
    any more than the delivery process (nice 10) does. The arrivals come back over a pipe."""

    def __init__(self, nice: int) -> None:
        self.arrivals: list[float] = []
        self.cond = threading.Condition()
        self.port = _free_port()
        self.nice = nice
        ours, theirs = multiprocessing.Pipe(duplex=False)
        self._pipe = ours
        self._process = multiprocessing.get_context("fork").Process(
            target=_receive, args=(self.port, nice, theirs), daemon=True
        )
        self._reader = threading.Thread(target=self._read, daemon=True)

    def start(self) -> None:
        self._process.start()
        self._reader.start()
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise BenchError("receiver did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        self._process.kill()
        self._process.join(5)

    def cpu_seconds(self) -> float:
        assert self._process.pid is not None
        return _cpu_seconds([self._process.pid])

    def _read(self) -> None:
        with contextlib.suppress(EOFError, OSError):
            while True:
                batch = self._pipe.recv()
                with self.cond:
                    self.arrivals.extend(batch)
                    self.cond.notify_all()

    def count(self) -> int:
        with self.cond:
            return len(self.arrivals)

    def wait_count(self, count: int, timeout: float) -> float:
        """The arrival time of the `count`-th new message."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.arrivals) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BenchError(f"new message {count} was not announced in {timeout} s")
                self.cond.wait(left)
            return self.arrivals[count - 1]


def _receive(port: int, nice: int, pipe: Any) -> None:
    """The receiver process: echoes Validation-Token, answers 200 with no body, and sends the
    arrival time of each new message announced back, in batches every few milliseconds."""
    os.nice(nice)
    pending: list[float] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get(b"content-length", b"0") or 0)
                body = await reader.readexactly(length) if length else b""
                token = headers.get(b"validation-token")
                extra = b""
                if token is not None and not body:
                    extra = b"Validation-Token: " + token + b"\r\n"
                elif body:
                    now = time.perf_counter()
                    pending.extend([now] * _new_messages(body))
                writer.write(b"HTTP/1.1 200 OK\r\n" + extra + b"Content-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def report() -> None:
        while True:
            await asyncio.sleep(0.002)
            if pending:
                pipe.send(pending[:])
                pending.clear()

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=1024)
        reporting = asyncio.create_task(report())
        async with server:
            await server.serve_forever()
        reporting.cancel()

    asyncio.run(main())


def _cpu_split(ringlet: Server, receiver: Receiver) -> dict[str, float]:
    """CPU seconds so far of the server process, its delivery process (and any other
    descendant), and the receiver."""
    assert ringlet.proc is not None
    tree = _process_tree(ringlet.proc.pid)
    return {
        "server": _cpu_seconds(tree[:1]),
        "delivery": _cpu_seconds(tree[1:]),
        "receiver": receiver.cpu_seconds(),
    }


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _new_messages(body: bytes) -> int:
    """How many new messages a message-store notification announces."""
    changes = json.loads(body)["body"]["changes"]
    return sum(len(change.get("newMessageIds") or ()) for change in changes)


def _fixture(workdir: Path) -> Path:
    document = yaml.safe_load(FIXTURE.read_text())
    for client_id, secret in APPS:
        document["apps"].append({"clientId": client_id, "clientSecret": secret, "name": client_id})
    path = workdir / "fixture.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _login(url: str, extension: str, client: tuple[str, str]) -> str:
    form = {
        "grant_type": "password",
        "username": MAIN_NUMBER,
        "extension": extension,
        "password": EXTENSIONS[extension][0],
    }
    response = httpx.post(f"{url}/restapi/oauth/token", auth=client, data=form, timeout=30)
    if not response.is_success:
        raise BenchError(f"login: {response.status_code} {response.text[:300]}")
    return str(response.json()["access_token"])


def subscribe(url: str, token: str, address: str) -> str:
    """A WebHook subscription of `token`'s extension to its own message store; its id."""
    response = httpx.post(
        f"{url}/restapi/v1.0/subscription",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "eventFilters": [STORE_FILTER],
            "deliveryMode": {"transportType": "WebHook", "address": address},
        },
        timeout=30,
    )
    if not response.is_success:
        raise BenchError(f"subscribe: {response.status_code} {response.text[:300]}")
    return str(response.json()["id"])


def _drain(receiver: Receiver, expected: int, timeout: float) -> float:
    """Seconds until the receiver has been told of `expected` new messages (the backlog's
    drain)."""
    start = time.monotonic()
    if expected > 0:
        receiver.wait_count(expected, timeout)
    return round(time.monotonic() - start, 1)


def measure_latency(url: str, receiver: Receiver, sends: int) -> dict[str, Any]:
    token101 = _login(url, "101", ("demo-app", "demo-secret"))
    token102 = _login(url, "102", ("demo-app", "demo-secret"))
    sub_id = subscribe(url, token101, f"http://127.0.0.1:{receiver.port}/latency")
    scenario = SCENARIOS["send"]
    latencies = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token102}"}) as client:
        for _ in range(10):  # warm-up
            before = receiver.count()
            client.post(
                scenario.path, content=scenario.body, headers={"Content-Type": "application/json"}
            )
            receiver.wait_count(before + 1, 10)
        for _ in range(sends):
            before = receiver.count()
            response = client.post(
                scenario.path, content=scenario.body, headers={"Content-Type": "application/json"}
            )
            acknowledged = time.perf_counter()
            if response.status_code != 200:
                raise BenchError(f"send: {response.status_code}")
            arrived = receiver.wait_count(before + 1, 10)
            latencies.append(max(0.0, arrived - acknowledged) * 1000)
            time.sleep(0.005)  # an idle server between sends
    httpx.delete(
        f"{url}/restapi/v1.0/subscription/{sub_id}",
        headers={"Authorization": f"Bearer {token101}"},
        timeout=30,
    )
    return {
        "sends": sends,
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {"options": {k: str(v) for k, v in vars(args).items()}}
    with (
        tempfile.TemporaryDirectory(prefix="ringlet-notify-bench-") as tmp,
        _servers() as started,
        contextlib.ExitStack() as stack,
    ):
        workdir = Path(tmp)
        port = _free_port()
        database = args.database or f"sqlite:///{workdir / 'bench.db'}"
        command = [
            sys.executable, "-m", "ringlet", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--database", database, "--fixture", str(_fixture(workdir)),
            "--loop", STACKS[args.stack][0], "--http", STACKS[args.stack][1],
            "--webhook-delivery", args.webhook_delivery,
        ]  # fmt: skip
        ringlet = Server("ringlet", command, port, workdir)
        started.append(ringlet)
        ringlet.start()
        ringlet.wait_ready("/_ringlet/health", timeout=60)
        receiver = Receiver(args.receiver_nice)
        receiver.start()
        stack.callback(receiver.stop)

        print(
            f"latency: {args.sends} sequential sends 102 -> 101, one WebHook subscriber", flush=True
        )
        report["latency"] = measure_latency(ringlet.url, receiver, args.sends)
        print(f"  send 200 -> receiver: {report['latency']}", flush=True)

        token102 = _login(ringlet.url, "102", ("demo-app", "demo-secret"))
        (workdir / "send.json").write_bytes(
            check(ringlet.url, SCENARIOS["send"], token102, "ringlet")
        )
        ref_port = _free_port()
        reference = Server(
            "reference", _uvicorn("reference_app:app", ref_port, args.stack), ref_port, workdir
        )
        started.append(reference)
        reference.start(
            {"BENCH_SEND_RESPONSE": str(workdir / "send.json"), "BENCH_LIST_RESPONSE": ""}
        )
        reference.wait_ready(SCENARIOS["list"].path, timeout=30)

        tokens101 = [_login(ringlet.url, "101", app) for app in APPS]
        subscribed = 0
        results: dict[str, Any] = {}
        wrk_args = argparse.Namespace(
            threads=args.threads, connections=args.connections, timeout=30
        )
        scenario = SCENARIOS["send"]
        reference_rounds = []
        for level in LEVELS:
            while subscribed < level:
                subscribe(
                    ringlet.url,
                    tokens101[subscribed // 20],
                    f"http://127.0.0.1:{receiver.port}/hook/{subscribed}",
                )
                subscribed += 1
            before = receiver.count()
            warm = run_wrk(ringlet.url, scenario, token102, args.warmup, wrk_args)
            expected = before + warm.requests * level
            _drain(receiver, expected, args.drain_timeout)
            rounds = []
            drains = []
            cpu_before = _cpu_split(ringlet, receiver)
            for _ in range(args.rounds):
                reference_rounds.append(
                    run_wrk(reference.url, scenario, token102, args.duration, wrk_args)
                )
                before = receiver.count()
                timed = run_wrk(ringlet.url, scenario, token102, args.duration, wrk_args)
                rounds.append(timed)
                # Every send of the round notifies each subscriber once.
                expected = max(expected, before) + timed.requests * level
                drains.append(_drain(receiver, expected, args.drain_timeout))
            cpu_after = _cpu_split(ringlet, receiver)
            summary = summarize(rounds)
            del summary["rounds"]
            summary["backlog_drain_s"] = drains
            sends = sum(r.requests for r in rounds)
            # CPU per send, timed rounds and their drains: where the machine's time went.
            summary["cpu_ms_per_send"] = {
                name: round((cpu_after[name] - cpu_before[name]) * 1000 / max(sends, 1), 3)
                for name in cpu_after
            }
            results[str(level)] = summary
            print(
                f"  {level:>3} subscribers: {summary['requests_per_s']:8.1f} sends/s  "
                f"p50 {summary['p50_ms']:.2f} ms  p99 {summary['p99_ms']:.2f} ms  "
                f"(the backlog of each round took {drains} s; CPU ms per send "
                f"{summary['cpu_ms_per_send']})",
                flush=True,
            )
        ref = summarize(reference_rounds)
        del ref["rounds"]
        base = results["0"]["requests_per_s"]
        report["throughput"] = {
            "reference": ref,
            "ringlet": results,
            "cost_of_subscribers": {
                k: round(1 - v["requests_per_s"] / base, 3) for k, v in results.items()
            },
            "ratio_to_reference": {
                k: round(v["requests_per_s"] / ref["requests_per_s"], 3) for k, v in results.items()
            },
        }
        report["new_messages_announced"] = receiver.count()
        print(f"  reference: {ref['requests_per_s']:8.1f} req/s", flush=True)
        print(f"  cost of subscribers: {report['throughput']['cost_of_subscribers']}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.notifications", description=__doc__)
    add = parser.add_argument
    add("--sends", type=int, default=300, help="sequential sends timed for latency")
    add("--rounds", type=int, default=2)
    add("--duration", type=int, default=8, help="seconds per wrk run")
    add("--warmup", type=int, default=2)
    add("--connections", type=int, default=16)
    add("--threads", type=int, default=2)
    add("--stack", choices=sorted(STACKS), default="auto")
    add(
        "--webhook-delivery",
        choices=("inline", "process"),
        default="process",
        help="ringlet's --webhook-delivery (process: a delivery process at a lower priority)",
    )
    add(
        "--receiver-nice",
        type=int,
        default=10,
        help="CPU priority of the receiver's process (it stands for other machines)",
    )
    add("--drain-timeout", type=float, default=900, help="seconds to wait for a backlog")
    add("--database", default=None, help="a PostgreSQL URL instead of a fresh SQLite file")
    add("--output", type=Path, default=Path(__file__).parent / "results" / "notifications.json")
    args = parser.parse_args(argv)
    try:
        report = run(args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
