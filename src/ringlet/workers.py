"""`ringlet serve --workers N`: N server processes on one port and one database.

uvicorn starts the processes (its supervisor restarts one that dies) and the kernel spreads the
connections over them. The parent migrates and provisions first, once, then hands the settings
to every worker through the environment, where each builds its own services: a writer thread,
readers, memos. What the processes share is the database:

- writes: on PostgreSQL, concurrent transactions; on SQLite, one writer at a time, taken in turn
  through a lock file (store/database.py);
- the message list's memo follows the store's change counter, which every process reads
  (store/store_versions.py), so a page is never staler than the database;
- the directory and token memos of each process follow its own changes at once and the other
  processes' changes within a second (store/cache.py);
- rate limits are counted per process (api/rate_limit.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ringlet.config import Settings

if TYPE_CHECKING:
    from ringlet.api.entry import RingletApp

SETTINGS_ENV: Final = "RINGLET_WORKER_SETTINGS"


def export_settings(settings: Settings) -> None:
    """Put the settings where the workers read them. Provisioning is the parent's job: the
    workers get no fixtures and no demo."""
    chosen = dataclasses.replace(settings, fixtures=(), demo=False)
    os.environ[SETTINGS_ENV] = json.dumps(dataclasses.asdict(chosen))


def _imported_settings() -> Settings:
    values = json.loads(os.environ[SETTINGS_ENV])
    values["fixtures"] = tuple(Path(p) for p in values["fixtures"])
    return Settings(**values)


def app() -> RingletApp:
    """The application of one worker process (uvicorn's factory)."""
    from ringlet.api.app import create_app
    from ringlet.bootstrap import build

    return create_app(build(_imported_settings()))
