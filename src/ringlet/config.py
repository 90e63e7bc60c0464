"""Settings, passed explicitly to `bootstrap.build` and `api.app.create_app`: nothing is
read from the environment at import time."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///ringlet.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    fixtures: tuple[Path, ...] = field(default_factory=tuple)
    demo: bool = False
    # Enables /_ringlet/fixtures (runtime provisioning) for whoever presents it. Unset: off.
    admin_token: str | None = None
    max_body_bytes: int = 1 << 20
