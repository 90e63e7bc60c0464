"""The `busy` scenario: is the server still answering while it is flooded?

wrk keeps `--busy-connections` (1,024) connections busy with sends for the whole scenario;
meanwhile, once the flood is under way, a new connection is opened every `--busy-interval`
seconds and times `GET /_ringlet/health` on it, from `connect()` to the last byte of the answer
(the time a load balancer's probe, or a new client, waits). Target: every probe answered 200
within 1 s.

It measures ringlet alone: the reference has no health endpoint and nothing to protect.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import time
from typing import Any

TARGET_SECONDS = 1.0
_PROBE = b"GET /_ringlet/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
_PROBE_TIMEOUT = 30.0
_RAMP_SECONDS = 5.0  # wrk opens its connections and the server's queues fill


def probe(port: int) -> tuple[float, int]:
    """Seconds for one health request on a new connection, and its status (0: no answer)."""
    start = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=_PROBE_TIMEOUT) as sock:
            sock.sendall(_PROBE)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    except OSError:
        return time.perf_counter() - start, 0
    status_line = answer.split(b"\r\n", 1)[0].split()
    status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 0
    return time.perf_counter() - start, status


def _number(pattern: str, output: str) -> float:
    match = re.search(pattern, output, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def measure_busy(
    url: str, port: int, wrk_command: list[str], env: dict[str, str], args: argparse.Namespace
) -> dict[str, Any]:
    seconds = _RAMP_SECONDS + args.busy_probes * args.busy_interval + 2
    command = [
        "wrk",
        f"--threads={args.threads}",
        f"--connections={args.busy_connections}",
        f"--duration={int(seconds) + 1}s",
        f"--timeout={args.timeout}s",
        *wrk_command,
    ]
    flood = subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(_RAMP_SECONDS)
        samples = []
        for _ in range(args.busy_probes):
            started = time.monotonic()
            samples.append(probe(port))
            time.sleep(max(0.0, args.busy_interval - (time.monotonic() - started)))
        output, _ = flood.communicate(timeout=seconds + args.timeout + 30)
    finally:
        if flood.poll() is None:
            flood.kill()
            flood.wait()
    latencies = [s for s, _ in samples]
    answered = sum(1 for _, status in samples if status == 200)
    worst = max(latencies)
    return {
        "request": "GET /_ringlet/health on a new connection",
        "busy_connections": args.busy_connections,
        "probes": len(samples),
        "answered_200": answered,
        "statuses": sorted({status for _, status in samples}),
        "latencies_s": [round(s, 3) for s in latencies],
        "median_s": round(statistics.median(latencies), 3),
        "max_s": round(worst, 3),
        "target_max_s": TARGET_SECONDS,
        "passed": answered == len(samples) and worst <= TARGET_SECONDS,
        "flood_requests_per_s": _number(r"^Requests/sec:\s+([\d.]+)", output),
        "flood_non_2xx": _number(r"Non-2xx or 3xx responses: (\d+)", output),
        "flood_wrk_output": output,
    }
