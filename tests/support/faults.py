"""Faults injected in the database itself, so that a real server meets a real database error
mid-way through a transaction: a trigger that refuses one row.

`refused_inserts(url, extension_id, subject)` makes every INSERT into `messages` of a copy for
that store with that text fail (SQLite: RAISE(ABORT); PostgreSQL: RAISE EXCEPTION), for as
long as the context lasts. Copies inserted before it by the same transaction are already
there when it fails: what the transaction does with them is what a test looks at.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import sqlalchemy as sa

from ringlet.store.database import normalize_url

TRIGGER: Final = "ringlet_test_refused_insert"
MESSAGE: Final = "fault injected by the test"


def _execute(url: str, *statements: str, params: dict[str, object] | None = None) -> None:
    engine = sa.create_engine(normalize_url(url))
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA busy_timeout = 30000")
            for statement in statements:
                conn.execute(sa.text(statement), params or {})
    finally:
        engine.dispose()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def refused_inserts(url: str, extension_id: int, subject: str) -> Iterator[None]:
    condition = f"NEW.extension_id = {int(extension_id)} AND NEW.subject = {_literal(subject)}"
    if url.startswith("sqlite"):
        _execute(
            url,
            f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON messages WHEN {condition} "
            f"BEGIN SELECT RAISE(ABORT, {_literal(MESSAGE)}); END",
        )
        undo = [f"DROP TRIGGER IF EXISTS {TRIGGER}"]
    else:
        _execute(
            url,
            f"CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION {_literal(MESSAGE)}; END $$",
            f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON messages FOR EACH ROW "
            f"WHEN ({condition}) EXECUTE FUNCTION {TRIGGER}()",
        )
        undo = [f"DROP TRIGGER IF EXISTS {TRIGGER} ON messages", f"DROP FUNCTION {TRIGGER}()"]
    try:
        yield
    finally:
        _execute(url, *undo)
