"""ringlet performance benchmark: ringlet on SQLite against a bare Starlette reference, under wrk.

Run from the repository root:  python -m bench [options]   (see bench/README.md)
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import itertools
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.busy import measure_busy

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
LUA_SCRIPT = BENCH_DIR / "request.lua"
FIXTURE = BENCH_DIR / "fixture.yaml"
DEFAULT_OUTPUT = BENCH_DIR / "results" / "latest.json"

CLIENT_AUTH = ("demo-app", "demo-secret")
MAIN_NUMBER = "+16509100000"
EXTENSIONS = {"101": ("Operator-101!", "+16509100010"), "102": ("Bob-102!", "+16509100020")}
TEXT = "Hello from the benchmark"
EXTENSION_PATH = "/restapi/v1.0/account/~/extension/~"
# uvicorn options of the reference: those `ringlet serve` runs with (uvicorn.run in ringlet/cli.py:
# one worker, loop/http auto, access_log=False, server_header=False). Keep the two in step.
UVICORN_OPTIONS = ["--workers", "1", "--no-access-log", "--no-server-header"]
# --stack: the event loop and HTTP implementation both targets run on. `auto` takes uvloop and
# httptools (installed with uvicorn[standard]); `plain` is uvicorn without them (asyncio, h11),
# what a bare `pip install uvicorn` runs.
STACKS = {"auto": ("auto", "auto"), "plain": ("asyncio", "h11")}


class BenchError(Exception):
    """A failure that makes the run meaningless; reported without a traceback."""


def _sms_body(sender: str, recipient: str) -> dict[str, Any]:
    return {"from": {"phoneNumber": sender}, "to": [{"phoneNumber": recipient}], "text": TEXT}


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str
    body: str  # empty for GET
    target: float  # minimum ringlet/reference throughput ratio set by the issue
    description: str


SCENARIOS = {
    "list": Scenario(
        "list",
        "GET",
        f"{EXTENSION_PATH}/message-store?perPage=100",
        "",
        0.25,
        "100 newest messages of an extension that holds --messages messages",
    ),
    "send": Scenario(
        "send",
        "POST",
        f"{EXTENSION_PATH}/sms",
        json.dumps(_sms_body(EXTENSIONS["102"][1], EXTENSIONS["101"][1]), separators=(",", ":")),
        0.40,
        "SMS from extension 102 to extension 101 on the same server (two records per send)",
    ),
}


# --- processes -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


class Server:
    """A server process in its own process group, so that stopping it stops all it started."""

    def __init__(self, name: str, command: list[str], port: int, workdir: Path) -> None:
        self.name, self.command, self.port = name, command, port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, env: Mapping[str, str] | None = None) -> None:
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO_DIR,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return "\n".join(f"    | {line}" for line in text)

    def wait_ready(self, path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=2) as client:
            while time.monotonic() < deadline:
                if self.proc is None or self.proc.poll() is not None:
                    raise BenchError(f"{self.name} exited during start-up:\n{self.log_tail()}")
                try:
                    if client.get(path).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise BenchError(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def peak_rss_mib(self) -> float:
        """Sum of VmHWM (peak resident set) over the process and its descendants, in MiB."""
        if self.proc is None:
            return 0.0
        total_kib = 0
        for pid in _process_tree(self.proc.pid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
            total_kib += int(match.group(1)) if match else 0
        return round(total_kib / 1024, 1)

    def stop(self) -> None:
        if self.proc is None:
            return
        for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(grace)
                break
            except subprocess.TimeoutExpired:
                continue


@contextmanager
def _servers() -> Iterator[list[Server]]:
    """Stops every server put in the list, on success, error, Ctrl-C or SIGTERM."""
    started: list[Server] = []

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield started
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the cleanup
        for server in started:
            server.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, previous)


# --- HTTP: login, checks, seeding ------------------------------------------------------------


def _require_2xx(response: httpx.Response, what: str) -> httpx.Response:
    if not response.is_success:
        raise BenchError(f"{what}: HTTP {response.status_code}: {response.text[:500]}")
    return response


def login(base_url: str, extension: str) -> str:
    form = {
        "grant_type": "password",
        "username": MAIN_NUMBER,
        "extension": extension,
        "password": EXTENSIONS[extension][0],
    }
    response = httpx.post(
        f"{base_url}/restapi/oauth/token", auth=CLIENT_AUTH, data=form, timeout=30
    )
    return str(_require_2xx(response, f"login as extension {extension}").json()["access_token"])


def check(base_url: str, scenario: Scenario, token: str, what: str) -> bytes:
    """One request of the scenario; fails loudly unless 2xx. Returns the response body."""
    response = httpx.request(
        scenario.method,
        base_url + scenario.path,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        content=scenario.body.encode() or None,
        timeout=60,
    )
    return _require_2xx(response, f"{what}: {scenario.method} {scenario.path}").content


def _sms_request(port: int, token: str, sender: str, recipient: str) -> bytes:
    body = json.dumps(_sms_body(sender, recipient), separators=(",", ":")).encode()
    head = (
        f"POST {EXTENSION_PATH}/sms HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes, bool]:
    """One HTTP/1.1 request on a kept-alive connection: (status, body, server keeps it open)."""
    writer.write(request)
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    fields = (line.partition(":") for line in head[1:] if line)
    headers = {name.strip().lower(): value.strip().lower() for name, _, value in fields}
    if "content-length" not in headers:
        raise BenchError(f"seeding: response without Content-Length: {head}")
    body = await reader.readexactly(int(headers["content-length"]))
    return int(head[0].split()[1]), body, headers.get("connection") != "close"


async def _seed(port: int, tokens: Mapping[str, str], sends: int, concurrency: int) -> None:
    """`sends` SMS alternating 101 -> 102 and 102 -> 101, `concurrency` at a time.

    Plain HTTP/1.1 over asyncio streams, one kept-alive connection per worker: several times
    faster than httpx here, so that seeding measures the server rather than the client.
    """
    requests = [
        _sms_request(port, tokens[a], EXTENSIONS[a][1], EXTENSIONS[b][1])
        for a, b in (("101", "102"), ("102", "101"))
    ]
    counter = itertools.count()
    step = max(sends // 10, 1)
    start = time.monotonic()

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while (i := next(counter)) < sends:
                status, body, keep_alive = await _exchange(reader, writer, requests[i % 2])
                if not 200 <= status < 300:
                    raise BenchError(f"seeding send {i}: HTTP {status}: {body[:500]!r}")
                if not keep_alive:
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                if (i + 1) % step == 0:
                    rate = (i + 1) / (time.monotonic() - start)
                    print(f"  seeded {i + 1:,}/{sends:,} sends ({rate:,.0f}/s)", flush=True)
        finally:
            writer.close()

    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())


def seed(port: int, tokens: Mapping[str, str], sends: int, args: argparse.Namespace) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(args.seed_timeout):
            await _seed(port, tokens, sends, args.seed_concurrency)

    try:
        asyncio.run(bounded())
    except TimeoutError:
        raise BenchError(f"seeding not done within --seed-timeout {args.seed_timeout} s") from None
    except ExceptionGroup as group:
        raise group.exceptions[0] from None


# --- wrk -------------------------------------------------------------------------------------

_TIME_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


@dataclass
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int  # wrk's "Non-2xx or 3xx responses" (status >= 400)
    socket_errors: int  # connect + read + write + timeout
    output: str

    @property
    def valid(self) -> bool:
        no_errors = self.non_2xx == 0 and self.socket_errors == 0
        return no_errors and self.requests > 0 and not math.isnan(self.p99_ms)


def parse_wrk(output: str) -> WrkResult:
    def number(pattern: str) -> float:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise BenchError(f"unexpected wrk output (no {pattern!r}):\n{output}")
        return float(match.group(1))

    def percentile(p: int) -> float:
        match = re.search(rf"^\s*{p}%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
        return float(match.group(1)) * _TIME_UNITS[match.group(2)] if match else float("nan")

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests_per_s=number(r"^Requests/sec:\s+([\d.]+)"),
        p50_ms=percentile(50),
        p99_ms=percentile(99),
        requests=int(number(r"^\s*(\d+) requests in ")),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
        output=output,
    )


def percentile(values: list[float], p: float) -> float:
    """The `p`th percentile (0-100) of `values`, nearest rank: the benchmarks' own timings."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def run_wrk(
    url: str, scenario: Scenario, token: str, seconds: int, args: argparse.Namespace
) -> WrkResult:
    command = [
        "wrk",
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={seconds}s",
        f"--timeout={args.timeout}s",
        "--latency",
        f"--script={LUA_SCRIPT}",
        url + scenario.path,
    ]
    env = {
        **os.environ,
        "BENCH_METHOD": scenario.method,
        "BENCH_TOKEN": token,
        "BENCH_BODY": scenario.body,
    }
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=seconds + args.timeout + 30
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"wrk did not finish: {' '.join(command)}") from None
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def _describe(result: WrkResult) -> str:
    errors = f"  non-2xx {result.non_2xx}  socket errors {result.socket_errors}"
    return (
        f"{result.requests_per_s:9,.1f} req/s  "
        f"p50 {result.p50_ms:8.2f} ms  p99 {result.p99_ms:8.2f} ms"
        + (errors if not result.valid else "")
    )


def measure(
    scenario: Scenario, targets: Mapping[str, Server], token: str, args: argparse.Namespace
) -> dict[str, list[WrkResult]]:
    """Warm-up of each target, then `rounds` timed runs alternating the targets."""
    for name, server in targets.items():
        if args.warmup > 0:
            warm = run_wrk(server.url, scenario, token, args.warmup, args)
            print(f"  warm-up   {name:<9} {_describe(warm)}", flush=True)
    rounds: dict[str, list[WrkResult]] = {name: [] for name in targets}
    for round_number in range(1, args.rounds + 1):
        for name, server in targets.items():
            result = run_wrk(server.url, scenario, token, args.duration, args)
            rounds[name].append(result)
            print(f"  round {round_number}/{args.rounds} {name:<9} {_describe(result)}", flush=True)
    return rounds


def summarize(results: list[WrkResult]) -> dict[str, Any]:
    return {
        "requests_per_s": round(statistics.median(r.requests_per_s for r in results), 1),
        "p50_ms": round(statistics.median(r.p50_ms for r in results), 3),
        "p99_ms": round(statistics.median(r.p99_ms for r in results), 3),
        "non_2xx": sum(r.non_2xx for r in results),
        "socket_errors": sum(r.socket_errors for r in results),
        "rounds": [asdict(r) for r in results],
    }


# --- the run ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark ringlet (SQLite) against a bare Starlette reference with wrk.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--rounds", type=int, default=3, help="timed runs per target, alternating the targets")
    add("--duration", type=int, default=10, help="seconds per timed run")
    add(
        "--warmup", type=int, default=2, help="seconds of warm-up per target and scenario (0: none)"
    )
    add("--connections", type=int, default=64, help="wrk connections (concurrency)")
    add("--threads", type=int, default=2, help="wrk threads")
    add("--timeout", type=int, default=30, help="wrk per-request timeout, seconds")
    add(
        "--scenarios",
        default="send,list,busy",
        help="comma-separated subset of: send, list, busy (health probes during a flood)",
    )
    add(
        "--busy-connections",
        type=int,
        default=1024,
        help="busy: connections wrk keeps busy with sends while the probes run",
    )
    add("--busy-probes", type=int, default=20, help="busy: health probes, each on a new connection")
    add("--busy-interval", type=float, default=0.5, help="busy: seconds between probes")
    add("--messages", type=int, default=100_000, help="messages in the listed extension's store")
    add("--seed-concurrency", type=int, default=16, help="concurrent sends while seeding")
    add("--seed-timeout", type=int, default=1800, help="give up seeding after this many seconds")
    add(
        "--workers",
        type=int,
        default=1,
        help="ringlet server processes (ringlet serve --workers); the reference keeps one",
    )
    add(
        "--stack",
        choices=sorted(STACKS),
        default="auto",
        help="event loop and HTTP implementation of both targets: auto (uvloop and httptools "
        "when installed) or plain (asyncio and h11, uvicorn without its extras)",
    )
    add("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSON results")
    add(
        "--self-test",
        action="store_true",
        help="check the harness: use the in-memory bench/selftest_server.py instead of ringlet",
    )
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    if not names or any(name not in (*SCENARIOS, "busy") for name in names):
        parser.error(f"--scenarios: choose from {', '.join(SCENARIOS)}, busy")
    args.busy = "busy" in names
    # The list is measured first, while the extension holds exactly --messages messages.
    args.scenario_list = [SCENARIOS[name] for name in SCENARIOS if name in names]
    if min(args.busy_connections, args.busy_probes) < args.threads or args.busy_interval < 0:
        parser.error("--busy-connections and --busy-probes must be at least --threads")
    if min(args.rounds, args.duration, args.connections, args.threads, args.messages) < 1:
        parser.error("--rounds, --duration, --connections, --threads and --messages must be >= 1")
    if args.workers < 1:
        parser.error("--workers must be >= 1")
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads")
    return args


def _uvicorn(app: str, port: int, stack: str) -> list[str]:
    loop, http = STACKS[stack]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--app-dir",
        str(BENCH_DIR),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *UVICORN_OPTIONS,
        "--loop",
        loop,
        "--http",
        http,
    ]


def _ringlet_server(args: argparse.Namespace, workdir: Path) -> Server:
    port = _free_port()
    if args.self_test:
        return Server("ringlet", _uvicorn("selftest_server:app", port, args.stack), port, workdir)
    command = [
        sys.executable,
        "-m",
        "ringlet",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--database",
        f"sqlite:///{workdir / 'bench.db'}",
        "--fixture",
        str(FIXTURE),
        "--workers",
        str(args.workers),
        "--loop",
        STACKS[args.stack][0],
        "--http",
        STACKS[args.stack][1],
    ]
    return Server("ringlet", command, port, workdir)


def _wrk_version() -> str:
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10)
    return (
        (done.stdout or done.stderr).splitlines()[0].strip() if (done.stdout or done.stderr) else ""
    )


def _preflight(args: argparse.Namespace) -> None:
    if shutil.which("wrk") is None:
        raise BenchError(
            "wrk (the HTTP load generator) is not installed. Install it, then run again:\n"
            "    Debian/Ubuntu:  sudo apt-get install wrk\n"
            "    macOS:          brew install wrk\n"
            "    other:          https://github.com/wg/wrk (build from source)"
        )
    if not args.self_test and importlib.util.find_spec("ringlet") is None:
        raise BenchError(
            f"the ringlet package is not importable by {sys.executable}; "
            "install it first (pip install -e .) or use --self-test to check the harness only"
        )


def run(args: argparse.Namespace) -> dict[str, Any]:
    _preflight(args)
    report: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "self_test": args.self_test,
        "options": {
            k: str(v) for k, v in vars(args).items() if k not in ("scenario_list", "self_test")
        },
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "wrk": _wrk_version(),
        },
        "scenarios": {},
    }
    with tempfile.TemporaryDirectory(prefix="ringlet-bench-") as tmp, _servers() as started:
        workdir = Path(tmp)
        ringlet = _ringlet_server(args, workdir)
        started.append(ringlet)
        print(
            f"starting ringlet on {ringlet.url} ({args.workers} worker process(es), "
            f"database {workdir / 'bench.db'})",
            flush=True,
        )
        ringlet.start()
        ringlet.wait_ready("/_ringlet/health", timeout=60)
        tokens = {ext: login(ringlet.url, ext) for ext in EXTENSIONS}

        # One send checks the send scenario and gives the reference its response bytes. It is also
        # the first of the --messages messages that 102 holds for the list scenario.
        send_bytes = check(ringlet.url, SCENARIOS["send"], tokens["102"], "ringlet")
        (workdir / "send.json").write_bytes(send_bytes)
        list_bytes = b""
        scenario_names = [s.name for s in args.scenario_list]
        if "list" in scenario_names:
            sends = args.messages - 1
            print(f"seeding: {sends:,} more sends between 101 and 102 ...", flush=True)
            start = time.monotonic()
            seed(ringlet.port, tokens, sends, args)
            seconds = time.monotonic() - start
            print(f"seeding took {seconds:.1f} s ({sends / max(seconds, 1e-9):,.0f} sends/s)")
            report["seeding"] = {
                "sends": sends,
                "messages_in_store": args.messages,
                "seconds": round(seconds, 1),
            }
            list_bytes = check(ringlet.url, SCENARIOS["list"], tokens["102"], "ringlet")
            listed = json.loads(list_bytes)
            records = listed.get("records") if isinstance(listed, dict) else None
            count = len(records) if isinstance(records, list) else 0
            report["list_records"] = count
            if count != (expected := min(100, args.messages)):
                print(f"WARNING: ringlet's list returned {count} records, not {expected}")
            (workdir / "list.json").write_bytes(list_bytes)

        if args.busy:
            print(
                f"\nbusy: GET /_ringlet/health on a new connection every {args.busy_interval} s, "
                f"{args.busy_probes} times, while {args.busy_connections} connections send",
                flush=True,
            )
            send = SCENARIOS["send"]
            busy = measure_busy(
                ringlet.url,
                ringlet.port,
                [f"--script={LUA_SCRIPT}", ringlet.url + send.path],
                {
                    "BENCH_METHOD": send.method,
                    "BENCH_TOKEN": tokens["102"],
                    "BENCH_BODY": send.body,
                },
                args,
            )
            busy["ringlet_peak_rss_mib"] = ringlet.peak_rss_mib()
            report["busy"] = busy
        report["ringlet_peak_rss_mib"] = ringlet.peak_rss_mib()
        if not args.scenario_list:
            report["reference_peak_rss_mib"] = 0.0
            return _verdict(report)
        port = _free_port()
        command = _uvicorn("reference_app:app", port, args.stack)
        reference = Server("reference", command, port, workdir)
        started.append(reference)
        print(f"starting reference on {reference.url}", flush=True)
        reference.start(
            {
                "BENCH_SEND_RESPONSE": str(workdir / "send.json"),
                "BENCH_LIST_RESPONSE": str(workdir / "list.json") if list_bytes else "",
            }
        )
        reference.wait_ready(SCENARIOS["list"].path, timeout=30)
        for scenario in args.scenario_list:
            got = check(reference.url, scenario, tokens["102"], "reference")
            wanted = send_bytes if scenario.name == "send" else list_bytes
            if len(got) != len(wanted):
                raise BenchError(
                    f"reference {scenario.name}: {len(got)} bytes, ringlet {len(wanted)}"
                )

        targets = {"ringlet": ringlet, "reference": reference}
        for scenario in args.scenario_list:
            print(f"\n{scenario.name}: {scenario.method} {scenario.path} ({scenario.description})")
            print(
                f"  wrk: {args.threads} threads, {args.connections} connections, "
                f"{args.duration} s x {args.rounds} rounds per target",
                flush=True,
            )
            rounds = measure(scenario, targets, tokens["102"], args)
            ours, theirs = summarize(rounds["ringlet"]), summarize(rounds["reference"])
            ratio = ours["requests_per_s"] / max(theirs["requests_per_s"], 1e-9)
            valid = all(r.valid for results in rounds.values() for r in results)
            report["scenarios"][scenario.name] = {
                "request": f"{scenario.method} {scenario.path}",
                "description": scenario.description,
                "response_bytes": len(send_bytes if scenario.name == "send" else list_bytes),
                "ringlet": ours,
                "reference": theirs,
                "ratio": round(ratio, 3),
                "target_ratio": scenario.target,
                "valid": valid,
                "passed": valid and ratio >= scenario.target,
                "ringlet_peak_rss_mib": ringlet.peak_rss_mib(),
            }
        report["ringlet_peak_rss_mib"] = ringlet.peak_rss_mib()
        report["reference_peak_rss_mib"] = reference.peak_rss_mib()
    return _verdict(report)


def _verdict(report: dict[str, Any]) -> dict[str, Any]:
    busy = report.get("busy")
    report["valid"] = all(s["valid"] for s in report["scenarios"].values())
    report["passed"] = all(s["passed"] for s in report["scenarios"].values()) and (
        busy is None or busy["passed"]
    )
    return report


def print_report(report: dict[str, Any]) -> None:
    print(
        "\nSELF-TEST: ringlet replaced by bench/selftest_server.py" if report["self_test"] else ""
    )
    options = report["options"]
    loop, http = STACKS[options["stack"]]
    print(
        f"both targets on uvicorn --loop {loop} --http {http} (--stack {options['stack']}); "
        f"ringlet with {options['workers']} worker process(es), the reference with one"
    )
    columns = ("req/s", "p50 ms", "p99 ms", "non-2xx", "sock err")
    header = f"{'scenario':<9}{'target':<11}" + "".join(f"{c:>11}" for c in columns)
    print(header + "\n" + "-" * len(header))
    for name, s in report["scenarios"].items():
        for target in ("ringlet", "reference"):
            m = s[target]
            print(
                f"{name:<9}{target:<11}{m['requests_per_s']:>11,.1f}{m['p50_ms']:>11.2f}"
                f"{m['p99_ms']:>11.2f}{m['non_2xx']:>11}{m['socket_errors']:>11}"
            )
        verdict = "PASS" if s["passed"] else "FAIL"
        if not s["valid"]:
            verdict = "INVALID (errors during the run: non-2xx or socket errors; see JSON)"
        print(
            f"{'':<9}ratio ringlet/reference {s['ratio']:.3f}   "
            f"target >= {s['target_ratio']:.2f}   {verdict}"
        )
        print(
            f"{'':<9}ringlet peak RSS so far {s['ringlet_peak_rss_mib']:.1f} MiB "
            "(VmHWM summed over its process tree)"
        )
    busy = report.get("busy")
    if busy is not None:
        verdict = "PASS" if busy["passed"] else "FAIL"
        print(
            f"busy     health on a new connection, {busy['busy_connections']} connections "
            f"sending: median {busy['median_s']:.3f} s, max {busy['max_s']:.3f} s, "
            f"{busy['answered_200']}/{busy['probes']} answered 200   "
            f"target max <= {busy['target_max_s']:.1f} s   {verdict}"
        )
        print(
            f"{'':<9}the flood meanwhile: {busy['flood_requests_per_s']:,.1f} sends/s, "
            f"{busy['flood_non_2xx']:.0f} non-2xx"
        )
    print(
        f"\nringlet peak RSS over the run: {report['ringlet_peak_rss_mib']:.1f} MiB; "
        f"reference: {report['reference_peak_rss_mib']:.1f} MiB"
    )
    if not report["valid"]:
        print("THE RUN IS INVALID: wrk saw non-2xx responses or socket errors.")


def run_and_report(
    measure: Callable[[], dict[str, Any]],
    print_report: Callable[[dict[str, Any]], None],
    output: Path,
    passed: Callable[[dict[str, Any]], bool] = lambda report: bool(report["passed"]),
) -> int:
    """The end every benchmark of this folder shares: `measure`, print the report and write it
    to `output` as JSON. Exit code 0 when it `passed`, 1 when not, 2 when it could not run
    (BenchError), 130 on Ctrl-C (the servers stopped either way)."""
    try:
        report = measure()
    except BenchError as error:
        print(f"\nbenchmark failed: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130
    print_report(report)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results written to {output}")
    return 0 if passed(report) else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_and_report(lambda: run(args), print_report, args.output)


if __name__ == "__main__":
    sys.exit(main())
