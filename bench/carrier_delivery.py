"""What the carrier side costs: sends to handsets against sends between two extensions, and how
long the carrier worker takes to deliver a burst of SMS to handsets.

    python -m bench.carrier_delivery [--sends N] [--concurrency C] [--database URL] [--workers W]

Starts `ringlet serve` on a fresh SQLite file (or the given database, which must be empty) with
bench/fixture.yaml, logs in as 102, then:
1. N sends 102 -> 101 (on the server: two copies, no carrier), C at a time: sends per second;
2. N sends 102 -> N/10 handsets, C at a time: sends per second (each also records an outbox row);
3. the time from the first handset send until every one of them is Delivered (the handsets'
   records all exist), and the worker's deliveries per second over that time.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.run import _free_port

FIXTURE = Path(__file__).with_name("fixture.yaml")
SMS = "/restapi/v1.0/account/~/extension/~/sms"


def _body(to: str, n: int) -> dict[str, object]:
    return {"from": {"phoneNumber": "+16509100020"}, "to": [{"phoneNumber": to}], "text": f"m{n}"}


async def _burst(base: str, token: str, targets: list[str], concurrency: int) -> float:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:
        queue = list(enumerate(targets))

        async def worker() -> None:
            while queue:
                n, to = queue.pop()
                response = await client.post(SMS, json=_body(to, n))
                response.raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start


def _delivered(base: str) -> int:
    records = httpx.get(base + "/_ringlet/handsets", timeout=30).json()["records"]
    return sum(int(r["messageCount"]) for r in records)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sends", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database", default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--carrier-delay", type=int, default=0, help="ms (the server's flag)")
    parser.add_argument(
        "--sends-only", action="store_true", help="do not wait for the deliveries (step 3)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = args.database or f"sqlite:///{Path(tmp) / 'carrier.db'}"
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        command = [
            sys.executable,
            "-m",
            "ringlet",
            "serve",
            "--port",
            str(port),
            "--database",
            database,
            "--fixture",
            str(FIXTURE),
            "--log-level",
            "warning",
            "--workers",
            str(args.workers),
            "--carrier-delay",
            str(args.carrier_delay),
        ]
        server = subprocess.Popen(command)
        try:
            for _ in range(300):
                try:
                    if httpx.get(base + "/_ringlet/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            token = httpx.post(
                base + "/restapi/oauth/token",
                auth=("demo-app", "demo-secret"),
                data={
                    "grant_type": "password",
                    "username": "+16509100000",
                    "extension": "102",
                    "password": "Bob-102!",
                },
            ).json()["access_token"]
            n, c = args.sends, args.concurrency
            internal = asyncio.run(_burst(base, token, ["+16509100010"] * n, c))
            handsets = [f"+1415555{i % max(1, n // 10):04d}" for i in range(n)]
            start = time.perf_counter()
            to_handsets = asyncio.run(_burst(base, token, handsets, c))
            while not args.sends_only and _delivered(base) < n:
                time.sleep(0.05)
            all_delivered = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(30)
    print(
        f"database {database.split(':')[0]}, {args.workers} process(es), {n} sends, {c} at a time"
    )
    print(f"sends between extensions: {n / internal:8.0f} /s")
    print(f"sends to handsets:        {n / to_handsets:8.0f} /s")
    if not args.sends_only:
        print(
            f"all {n} delivered {all_delivered:.2f} s after the first send "
            f"({n / all_delivered:.0f} deliveries/s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
