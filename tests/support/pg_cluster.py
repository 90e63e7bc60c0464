"""A PostgreSQL server of a test's own: a new cluster (initdb) in a temporary directory, on a free
port, that the test may stop and start at will. The shared server the other tests use is never
touched.

The programs are found at run time: on the PATH, else in the newest of the distribution's
versioned directories (`/usr/lib/postgresql/<version>/bin` on Debian and Ubuntu). PostgreSQL
refuses to run as root; run as root, the cluster belongs to the `postgres` system user.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from tests.support.server import free_port

_VERSIONED_BINARIES = "/usr/lib/postgresql/*/bin"


def find_program(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found

    def version(directory: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", directory))

    for directory in sorted(glob.glob(_VERSIONED_BINARIES), key=version, reverse=True):
        candidate = Path(directory) / name
        if candidate.is_file():
            return str(candidate)
    raise RuntimeError(
        f"PostgreSQL's {name} is not installed (not on the PATH, nor in {_VERSIONED_BINARIES})"
    )


class PgCluster:
    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.port = port
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(directory, owner.pw_uid, owner.pw_gid)
            self._as = {"user": owner.pw_uid, "group": owner.pw_gid}

    @classmethod
    @contextmanager
    def started(cls) -> Iterator[PgCluster]:
        directory = Path(tempfile.mkdtemp(prefix="ringlet-pg-"))
        cluster = cls(directory, free_port())
        try:
            cluster._run(
                "initdb",
                "-D",
                str(cluster.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            )
            cluster.start()
            yield cluster
        finally:
            cluster.stop(missing_ok=True)
            shutil.rmtree(directory, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [find_program(program), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=self.directory,
            **self._as,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stderr or done.stdout}"
            )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.directory / "server.log"),
            "-w",
            "start",
        )

    def stop(self, *, missing_ok: bool = False) -> None:
        """A fast shutdown: every client connection is ended at once."""
        if missing_ok and not (self.data / "postmaster.pid").exists():
            return
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"
