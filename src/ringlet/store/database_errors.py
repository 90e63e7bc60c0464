"""What went wrong with the database, in one line a user can act on.

Two moments need it. At start-up (`ringlet serve`, `ringlet load`) a URL that cannot work is
refused before anything is opened, and a database that cannot be reached or written is
described by its cause instead of the driver's traceback. While serving, a database that has
gone away (PostgreSQL restarting, the disk full, the file made read-only) makes requests
answer 503 rather than 500: `unavailable_cause` tells those failures from programming errors.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from ringlet.domain.errors import ServiceUnavailable

_EXAMPLES: Final = "sqlite:///ringlet.db (a file) or postgresql://user@host:port/dbname"
_SCHEMES: Final = ("sqlite", "postgresql", "postgres")


class DatabaseProblem(Exception):
    """A database URL that cannot work, or a database that cannot be used; the message is
    the one line to show."""


def shown(url: str) -> str:
    """The URL as it may be printed: a password is masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def check_url(url: str) -> None:
    """Refuse, before anything is opened, a URL that cannot work: DatabaseProblem."""
    if "://" not in url:
        hint = f"sqlite:///{url}" if url.endswith((".db", ".sqlite", ".sqlite3")) else _EXAMPLES
        raise DatabaseProblem(f"--database {url!r} is not a database URL: write {hint}")
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme not in _SCHEMES:
        raise DatabaseProblem(
            f"--database {shown(url)!r}: ringlet runs on SQLite and PostgreSQL only; write "
            f"{_EXAMPLES}"
        )
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseProblem(
            f"--database {url!r} is not a database URL: write {_EXAMPLES}"
        ) from None
    if scheme != "sqlite":
        if not parsed.database:
            raise DatabaseProblem(
                f"--database {shown(url)!r} names no database: add it, "
                "postgresql://user@host:port/dbname"
            )
        return
    database = parsed.database or ""
    if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
        raise DatabaseProblem(
            f"--database {url!r}: an in-memory SQLite database is not supported (each "
            "connection would see its own empty database); name a file, e.g. "
            "sqlite:///ringlet.db, in a temporary directory for a throw-away server"
        )
    if database.startswith("file:"):
        return  # a SQLite URI filename: SQLite itself reads it
    directory = Path(database).parent
    if not directory.is_dir():
        raise DatabaseProblem(
            f"--database {url!r}: the directory {str(directory)!r} does not exist; "
            "create it, or choose a file in an existing directory"
        )


_PG_ENDPOINT = re.compile(r'connection to server at "([^"]+)"(?: \([^)]*\))?, port (\d+) failed')


def describe(exc: BaseException, url: str) -> str:
    """One line naming the cause of a failure to open, migrate or write the database, and
    what to do about it."""
    where = shown(url)
    if isinstance(exc, DatabaseProblem):
        return str(exc)
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(original).strip()
    lowered = text.lower()
    if isinstance(original, OSError):  # the writers' lock file beside a SQLite database
        return f"cannot open the database {where}: {original.strerror or text}"
    if "readonly database" in lowered or "read-only" in lowered:
        if not is_sqlite_url(url):
            return (
                f"the database {where} is read-only (a standby, or default_transaction_read_only"
                "): ringlet must write to it; point --database at the primary"
            )
        return (
            f"the database {where} is read-only: ringlet must write the file and the -wal, "
            "-shm and .writer-lock files beside it; check their permissions and the "
            "file system"
        )
    if "disk is full" in lowered or "no space left" in lowered:
        return f"the database {where} cannot grow: the disk is full; free some space"
    if "file is not a database" in lowered:
        return f"{where} is not a SQLite database file; name another file"
    if "unable to open database file" in lowered:
        return f"cannot open the database file of {where}: check the path and its permissions"
    if is_sqlite_url(url):
        return f"the database {where} failed: {_first_line(text)}"
    endpoint = _PG_ENDPOINT.search(text)
    server = f"{endpoint[1]}:{endpoint[2]}" if endpoint else "the server"
    missing = re.search(r'database "([^"]+)" does not exist', text)
    if missing:
        return (
            f'PostgreSQL database "{missing[1]}" does not exist on {server}: create it '
            f"(createdb {missing[1]}) or name an existing one in --database"
        )
    if "connection refused" in lowered:
        return (
            f"cannot connect to PostgreSQL at {server} (connection refused): is it running, "
            "and are the host and port right in --database?"
        )
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return f"PostgreSQL at {server} refused the login of {where}: check user and password"
    if "role" in lowered and "does not exist" in lowered:
        return f"PostgreSQL at {server} has no such user ({where}): create it or name another"
    if "translate host name" in lowered or "name or service not known" in lowered:
        return f"cannot connect to PostgreSQL: unknown host in {where}"
    if "timeout" in lowered or "timed out" in lowered:
        return f"cannot connect to PostgreSQL at {server}: no answer (timed out)"
    return f"the database {where} failed: {_first_line(text)}"


def _first_line(text: str) -> str:
    line = text.splitlines()[0] if text else "unknown error"
    return line.removeprefix("connection failed: ").strip()


def is_sqlite_url(url: str) -> bool:
    return url.startswith("sqlite")


def outage_in(exc: BaseException) -> DBAPIError | None:
    """The database error behind `exc` that means an outage, looking along its causes: a
    connection cut mid-batch fails again on the ROLLBACK that follows, and SQLAlchemy then
    raises its own error (PendingRollbackError) with the driver's errors as the context."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and unavailable_cause(current) is not None:
            return current
        current = current.__cause__ or current.__context__
    return None


def unavailable_cause(exc: BaseException) -> str | None:
    """A short cause when `exc` means the database cannot be used right now (gone, restarting,
    full, read-only), rather than a bug: requests then answer 503. None otherwise."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "the connection to the database was lost"
    if isinstance(exc, sa.exc.InterfaceError | sa.exc.TimeoutError):
        return "the database does not answer"
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(original).lower()
    if "read-only transaction" in text:  # PostgreSQL: a standby, or read-only by setting
        return "the database is read-only"
    if not isinstance(exc, OperationalError):
        return None
    for marker, cause in _UNAVAILABLE:
        if marker in text:
            return cause
    return None


_UNAVAILABLE: Final = (
    ("disk is full", "the disk is full"),
    ("no space left", "the disk is full"),
    ("readonly database", "the database is read-only"),
    ("read-only", "the database is read-only"),
    ("disk i/o error", "the disk failed"),
    ("database is locked", "the database is locked by another process"),
    ("connection", "the database does not answer"),
    ("server closed", "the database does not answer"),
    ("terminating", "the database is shutting down"),
    ("shutting down", "the database is shutting down"),
    ("starting up", "the database is starting up"),
    ("recovery mode", "the database is recovering"),
)


def sqlite_files(url: str) -> list[Path]:
    """The files a SQLite database of `url` consists of (none for PostgreSQL), so that a
    failed `ringlet load` can take away the ones it created."""
    if not is_sqlite_url(url):
        return []
    database = make_url(url).database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return []
    return [Path(database + suffix) for suffix in ("", "-wal", "-shm", "-journal", ".writer-lock")]


def log_background_failure(logger: logging.Logger, what: str, *args: object) -> None:
    """For the `except` of a background task's round (the carrier worker, the notification
    dispatcher): a database outage is already reported by the database layer, once when it
    starts and once when it ends (store/database.py), so here it is a debug line; anything
    else is a bug and keeps its traceback. Call it inside the `except` block."""
    exc = sys.exc_info()[1]
    if exc is not None and (
        isinstance(exc, ServiceUnavailable) or unavailable_cause(exc) is not None
    ):
        logger.debug(what + " (the database is unavailable)", *args)
    else:
        logger.exception(what, *args)
