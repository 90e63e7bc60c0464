"""The Alembic migrations build exactly the tables of store/schema.py, on both databases,
and running them again changes nothing."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ringlet.store import migrate
from ringlet.store.database import create_engine
from ringlet.store.schema import metadata
from tests.support.server import fresh_database


def test_migrations_match_the_schema_and_are_idempotent(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path / "db") as url:
        engine = create_engine(url, writer=True)
        try:
            migrate.upgrade(engine)
            migrate.upgrade(engine)  # a second start finds nothing to do
            with engine.connect() as conn:
                context = MigrationContext.configure(conn)
                assert compare_metadata(context, metadata) == []
                tables = set(sa.inspect(conn).get_table_names())
            assert set(metadata.tables) <= tables
        finally:
            engine.dispose()


def test_the_newest_revision_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert migrate.newest_revision() == script.get_current_head()
