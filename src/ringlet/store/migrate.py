"""Schema creation and upgrades with Alembic, run by the server itself at start-up.

Alembic is imported only when there is something to do: loaded, it stays in every process for
its whole life (about 12 MiB of resident memory, the server's and the delivery process's each),
and a database already at the newest schema, the usual start, needs none of it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

if TYPE_CHECKING:
    from alembic.config import Config

_MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant: serialises concurrent start-ups of several servers on one PostgreSQL database.
_PG_LOCK_KEY = 0x52494E474C4554


def newest_revision() -> str:
    """The head of the migrations, by their naming rule: `versions/NNNN_<what>.py` holds
    revision "NNNN" (tests/integration/test_migrations.py checks Alembic agrees)."""
    return max(path.name.split("_", 1)[0] for path in (_MIGRATIONS / "versions").glob("*_*.py"))


def _at_newest(conn: Connection) -> bool:
    try:
        rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    except sa.exc.DBAPIError:
        return False  # a new database: no table yet
    return [row[0] for row in rows] == [newest_revision()]


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema; a no-op when it is there already."""
    with engine.connect() as conn:
        if _at_newest(conn):
            return
    from alembic import command

    config = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
