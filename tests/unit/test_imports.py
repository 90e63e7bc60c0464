"""What a server on SQLite loads: psycopg only where the database is PostgreSQL (it costs each
process about 10 MiB of resident memory, the server and its delivery process alike)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


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


def test_a_start_on_a_database_at_the_newest_schema_does_not_load_alembic(tmp_path: Path) -> None:
    """Alembic stays in a process for good once imported (about 12 MiB each)."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    code = (
        "import sys\n"
        "from ringlet.bootstrap import build\n"
        "from ringlet.config import Settings\n"
        f"build(Settings(database_url={url!r})).db.close()\n"
        "print('alembic' in sys.modules)\n"
    )
    first, again = (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
        ).stdout.strip()
        for _ in range(2)
    )
    assert (first, again) == ("True", "False")  # the first start creates the schema
