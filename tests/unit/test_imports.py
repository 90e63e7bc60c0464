"""What a server on SQLite loads: psycopg only where the database is PostgreSQL (it costs each
process about 10 MiB of resident memory, the server and its delivery process alike)."""

from __future__ import annotations

import subprocess
import sys


def test_the_server_and_the_delivery_process_do_not_import_psycopg() -> None:
    code = (
        "import sys\n"
        "import ringlet.api.app, ringlet.cli, ringlet.notify.delivery, ringlet.serving.run\n"
        "print('psycopg' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "False"
