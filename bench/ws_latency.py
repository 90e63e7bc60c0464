"""WebSocket notification latency: from a send's 200 to the ServerNotification frame.

    python -m bench.ws_latency [--sends 300] [--warmup 30]

Starts ringlet (a fresh SQLite database, bench/fixture.yaml) and the fixed reference
(bench/ws_reference_app.py) side by side. Against each, one client connected over WebSocket as
extension 101 (on ringlet: wstoken, the gateway, a subscription to 101's message-store made over
the socket) sends SMS 102 -> 101 one at a time, on an idle server, and waits for the frame
before the next send. A reader task timestamps each frame as it arrives; the latency of a send
is (frame arrival - the moment its 200 was read), negative when the frame came first. Prints
p50 / p99 / max for both and writes bench/results/ws_latency.json. Target (issue 8): ringlet's
p99 under 50 ms. Exit code 0 when met, 1 when missed, 2 when the run failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.run import (
    BENCH_DIR,
    EXTENSIONS,
    FIXTURE,
    TEXT,
    BenchError,
    Server,
    _free_port,
    _servers,
    _uvicorn,
    login,
    percentile,
)

SMS_PATH = "/restapi/v1.0/account/~/extension/~/sms"
STORE_FILTER = "/restapi/v1.0/account/~/extension/~/message-store"
OUTPUT = BENCH_DIR / "results" / "ws_latency.json"
TARGET_P99_MS = 50.0


async def _measure(
    http_url: str, ws_url: str, sender_token: str | None, subscribe: bool, sends: int, warmup: int
) -> list[float]:
    arrivals: asyncio.Queue[float] = asyncio.Queue()
    replies: dict[str, asyncio.Future[Any]] = {}

    async with websockets.connect(ws_url, max_size=None) as ws:

        async def reader() -> None:
            async for text in ws:
                now = time.perf_counter()
                meta = json.loads(text)[0]
                if meta["type"] == "ServerNotification":
                    arrivals.put_nowait(now)
                elif meta.get("messageId") in replies:
                    replies.pop(meta["messageId"]).set_result(meta)

        if subscribe:
            await ws.recv()  # ConnectionDetails
        task = asyncio.create_task(reader())
        if subscribe:
            message_id = str(uuid.uuid4())
            replies[message_id] = asyncio.get_running_loop().create_future()
            request = {"type": "ClientRequest", "messageId": message_id, "method": "POST",
                       "path": "/restapi/v1.0/subscription"}  # fmt: skip
            body = {"eventFilters": [STORE_FILTER], "deliveryMode": {"transportType": "WebSocket"}}
            await ws.send(json.dumps([request, body]))
            meta = await asyncio.wait_for(replies[message_id], 10)
            if meta["status"] != 200:
                raise BenchError(f"subscribing over the socket: status {meta['status']}")
        headers = {"Content-Type": "application/json"}
        if sender_token:
            headers["Authorization"] = f"Bearer {sender_token}"
        payload = {
            "from": {"phoneNumber": EXTENSIONS["102"][1]},
            "to": [{"phoneNumber": EXTENSIONS["101"][1]}],
            "text": TEXT,
        }
        latencies: list[float] = []
        async with httpx.AsyncClient(base_url=http_url, headers=headers, timeout=30) as http:
            for n in range(warmup + sends):
                response = await http.post(SMS_PATH, json=payload)
                answered = time.perf_counter()
                if response.status_code != 200:
                    raise BenchError(f"send: HTTP {response.status_code} {response.text[:300]}")
                arrived = await asyncio.wait_for(arrivals.get(), 10)
                if n >= warmup:
                    latencies.append((arrived - answered) * 1000)
        task.cancel()
        return latencies


def _summary(latencies: list[float]) -> dict[str, float]:
    return {
        "sends": len(latencies),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
        "min_ms": round(min(latencies), 2),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ringlet-ws-bench-") as tmp, _servers() as started:
        workdir = Path(tmp)
        port = _free_port()
        ringlet = Server(
            "ringlet",
            [sys.executable, "-m", "ringlet", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--database", f"sqlite:///{workdir / 'bench.db'}", "--fixture", str(FIXTURE)],
            port,
            workdir,
        )  # fmt: skip
        ref_port = _free_port()
        reference = Server(
            "reference", _uvicorn("ws_reference_app:app", ref_port, "auto"), ref_port, workdir
        )
        for server in (ringlet, reference):
            started.append(server)
            server.start()
        for server in (ringlet, reference):
            server.wait_ready("/_ringlet/health", 60)
        receiver, sender = login(ringlet.url, "101"), login(ringlet.url, "102")
        token = httpx.post(
            f"{ringlet.url}/restapi/oauth/wstoken",
            headers={"Authorization": f"Bearer {receiver}"},
            timeout=30,
        ).json()
        ws_url = f"{token['uri']}?access_token={token['ws_access_token']}"
        results = {
            "ringlet": _summary(
                asyncio.run(_measure(ringlet.url, ws_url, sender, True, args.sends, args.warmup))
            ),
            "reference": _summary(
                asyncio.run(
                    _measure(
                        reference.url,
                        f"ws://127.0.0.1:{reference.port}/ws",
                        None,
                        False,
                        args.sends,
                        args.warmup,
                    )
                )
            ),
        }
    return {"scenario": "send 200 -> WebSocket frame (SMS 102 -> 101, idle)", **results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ws_latency", description=__doc__)
    parser.add_argument("--sends", type=int, default=300, help="timed sends per target")
    parser.add_argument("--warmup", type=int, default=30, help="untimed sends first")
    args = parser.parse_args(argv)
    try:
        report = run(args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n")
    print(report["scenario"])
    for name in ("ringlet", "reference"):
        r = report[name]
        print(
            f"  {name:10} p50 {r['p50_ms']:7.2f} ms   p99 {r['p99_ms']:7.2f} ms   "
            f"max {r['max_ms']:7.2f} ms   ({r['sends']} sends)"
        )
    met = report["ringlet"]["p99_ms"] < TARGET_P99_MS
    print(f"  target: ringlet p99 < {TARGET_P99_MS:.0f} ms: {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
