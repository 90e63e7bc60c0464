"""Several ringlet processes on one PostgreSQL database: `python -m bench.processes`.

On a scratch database of its own (`ringlet_bench_processes`, created on the server of
`--database` and dropped after the run), provisioned from bench/fixture.yaml, three ringlet
servers run side by side: A and B (`ringlet serve`, one process each) and W (`ringlet serve
--workers 2`). Three configurations are measured in the same run, in alternating rounds, with
the `list` and `send` requests of bench/run.py, beside the bare-Starlette reference
(bench/reference_app.py):

- `one`: wrk against A alone (`--connections`, `--threads`);
- `workers2`: wrk against W;
- `two`: two wrk processes at once, one against A and one against B, each with half the
  connections and threads; their throughputs are summed.

Each is reported as a ratio to `one`, and to the reference. The send's wrk script
(bench/unique_send.lua) gives every request a text of its own, so that after each send run the
database shows each send stored exactly once: every text of the run has exactly two copies
(102's outbound, 101's inbound), and the number of texts lies between the 2xx answers wrk
counted and those plus the requests still in flight when wrk stopped (sent, not answered). After
each send run, a list through A, through B and through W must give the same records.

CPU seconds are read from /proc for every process during each timed run: the ringlet server
processes, their delivery processes, the PostgreSQL backends of the scratch database, the rest
of the local PostgreSQL server (WAL writer, checkpointer, ...), and wrk; printed per request.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench.pg import backend_pids, cpu_seconds, scratch_database, server_pids
from bench.run import (
    BENCH_DIR,
    EXTENSIONS,
    FIXTURE,
    LUA_SCRIPT,
    SCENARIOS,
    STACKS,
    TEXT,
    BenchError,
    Server,
    WrkResult,
    _free_port,
    _process_tree,
    _servers,
    _uvicorn,
    check,
    login,
    parse_wrk,
    run_and_report,
    seed,
)

UNIQUE_SEND = BENCH_DIR / "unique_send.lua"
DATABASE_NAME = "ringlet_bench_processes"
CONFIGS = ("one", "workers2", "two")
TARGETS = ("reference", *CONFIGS)


# -- wrk ----------------------------------------------------------------------------------------


@dataclass
class Run:
    """One timed run of a target: one wrk process, or two at once (`two`), summed."""

    requests_per_s: float
    p50_ms: float  # the median of the wrk processes' p50 (each wrk's own distribution)
    p99_ms: float  # the worst of their p99
    requests: int  # answered
    non_2xx: int
    socket_errors: int
    sent: int  # requests written (send only; 0 for the list)
    cpu_s: dict[str, float]
    check: dict[str, Any] | None = None


def _wrk_command(
    url: str, path: str, script: Path, connections: int, threads: int, args: argparse.Namespace
) -> list[str]:
    return [
        "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={args.duration}s",
        f"--timeout={args.timeout}s",
        "--latency",
        f"--script={script}",
        url + path,
    ]


def run_wrks(
    jobs: list[tuple[str, dict[str, str]]], scenario: str, args: argparse.Namespace
) -> list[tuple[WrkResult, int]]:
    """wrk against each (url, extra environment) at once, the connections and threads split
    evenly; (result, requests sent) each."""
    share = len(jobs)
    connections, threads = args.connections // share, max(1, args.threads // share)
    spec = SCENARIOS[scenario]
    script = UNIQUE_SEND if scenario == "send" else LUA_SCRIPT
    procs = []
    for url, env in jobs:
        command = _wrk_command(url, spec.path, script, connections, threads, args)
        procs.append(
            subprocess.Popen(
                command,
                env={**os.environ, "BENCH_METHOD": spec.method, "BENCH_BODY": spec.body, **env},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    results = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=args.duration + args.timeout + 30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise BenchError("wrk did not finish") from None
        if proc.returncode != 0:
            raise BenchError(f"wrk failed ({proc.returncode}): {err or out}")
        sent = re.search(r"^SENT (\d+)$", out, re.MULTILINE)
        results.append((parse_wrk(out), int(sent.group(1)) if sent else 0))
    return results


# -- CPU ----------------------------------------------------------------------------------------


class CpuMeter:
    """CPU seconds so far of every process the run involves, by kind."""

    def __init__(self, servers: Mapping[str, Server], reference: Server, db_url: str) -> None:
        self.servers = servers
        self.reference = reference
        self.db_url = db_url
        self.ours = backend_pids(db_url)

    def read(self) -> dict[str, float]:
        kinds: dict[str, list[int]] = {"server": [], "delivery": []}
        for server in self.servers.values():
            if server.proc is None:
                continue
            for pid in _process_tree(server.proc.pid):
                kinds["delivery" if _is_delivery(pid) else "server"].append(pid)
        # Backends come and go with the pools: take them again each time (the CPU of one that
        # ended between two readings is lost, and is little: they live as long as the servers).
        ours = set(backend_pids(self.db_url)) | set(self.ours)
        self.ours = list(ours)
        everything = server_pids()
        auxiliary = [p for p in everything if p not in ours and _is_auxiliary(p)]
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert self.reference.proc is not None
        return {
            "reference": cpu_seconds([self.reference.proc.pid]),
            "ringlet_server": cpu_seconds(kinds["server"]),
            "ringlet_delivery": cpu_seconds(kinds["delivery"]),
            "postgres_backends": cpu_seconds(list(ours)),
            "postgres_auxiliary": cpu_seconds(auxiliary),
            "wrk": usage.ru_utime + usage.ru_stime,  # wrk runs are the only children reaped
        }


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _is_delivery(pid: int) -> bool:
    return " deliver " in _cmdline(pid)


def _is_auxiliary(pid: int) -> bool:
    """A process of the PostgreSQL server that serves no client (WAL writer, checkpointer,
    background writer, autovacuum, ...): its work is every database's, ours included."""
    line = _cmdline(pid)
    return not any(marker in line for marker in ("127.0.0.1(", "[local]", "::1("))


def _delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: round(after[k] - before[k], 3) for k in after}


# -- checks -------------------------------------------------------------------------------------


def _engine(url: str) -> sa.engine.Engine:
    return sa.create_engine("postgresql+psycopg://" + url.split("://", 1)[1])


def check_exactly_once(
    engine: sa.engine.Engine, tag: str, runs: list[tuple[WrkResult, int]]
) -> dict[str, Any]:
    """Each text of this run stored as two copies, outbound and inbound; as many texts as
    acknowledged sends, give or take the requests wrk left in flight."""
    time.sleep(1.0)  # the last sends wrk did not wait for are answered meanwhile
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT count(*), count(DISTINCT subject), "
                "count(*) FILTER (WHERE direction = 'Outbound'), "
                "count(*) FILTER (WHERE direction = 'Inbound') "
                "FROM messages WHERE subject LIKE :tag"
            ),
            {"tag": f"{TEXT} {tag}%"},
        ).one()
        odd = conn.execute(
            sa.text(
                "SELECT count(*) FROM (SELECT subject FROM messages WHERE subject LIKE :tag "
                "GROUP BY subject HAVING count(*) <> 2 OR count(DISTINCT direction) <> 2) s"
            ),
            {"tag": f"{TEXT} {tag}%"},
        ).scalar_one()
    rows, texts, outbound, inbound = (int(v) for v in row)
    acknowledged = sum(r.requests - r.non_2xx for r, _ in runs)
    in_flight = sum(max(0, sent - r.requests) for r, sent in runs)
    return {
        "acknowledged_2xx": acknowledged,
        "in_flight_at_stop": in_flight,
        "sends_stored": texts,
        "copies_stored": rows,
        "outbound": outbound,
        "inbound": inbound,
        "texts_not_stored_as_one_pair": int(odd),
        "passed": odd == 0
        and rows == 2 * texts
        and acknowledged <= texts <= acknowledged + in_flight,
    }


def _without_uris(value: Any) -> Any:
    """Records as they are, but for their `uri`s, which name the server's own port."""
    if isinstance(value, dict):
        return {k: _without_uris(v) for k, v in value.items() if k != "uri"}
    if isinstance(value, list):
        return [_without_uris(v) for v in value]
    return value


def check_lists(servers: Mapping[str, Server], token: str) -> dict[str, Any]:
    """The list through every ringlet server (W twice: either worker may answer): identical
    records."""
    path = SCENARIOS["list"].path
    seen = {}
    for name, server in [*servers.items(), ("W again", servers["W"])]:
        response = httpx.get(
            server.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        if response.status_code != 200:
            raise BenchError(f"list through {name}: {response.status_code}")
        seen[name] = response.json()["records"]
    seen = {name: _without_uris(records) for name, records in seen.items()}
    first = seen["A"]
    differing = [name for name, records in seen.items() if records != first]
    return {"records": len(first), "differing": differing, "passed": not differing}


# -- the run ------------------------------------------------------------------------------------


def _ringlet(
    name: str, db_url: str, workdir: Path, args: argparse.Namespace, workers: int
) -> Server:
    port = _free_port()
    command = [
        sys.executable, "-m", "ringlet", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--database", db_url, "--fixture", str(FIXTURE), "--workers", str(workers),
        "--loop", STACKS[args.stack][0], "--http", STACKS[args.stack][1],
    ]  # fmt: skip
    return Server(name, command, port, workdir)


def measure(
    scenario: str,
    servers: Mapping[str, Server],
    reference: Server,
    token: str,
    meter: CpuMeter,
    engine: sa.engine.Engine,
    args: argparse.Namespace,
) -> dict[str, list[Run]]:
    jobs_of = {
        "reference": [reference.url],
        "one": [servers["A"].url],
        "workers2": [servers["W"].url],
        "two": [servers["A"].url, servers["B"].url],
    }
    env = {"BENCH_TOKEN": token, "BENCH_FROM": EXTENSIONS["102"][1]}
    env |= {"BENCH_TO": EXTENSIONS["101"][1], "BENCH_TEXT": TEXT}
    runs: dict[str, list[Run]] = {t: [] for t in TARGETS}
    if args.warmup > 0:
        warm = argparse.Namespace(**{**vars(args), "duration": args.warmup})
        for target in TARGETS:
            jobs = [
                (url, {**env, "BENCH_PREFIX": f"w{target}{i}-"})
                for i, url in enumerate(jobs_of[target])
            ]
            run_wrks(jobs, scenario, warm)
    for number in range(1, args.rounds + 1):
        for target in TARGETS:
            tag = f"r{number}{target}"
            jobs = [
                (url, {**env, "BENCH_PREFIX": f"{tag}{i}-"})
                for i, url in enumerate(jobs_of[target])
            ]
            before = meter.read()
            results = run_wrks(jobs, scenario, args)
            cpu = _delta(meter.read(), before)
            p50s = [r.p50_ms for r, _ in results]
            run = Run(
                requests_per_s=round(sum(r.requests_per_s for r, _ in results), 1),
                p50_ms=round(statistics.median(p50s), 2),
                p99_ms=round(max(r.p99_ms for r, _ in results), 2),
                requests=sum(r.requests for r, _ in results),
                non_2xx=sum(r.non_2xx for r, _ in results),
                socket_errors=sum(r.socket_errors for r, _ in results),
                sent=sum(s for _, s in results),
                cpu_s=cpu,
            )
            if scenario == "send" and target != "reference":
                run.check = check_exactly_once(engine, f"{tag}", results)
                run.check["lists"] = check_lists(servers, token)
                run.check["passed"] = run.check["passed"] and run.check["lists"]["passed"]
            runs[target].append(run)
            per_request = {
                k: round(v * 1000 / max(run.requests, 1), 3) for k, v in cpu.items() if v
            }
            verdict = ""
            if run.check is not None:
                verdict = "  exactly once, lists equal" if run.check["passed"] else "  CHECK FAILED"
            print(
                f"  round {number} {target:<9} {run.requests_per_s:9,.1f} req/s  "
                f"p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:7.2f} ms  "
                f"CPU ms/request {per_request}{verdict}",
                flush=True,
            )
            if run.check is not None and not run.check["passed"]:
                print(f"    {run.check}", flush=True)
    return runs


def summarize(
    scenario: str, runs: dict[str, list[Run]], args: argparse.Namespace
) -> dict[str, Any]:
    def median(target: str, field: str) -> float:
        return float(statistics.median(getattr(r, field) for r in runs[target]))

    one = median("one", "requests_per_s")
    reference = median("reference", "requests_per_s")
    summary: dict[str, Any] = {}
    for target in TARGETS:
        rps = median(target, "requests_per_s")
        requests = sum(r.requests for r in runs[target])
        cpu_total = {k: sum(r.cpu_s[k] for r in runs[target]) for k in runs[target][0].cpu_s}
        seconds = args.duration * len(runs[target])
        summary[target] = {
            "requests_per_s": rps,
            "p50_ms": median(target, "p50_ms"),
            "p99_ms": median(target, "p99_ms"),
            "ratio_to_one": round(rps / max(one, 1e-9), 3),
            "ratio_to_reference": round(rps / max(reference, 1e-9), 3),
            "non_2xx": sum(r.non_2xx for r in runs[target]),
            "socket_errors": sum(r.socket_errors for r in runs[target]),
            "cpu_ms_per_request": {
                k: round(v * 1000 / max(requests, 1), 3) for k, v in cpu_total.items()
            },
            # Share of the machine's CPU time during the timed runs (1.0: every core busy).
            "cpu_share_of_machine": {
                k: round(v / (seconds * (os.cpu_count() or 1)), 3) for k, v in cpu_total.items()
            },
            "checks_passed": all(r.check["passed"] for r in runs[target] if r.check),
            "rounds": [asdict(r) for r in runs[target]],
        }
    return summary


def run(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {k: str(v) for k, v in vars(args).items()},
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "scenarios": {},
    }
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ringlet-procs-")))
        db_url = stack.enter_context(scratch_database(args.database, DATABASE_NAME))
        engine = _engine(db_url)
        stack.callback(engine.dispose)
        started = stack.enter_context(_servers())
        servers: dict[str, Server] = {}
        # One after the other: the first provisions the fixture, the others find it there.
        for name, workers in (("A", 1), ("B", 1), ("W", 2)):
            server = _ringlet(name, db_url, workdir, args, workers)
            started.append(server)
            print(f"starting ringlet {name} on {server.url} ({workers} process(es))", flush=True)
            server.start()
            server.wait_ready("/_ringlet/health", timeout=120)
            servers[name] = server
        tokens = {ext: login(servers["A"].url, ext) for ext in EXTENSIONS}
        send_bytes = check(servers["A"].url, SCENARIOS["send"], tokens["102"], "ringlet A")
        (workdir / "send.json").write_bytes(send_bytes)
        print(f"seeding: {args.messages - 1:,} sends between 101 and 102 through A", flush=True)
        start = time.monotonic()
        seed(servers["A"].port, tokens, args.messages - 1, args)
        report["seeding_s"] = round(time.monotonic() - start, 1)
        list_bytes = check(servers["A"].url, SCENARIOS["list"], tokens["102"], "ringlet A")
        (workdir / "list.json").write_bytes(list_bytes)
        report["lists_after_seeding"] = check_lists(servers, tokens["102"])

        port = _free_port()
        reference = Server(
            "reference", _uvicorn("reference_app:app", port, args.stack), port, workdir
        )
        started.append(reference)
        reference.start(
            {
                "BENCH_SEND_RESPONSE": str(workdir / "send.json"),
                "BENCH_LIST_RESPONSE": str(workdir / "list.json"),
            }
        )
        reference.wait_ready(SCENARIOS["list"].path, timeout=30)
        meter = CpuMeter(servers, reference, db_url)
        before = meter.read()
        time.sleep(5)
        report["idle_cpu_share"] = {
            k: round(v / 5, 3) for k, v in _delta(meter.read(), before).items() if k != "wrk"
        }
        print(f"idle: share of one core per kind of process {report['idle_cpu_share']}")
        for scenario in args.scenario_list:
            print(
                f"\n{scenario}: {args.rounds} rounds x {args.duration} s per target, "
                f"{args.connections} connections, {args.threads} wrk threads",
                flush=True,
            )
            runs = measure(scenario, servers, reference, tokens["102"], meter, engine, args)
            report["scenarios"][scenario] = summarize(scenario, runs, args)
        report["lists_at_the_end"] = check_lists(servers, tokens["102"])
        report["peak_rss_mib"] = {name: s.peak_rss_mib() for name, s in servers.items()}
    report["checks_passed"] = report["lists_at_the_end"]["passed"] and all(
        t["checks_passed"] for s in report["scenarios"].values() for t in s.values()
    )
    report["valid"] = all(
        t["non_2xx"] == 0 and t["socket_errors"] == 0
        for s in report["scenarios"].values()
        for t in s.values()
    )
    return report


def print_report(report: dict[str, Any]) -> None:
    cpus = report["environment"]["cpus"]
    print(f"\n{cpus} CPU(s); PostgreSQL on this machine; medians over the rounds")
    for scenario, targets in report["scenarios"].items():
        head = f"{'req/s':>10} {'x one':>7} {'x ref':>7} {'p50 ms':>8} {'p99 ms':>8}"
        print(
            f"\n{scenario:<6} {head}   CPU ms per request: "
            "reference / server / delivery / pg backends / pg aux / wrk"
        )
        for target, t in targets.items():
            cpu = t["cpu_ms_per_request"]
            print(
                f"{target:<9}{t['requests_per_s']:>10,.1f}{t['ratio_to_one']:>7.2f}"
                f"{t['ratio_to_reference']:>7.3f}{t['p50_ms']:>9.2f}{t['p99_ms']:>9.2f}   "
                f"{cpu['reference']:.3f} / "
                f"{cpu['ringlet_server']:.3f} / {cpu['ringlet_delivery']:.3f} / "
                f"{cpu['postgres_backends']:.3f} / {cpu['postgres_auxiliary']:.3f} / "
                f"{cpu['wrk']:.3f}"
            )
    print(
        "\nchecks (each send stored exactly once, lists equal through A, B and W): "
        + ("passed" if report["checks_passed"] else "FAILED")
    )
    if not report["valid"]:
        print("THE RUN IS INVALID: wrk saw non-2xx responses or socket errors.")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.processes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--database",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="a PostgreSQL URL; the run creates and drops its own database "
        f"{DATABASE_NAME} on that server",
    )
    add("--rounds", type=int, default=3)
    add("--duration", type=int, default=10, help="seconds per timed run")
    add("--warmup", type=int, default=2, help="seconds of warm-up per target and scenario")
    add("--connections", type=int, default=64)
    add("--threads", type=int, default=2)
    add("--timeout", type=int, default=30)
    add("--scenarios", default="list,send")
    add("--messages", type=int, default=10_000, help="messages in 102's store for the list")
    add("--seed-concurrency", type=int, default=16)
    add("--seed-timeout", type=int, default=1800)
    add("--stack", choices=sorted(STACKS), default="auto")
    add("--output", type=Path, default=BENCH_DIR / "results" / "processes.json")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    if not names or any(n not in SCENARIOS for n in names):
        parser.error("--scenarios: list, send")
    args.scenario_list = [n for n in SCENARIOS if n in names]  # list first, then send
    if min(args.rounds, args.duration, args.messages) < 1 or args.connections < 2 * args.threads:
        parser.error("--rounds, --duration, --messages >= 1; --connections >= 2 x --threads")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_and_report(
        lambda: run(args),
        print_report,
        args.output,
        lambda report: bool(report["checks_passed"] and report["valid"]),
    )


if __name__ == "__main__":
    sys.exit(main())
