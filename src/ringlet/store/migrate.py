"""Schema creation and upgrades with Alembic, run by the server itself at start-up."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

_MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant: serialises concurrent start-ups of several servers on one PostgreSQL database.
_PG_LOCK_KEY = 0x52494E474C4554


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema; a no-op when it is there already."""
    config = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
