"""PostgreSQL helpers of the benchmarks: a scratch database of the benchmark's own (created for
the run and dropped after it, so that a benchmark never touches anyone else's data), and the
CPU time the PostgreSQL server spends on it (its backend processes, read from /proc)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from bench.run import BenchError


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _terminate(conn: psycopg.Connection[tuple[object, ...]], name: str) -> None:
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )


@contextlib.contextmanager
def scratch_database(admin_url: str, name: str) -> Iterator[str]:
    """A new, empty database `name` on the server of `admin_url` (any database the user may
    connect to, used only to create and drop this one); dropped on exit. An earlier run's
    leftover of the same name is dropped first. Yields its URL."""
    if not name.startswith("ringlet_bench_"):
        raise ValueError(f"refusing to create or drop {name!r}: not a benchmark database")
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise BenchError(f"cannot connect to PostgreSQL at {admin_url}: {exc}") from None
    with admin:
        _terminate(admin, name)
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as admin:
            _terminate(admin, name)
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (those gone count 0)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def backend_pids(url: str) -> list[int]:
    """The server processes (backends) connected to the database of `url` right now, on
    this machine. Read /proc for their CPU: pg_stat_activity has none."""
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return [int(r[0]) for r in rows]


def server_pids() -> list[int]:
    """Every process of the local PostgreSQL server: the postmaster (found as the parent of
    a backend) and all its children (backends of every database, the WAL writer, the
    checkpointer, ...). Empty when PostgreSQL runs on another machine."""
    by_name: list[tuple[int, int, str]] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            by_name.append((int(entry.name), ppid, name))
    roots = {pid for pid, _, name in by_name if name in ("postgres", "postmaster")}
    # The postmaster is the postgres process whose parent is not a postgres process.
    postmasters = {pid for pid, ppid, name in by_name if pid in roots and ppid not in roots}
    return [pid for pid, ppid, _ in by_name if pid in postmasters or ppid in postmasters]
