"""Plain SQL for the statements the hot paths run straight on the DBAPI cursor (a send's inserts,
the outbox, the carrier queue, the delivery journal): going around SQLAlchemy's statement
building costs a fraction, and these run thousands of times a second."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def insert_sql(paramstyle: str, table: str, columns: tuple[str, ...], returning: str = "") -> str:
    """`INSERT INTO table (columns) VALUES (...)` with the driver's placeholders (sqlite3's `?`,
    psycopg's `%s`), optionally `RETURNING` a column."""
    mark = "?" if paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    return f"{sql} RETURNING {returning}" if returning else sql


@functools.cache
def unnest_insert_sql(
    table: str,
    columns: tuple[str, ...],
    pg_types: tuple[str, ...],
    returning: str = "",
) -> str:
    """PostgreSQL: many rows in ONE statement of one array parameter per column
    (`INSERT ... SELECT * FROM unnest(%b::bigint[], ...)`), the rows in the arrays' order.

    One statement of a few parameters, whatever the number of rows: psycopg parses nothing per
    row and PostgreSQL plans and executes once, where a pipelined `executemany` still has the
    server execute one statement per row (about 40 us each, most of a 1,000-member fan-out).
    The arrays go in binary (`%b`): psycopg's text form of an array escapes every string with a
    regular expression, which cost more than the statements saved."""
    arrays = ", ".join(f"%b::{t}[]" for t in pg_types)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
    return f"{sql} RETURNING {returning}" if returning else sql


def columns_of(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """The rows as one list per column (the parameters of `unnest_insert_sql`)."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]
