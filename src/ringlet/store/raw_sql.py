"""Plain SQL for the statements the hot paths run straight on the DBAPI cursor (a send's inserts,
the outbox, the carrier queue, the delivery journal): going around SQLAlchemy's statement
building costs a fraction, and these run thousands of times a second."""

from __future__ import annotations

import functools


@functools.cache
def insert_sql(paramstyle: str, table: str, columns: tuple[str, ...], returning: str = "") -> str:
    """`INSERT INTO table (columns) VALUES (...)` with the driver's placeholders (sqlite3's `?`,
    psycopg's `%s`), optionally `RETURNING` a column."""
    mark = "?" if paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    return f"{sql} RETURNING {returning}" if returning else sql
