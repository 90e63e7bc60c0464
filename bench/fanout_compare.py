"""Department fan-out, two versions side by side: `python -m bench.fanout_compare --baseline SRC`.

Starts two servers at once, each on its own database and provisioned alike (one account of
`--members`, as bench/fanout.py does): "baseline", the code of SRC (the `src` directory of a
checkout of an older commit, put first on its PYTHONPATH), and "current", this checkout. Then,
in alternating rounds (baseline, current, current, baseline, ...: so that drift of the machine
hits both alike), each gets `--sends` two-party Pagers and `--sends` Pagers to the department;
the figures are each version's p50s and ratio, and current / baseline.

With `--sample N`, N members of each server then subscribe (WebHook, to their own message
store) to a receiver here, `--notify-sends` Pagers go to each department, alternating, and the
figure is how long after the last Pager's 200 the last notification arrived, per version.

Only for comparing versions during development: `python -m bench.fanout` is the benchmark.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.fanout import (
    DEPARTMENT,
    PEER,
    SENDER,
    Department,
    Receiver,
    _client,
    login,
    timed_sends,
    write_fixture,
)
from bench.notifications import subscribe
from bench.pg import scratch_database
from bench.run import STACKS, BenchError, Server, _free_port, _servers

VERSIONS = ("baseline", "current")


def _notifications(
    urls: dict[str, str], departments: dict[str, Department], args: argparse.Namespace
) -> dict[str, Any]:
    receiver = Receiver()
    receiver.start()
    try:
        expected: dict[str, dict[str, int]] = {}
        for version in VERSIONS:
            d = departments[version]
            expected[version] = {}
            for i in d.sample[: args.sample]:
                token = login(urls[version], d, d.member_number(i))
                path = f"/{version}/{i}"
                subscribe(urls[version], token, f"http://127.0.0.1:{receiver.port}{path}")
                expected[version][path] = 0
        lags: dict[str, list[float]] = {v: [] for v in VERSIONS}
        for number in range(args.notify_rounds):
            order = VERSIONS if number % 2 == 0 else VERSIONS[::-1]
            for version in order:
                d = departments[version]
                with _client(urls[version], d.tokens[SENDER]) as client:
                    timed_sends(client, d, DEPARTMENT, args.notify_sends)
                acknowledged = time.perf_counter()
                for path in expected[version]:
                    expected[version][path] += args.notify_sends
                if not receiver.wait(expected[version], args.notify_timeout):
                    raise BenchError(f"{version}: notifications missing after the timeout")
                lags[version].append((receiver.last_arrival - acknowledged) * 1000)
        return {
            v: {
                "subscribers": len(expected[v]),
                "last_notification_after_last_200_ms": [round(x, 1) for x in lags[v]],
                "median_ms": round(statistics.median(lags[v]), 1),
            }
            for v in VERSIONS
        }
    finally:
        receiver.stop()


def run(args: argparse.Namespace) -> dict[str, Any]:
    baseline_src = Path(args.baseline).resolve()
    if not (baseline_src / "ringlet").is_dir():
        raise BenchError(f"{baseline_src}: no ringlet package there (give a checkout's src)")
    current_src = Path(__file__).resolve().parent.parent / "src"
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ringlet-cmp-")))
        started = stack.enter_context(_servers())
        urls: dict[str, str] = {}
        departments: dict[str, Department] = {}
        sample = max(1, args.sample)
        for version, src in zip(VERSIONS, (baseline_src, current_src), strict=True):
            if args.database:
                name = f"ringlet_bench_fanout_{version}"
                db_url = stack.enter_context(scratch_database(args.database, name))
            else:
                db_url = f"sqlite:///{workdir / version}.db"
            d = departments[version] = Department(0, args.members, max(1, args.members // sample))
            fixture = write_fixture([d], workdir / f"{version}.yaml")
            port = _free_port()
            command = [
                sys.executable, "-m", "ringlet", "serve", "--host", "127.0.0.1",
                "--port", str(port), "--database", db_url, "--fixture", str(fixture),
                "--loop", STACKS["auto"][0], "--http", STACKS["auto"][1],
            ]  # fmt: skip
            server = Server(version, command, port, workdir)
            started.append(server)
            path = os.pathsep.join(
                [str(src), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
            )
            server.start(env={"PYTHONPATH": path})
            urls[version] = server.url
        for version, server in zip(VERSIONS, started, strict=True):
            server.wait_ready("/_ringlet/health", timeout=args.start_timeout)
            departments[version].tokens[SENDER] = login(urls[version], departments[version], SENDER)
        print(f"both up; {args.rounds} rounds of {args.sends} Pagers of each kind", flush=True)
        samples = {v: {"two_party": [], "department": []} for v in VERSIONS}
        clients = {v: _client(urls[v], departments[v].tokens[SENDER]) for v in VERSIONS}
        try:
            for v in VERSIONS:  # warm-up
                timed_sends(clients[v], departments[v], PEER, 3)
                timed_sends(clients[v], departments[v], DEPARTMENT, 2)
            for number in range(args.rounds):
                order = VERSIONS if number % 2 == 0 else VERSIONS[::-1]
                for v in order:
                    two = timed_sends(clients[v], departments[v], PEER, args.sends)
                    dep = timed_sends(clients[v], departments[v], DEPARTMENT, args.sends)
                    samples[v]["two_party"].extend(two)
                    samples[v]["department"].extend(dep)
                    print(
                        f"  round {number + 1} {v:>8}: two-party p50 {statistics.median(two):7.2f}"
                        f" ms  department p50 {statistics.median(dep):8.2f} ms",
                        flush=True,
                    )
        finally:
            for client in clients.values():
                client.close()
        report: dict[str, Any] = {"members": args.members, "database": args.database or "sqlite"}
        for v in VERSIONS:
            two_p50 = statistics.median(samples[v]["two_party"])
            dep_p50 = statistics.median(samples[v]["department"])
            report[v] = {
                "two_party_p50_ms": round(two_p50, 2),
                "department_p50_ms": round(dep_p50, 2),
                "ratio_p50": round(dep_p50 / two_p50, 2),
            }
        report["department_p50_current_over_baseline"] = round(
            report["current"]["department_p50_ms"] / report["baseline"]["department_p50_ms"], 3
        )
        if args.sample:
            print(f"notifications: {args.sample} subscribers on each", flush=True)
            report["notifications"] = _notifications(urls, departments, args)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout_compare", description=__doc__)
    add = parser.add_argument
    add("--baseline", required=True, help="the src directory of the version to compare with")
    add("--members", type=int, default=1000)
    add("--rounds", type=int, default=4, help="rounds per version, alternating")
    add("--sends", type=int, default=10, help="sequential Pagers of each kind per round")
    add("--sample", type=int, default=0, help="WebHook subscribers per server (0: none)")
    add("--notify-sends", type=int, default=3, help="Pagers per notification round")
    add("--notify-rounds", type=int, default=2, help="notification rounds per version")
    add("--notify-timeout", type=float, default=300)
    add("--database", default=None, help="a PostgreSQL URL: scratch databases there")
    add("--start-timeout", type=float, default=600)
    args = parser.parse_args(argv)
    try:
        report = run(args)
    except BenchError as error:
        print(f"\nbenchmark failed: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
