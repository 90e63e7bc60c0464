"""Large-store benchmark: `python -m bench.scale [--sizes 10000,100000,1000000] [options]`.

For each size, a fresh SQLite database is provisioned from bench/fixture.yaml and extension
102's store is filled with that many messages by `ringlet import-messages` from a generated
JSON Lines file (`generate`: SMS and Pager, many conversations, some unread). ringlet is then
measured against bench/scale_reference_app.py (a bare Starlette app answering with the bytes
ringlet answered with), alternating rounds, on: the list (default and four filters), read by
id, an ISync after 100 changes, and deleting a conversation. The table gives, per operation and
size, both throughputs, their ratio, and that ratio over the same operation's at the smallest
size, against the targets of issue 10: a ratio of at least 0.25 and, at every size, within 15 %
of the smallest size's. See bench/README.md ("Large stores").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec

from bench.run import (
    EXTENSION_PATH,
    EXTENSIONS,
    FIXTURE,
    MAIN_NUMBER,
    STACKS,
    BenchError,
    Scenario,
    Server,
    _free_port,
    _preflight,
    _servers,
    _uvicorn,
    _wrk_version,
    login,
    measure,
    run_and_report,
    summarize,
)
from ringlet.domain.threads import sms_conversation_id

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "scale.json"
STORE = f"{EXTENSION_PATH}/message-store"
SYNC = f"{EXTENSION_PATH}/message-sync"
OWN_NUMBER = EXTENSIONS["102"][1]
TARGET_RATIO = 0.25
TARGET_DRIFT = 0.15  # at most this far below the smallest size's ratio
# Pager conversation ids of the generated file (below 2**53, as ringlet's own).
PAGER_BASE = 10**15
HOT_NUMBER = "+14085550100"  # one active SMS conversation: listed by conversationId

OPERATIONS = (
    "list_default",
    "list_conversation",
    "list_unread",
    "list_pager",
    "list_distinct",
    "read",
    "isync",
    "delete_conversation",
)


# --- the generated history -------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    size: int
    newest_ms: int
    delete_numbers: list[str]  # one single-message SMS conversation each, the oldest messages


def _remote(prefix: str, n: int) -> str:
    return f"+1{prefix}{2_000_000 + n:07d}"


def generate(path: Path, size: int, deletes: int, gap_ms: int, now_ms: int) -> History:
    """`size` messages in 102's store, one every `gap_ms`, the newest a minute ago:

    - the oldest `deletes` are single-message SMS conversations (the delete operation's);
    - of the rest, 80 % SMS with max(100, size / 100) remote numbers, chosen at random (about
      100 messages each, spread over the whole history), half inbound; 20 % Pager in
      max(20, size / 500) threads with 101; 3 % of the inbound ones Unread;
    - one SMS conversation (HOT_NUMBER) is active: every 20th of the newest 2,000 messages
      (about 100 in the list's 24-hour window at any size) and every 200th before them.
    """
    rng = random.Random(size)
    remotes = max(100, size // 100)
    threads = max(20, size // 500)
    newest_ms = now_ms - 60_000
    encoder = msgspec.json.Encoder()
    delete_numbers = [_remote("212", d) for d in range(deletes)]
    account = MAIN_NUMBER
    with path.open("wb") as out:
        for i in range(size):
            age = size - 1 - i  # 0: the newest
            created = datetime.fromtimestamp((newest_ms - age * gap_ms) / 1000, UTC)
            line: dict[str, Any] = {
                "account": account,
                "extension": "102",
                "creationTime": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "text": f"Message {i} of the benchmark's history",
            }
            inbound = rng.random() < 0.5
            if inbound and rng.random() < 0.03:
                line["readStatus"] = "Unread"
            elif inbound:
                line["readStatus"] = "Read"
            if i < deletes:
                remote: str | None = delete_numbers[i]
            elif (age < 2000 and age % 20 == 0) or (age >= 2000 and age % 200 == 0):
                remote = HOT_NUMBER
            elif rng.random() < 0.8:
                remote = _remote("415", rng.randrange(remotes))
            else:
                remote = None
            if remote is not None:
                ends = [{"phoneNumber": remote}, {"phoneNumber": OWN_NUMBER}]
                if not inbound:
                    ends.reverse()
                line.update(type="SMS", **{"from": ends[0], "to": [ends[1]]})
            else:
                ends = [{"extensionNumber": "101"}, {"extensionNumber": "102"}]
                if not inbound:
                    ends.reverse()
                line.update(
                    type="Pager",
                    conversationId=PAGER_BASE + rng.randrange(threads),
                    **{"from": ends[0], "to": [ends[1]]},
                )
            line["direction"] = "Inbound" if inbound else "Outbound"
            out.write(encoder.encode(line) + b"\n")
    return History(size, newest_ms, delete_numbers)


# --- ringlet's side ----------------------------------------------------------------------------


def _ringlet_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "ringlet", *args]


def _run(command: list[str], what: str, timeout: float) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{what}: not done in {timeout:.0f} s") from None
    if done.returncode != 0:
        raise BenchError(f"{what} failed:\n{done.stderr or done.stdout}")
    return done.stdout.strip()


def _get(client: httpx.Client, path: str) -> bytes:
    response = client.get(path)
    if not response.is_success:
        raise BenchError(f"GET {path}: HTTP {response.status_code}: {response.text[:300]}")
    return response.content


def _records(body: bytes) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(body)["records"]
    return records


def prepare(
    client: httpx.Client, history: History, workdir: Path
) -> tuple[dict[str, Scenario], dict[str, Path], dict[str, int]]:
    """The measured requests, ringlet's answer to each (the reference's bytes), and how many
    records each answer holds. Makes the ISync's 100 changes first: the store no longer
    changes after that, until the deletes."""
    newest = _records(_get(client, f"{STORE}?perPage=100"))
    if len(newest) != 100:
        raise BenchError(f"the default list holds {len(newest)} records, not 100")
    # ISync after 100 changes: a full sync, then 100 readStatus updates, then the ISync.
    fsync = json.loads(_get(client, f"{SYNC}?syncType=FSync"))
    token = fsync["syncInfo"]["syncToken"]
    for record in newest:
        response = client.put(f"{STORE}/{record['id']}", json={"readStatus": "Read"})
        if not response.is_success:
            raise BenchError(f"PUT readStatus: HTTP {response.status_code}: {response.text[:300]}")
    middle = newest[50]["id"]
    hot = sms_conversation_id(HOT_NUMBER, OWN_NUMBER)
    paths = {
        "list_default": f"{STORE}?perPage=100",
        "list_conversation": f"{STORE}?conversationId={hot}&perPage=100",
        "list_unread": f"{STORE}?readStatus=Unread&perPage=100",
        "list_pager": f"{STORE}?messageType=Pager&perPage=100",
        "list_distinct": f"{STORE}?distinctConversations=true&perPage=100",
        "read": f"{STORE}/{middle}",
        "isync": f"{SYNC}?syncType=ISync&syncToken={token}",
    }
    scenarios, files, counts = {}, {}, {}
    for name, path in paths.items():
        body = _get(client, path)
        files[name] = workdir / f"{name}.json"
        files[name].write_bytes(body)
        parsed = json.loads(body)
        counts[name] = len(parsed["records"]) if "records" in parsed else 1
        scenarios[name] = Scenario(name, "GET", path, "", TARGET_RATIO, name)
    if counts["isync"] < 100:
        raise BenchError(f"the ISync reports {counts['isync']} changes, not at least 100")
    return scenarios, files, counts


# --- deleting conversations: a timed loop, one conversation per request -----------------------


async def _delete_all(port: int, token: str, conversation_ids: list[int], concurrency: int) -> None:
    ids = iter(conversation_ids)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for conversation_id in ids:
                writer.write(
                    f"DELETE {STORE}?conversationId={conversation_id} HTTP/1.1\r\n"
                    f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
                )
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                status = int(head[0].split()[1])
                fields = (line.partition(":") for line in head[1:] if line)
                length = {k.strip().lower(): v.strip() for k, _, v in fields}.get(
                    "content-length", "0"
                )
                body = await reader.readexactly(int(length))
                if status != 204:
                    raise BenchError(f"DELETE conversation: HTTP {status}: {body[:300]!r}")
        finally:
            writer.close()

    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())


def delete_rate(port: int, token: str, conversation_ids: list[int], concurrency: int) -> float:
    start = time.perf_counter()
    try:
        asyncio.run(_delete_all(port, token, conversation_ids, concurrency))
    except ExceptionGroup as group:
        raise group.exceptions[0] from None
    return len(conversation_ids) / (time.perf_counter() - start)


def measure_deletes(
    targets: dict[str, Server], token: str, history: History, args: argparse.Namespace
) -> dict[str, Any]:
    """`--rounds` rounds of `--deletes` conversations per target, alternating; ringlet deletes
    a different conversation with every request (the reference deletes nothing)."""
    conversations = [sms_conversation_id(n, OWN_NUMBER) for n in history.delete_numbers]
    chunks: Iterator[list[int]] = (
        conversations[i : i + args.deletes] for i in range(0, len(conversations), args.deletes)
    )
    rates: dict[str, list[float]] = {name: [] for name in targets}
    for round_number in range(1, args.rounds + 1):
        chunk = next(chunks)
        for name, server in targets.items():
            rate = delete_rate(server.port, token, chunk, args.delete_concurrency)
            rates[name].append(rate)
            print(f"  round {round_number}/{args.rounds} {name:<9} {rate:9,.1f} req/s", flush=True)
    return {
        name: {"requests_per_s": round(statistics.median(r), 1), "rounds": r}
        for name, r in rates.items()
    }


# --- one size --------------------------------------------------------------------------------


def measure_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {"size": size, "operations": {}}
    with tempfile.TemporaryDirectory(prefix="ringlet-scale-") as tmp, _servers() as started:
        workdir = Path(tmp)
        database = f"sqlite:///{workdir / 'bench.db'}"
        deletes = args.deletes * args.rounds
        print(f"\n=== {size:,} messages in extension 102's store ===", flush=True)
        start = time.monotonic()
        history = generate(
            workdir / "history.jsonl",
            size,
            deletes,
            args.gap_seconds * 1000,
            int(time.time() * 1000),
        )
        report["generate_seconds"] = round(time.monotonic() - start, 1)
        _run(_ringlet_command("load", str(FIXTURE), "--database", database), "ringlet load", 120)
        start = time.monotonic()
        said = _run(
            _ringlet_command(
                "import-messages", str(workdir / "history.jsonl"), "--database", database
            ),
            "ringlet import-messages",
            args.import_timeout,
        )
        imported_at = time.monotonic()
        report["import_seconds"] = round(imported_at - start, 1)
        print(f"generated in {report['generate_seconds']} s; {said}", flush=True)

        port = _free_port()
        loop, http = STACKS[args.stack]
        ringlet = Server(
            "ringlet",
            _ringlet_command(
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--database",
                database,
                "--loop",
                loop,
                "--http",
                http,
                "--page-memo-records",
                "0" if args.memo == "off" else "20000",
            ),
            port,
            workdir,
        )
        started.append(ringlet)
        ringlet.start()
        ringlet.wait_ready("/_ringlet/health", timeout=120)
        token = login(ringlet.url, "102")
        # ISync reports what changed since its token's time less 5 s: the import's copies must
        # be older than that when the full sync runs.
        time.sleep(max(0.0, imported_at + 6 - time.monotonic()))
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=ringlet.url, headers=headers, timeout=60) as client:
            scenarios, files, counts = prepare(client, history, workdir)
        report["records"] = counts
        index = workdir / "responses.json"
        index.write_text(json.dumps({name: str(path) for name, path in files.items()}))

        ref_port = _free_port()
        reference = Server(
            "reference",
            _uvicorn("scale_reference_app:app", ref_port, args.stack),
            ref_port,
            workdir,
        )
        started.append(reference)
        reference.start({"BENCH_SCALE_RESPONSES": str(index)})
        reference.wait_ready(f"{STORE}/1", timeout=30)
        for name, scenario in scenarios.items():
            got = httpx.get(reference.url + scenario.path, timeout=10).content
            if len(got) != files[name].stat().st_size:
                raise BenchError(
                    f"reference {name}: {len(got)} bytes, ringlet {files[name].stat().st_size}"
                )

        targets = {"ringlet": ringlet, "reference": reference}
        for name, scenario in scenarios.items():
            print(f"\n{name}: GET {scenario.path[:110]} ({counts[name]} records)", flush=True)
            rounds = measure(scenario, targets, token, args)
            ours, theirs = summarize(rounds["ringlet"]), summarize(rounds["reference"])
            valid = all(r.valid for results in rounds.values() for r in results)
            report["operations"][name] = _entry(ours, theirs, valid)
        print(
            f"\ndelete_conversation: DELETE {STORE}?conversationId=..., {args.deletes} "
            f"conversations per round, {args.delete_concurrency} at a time",
            flush=True,
        )
        deleted = measure_deletes(targets, token, history, args)
        report["operations"]["delete_conversation"] = _entry(
            deleted["ringlet"], deleted["reference"], True
        )
        report["ringlet_peak_rss_mib"] = ringlet.peak_rss_mib()
    return report


def _entry(ours: dict[str, Any], theirs: dict[str, Any], valid: bool) -> dict[str, Any]:
    ratio = ours["requests_per_s"] / max(theirs["requests_per_s"], 1e-9)
    return {"ringlet": ours, "reference": theirs, "ratio": round(ratio, 3), "valid": valid}


# --- the run ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale",
        description="ringlet with large message stores against a bare Starlette reference.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--sizes", default="10000,100000,1000000", help="comma-separated store sizes")
    add("--rounds", type=int, default=3, help="timed runs per target and operation, alternating")
    add("--duration", type=int, default=5, help="seconds per timed wrk run")
    add("--warmup", type=int, default=1, help="seconds of wrk warm-up per target and operation")
    add("--connections", type=int, default=64, help="wrk connections")
    add("--threads", type=int, default=2, help="wrk threads")
    add("--timeout", type=int, default=30, help="wrk per-request timeout, seconds")
    add("--deletes", type=int, default=1000, help="conversations deleted per round and target")
    add("--delete-concurrency", type=int, default=16, help="DELETE requests in flight at once")
    add("--gap-seconds", type=int, default=10, help="seconds between two generated messages")
    add(
        "--memo",
        choices=("off", "on"),
        default="off",
        help="ringlet's page memo (--page-memo-records): off, every list reads the store",
    )
    add("--stack", choices=sorted(STACKS), default="auto", help="event loop and HTTP of both")
    add("--import-timeout", type=int, default=3600, help="give up an import after this long")
    add("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSON results")
    args = parser.parse_args(argv)
    try:
        args.size_list = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes: comma-separated numbers, e.g. 10000,100000")
    if not args.size_list or min(args.size_list) < 3000 + args.deletes * args.rounds:
        parser.error("every size must hold the deleted conversations and 3,000 messages more")
    if min(args.rounds, args.duration, args.deletes, args.delete_concurrency) < 1:
        parser.error("--rounds, --duration, --deletes and --delete-concurrency must be >= 1")
    args.self_test = False
    return args


def verdicts(report: dict[str, Any]) -> None:
    """Each operation's ratio over the smallest size's, and PASS/FAIL."""
    sizes = report["sizes"]
    if not sizes:
        return
    smallest = sizes[0]["operations"]
    for entry in sizes:
        for name, op in entry["operations"].items():
            base = smallest[name]["ratio"]
            op["vs_smallest"] = round(op["ratio"] / base, 3) if base else 0.0
            op["passed"] = (
                op["valid"]
                and op["ratio"] >= TARGET_RATIO
                and op["vs_smallest"] >= 1 - TARGET_DRIFT
            )
    report["passed"] = all(op["passed"] for e in sizes for op in e["operations"].values())


def print_report(report: dict[str, Any]) -> None:
    header = (
        f"{'operation':<21}{'size':>10}{'ringlet/s':>11}{'ref/s':>10}{'ratio':>8}"
        f"{'vs first':>10}  verdict"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for name in OPERATIONS:
        for entry in report["sizes"]:
            op = entry["operations"].get(name)
            if op is None:
                continue
            verdict = "PASS" if op["passed"] else "FAIL"
            if not op["valid"]:
                verdict = "INVALID"
            print(
                f"{name:<21}{entry['size']:>10,}{op['ringlet']['requests_per_s']:>11,.0f}"
                f"{op['reference']['requests_per_s']:>10,.0f}{op['ratio']:>8.3f}"
                f"{op['vs_smallest']:>10.3f}  {verdict}"
            )
    print(
        f"\ntargets: ratio >= {TARGET_RATIO}, and at every size within {TARGET_DRIFT:.0%} of "
        "the smallest size's ratio (vs first >= 0.85)"
    )
    for entry in report["sizes"]:
        print(
            f"{entry['size']:>10,} messages: generated in {entry['generate_seconds']} s, "
            f"imported in {entry['import_seconds']} s; ringlet peak RSS "
            f"{entry['ringlet_peak_rss_mib']} MiB"
        )


def measure_sizes(args: argparse.Namespace) -> dict[str, Any]:
    """Every size, one after another, and the verdicts."""
    report: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {k: str(v) for k, v in vars(args).items() if k != "size_list"},
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "wrk": "",
        },
        "sizes": [],
    }
    _preflight(args)
    report["environment"]["wrk"] = _wrk_version()
    for size in args.size_list:
        report["sizes"].append(measure_size(size, args))
    verdicts(report)
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_and_report(lambda: measure_sizes(args), print_report, args.output)


if __name__ == "__main__":
    sys.exit(main())
