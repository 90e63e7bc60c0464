"""Engines, transactions and group commit.

Writes are gathered into batches, one at a time per process: each write waiting runs inside its
own SAVEPOINT of one shared transaction, the batch commits once, and only then are the callers
answered: a send is acknowledged only after it is durable, each send keeps all of its records
or none (its savepoint), and the cost of a commit (an fsync) is shared by every send in the
batch.

Where a batch runs depends on the database. On PostgreSQL every statement is a round trip, so
batches run on a writer thread of their own. On SQLite a statement is a call into the library,
and a thread would share the GIL with the event loop: each statement releases the GIL and the
writer must then win it back from a busy loop, up to the interpreter's 5 ms switch interval
each time. Measured on the send scenario (64 connections), a batch of 32 sends took 15-19 ms of
which the writer ran 4. So on SQLite the batch's statements run on the event loop itself, and
only the commit, the one call that waits (the fsync) and releases the GIL throughout, goes to a
thread; the loop meanwhile serves requests and gathers the next batch.

Reads run on a small pool of threads, each with its own connection; on SQLite in WAL mode they
never wait for the writer. Reads known to be small run on the event loop
itself on SQLite (`read_small`), where a thread costs more than it saves.

Several processes may share one SQLite file (`ringlet serve --workers N`, or `ringlet load`
beside a running server). SQLite lets one of them write at a time, and one that finds the
file locked polls: its busy handler sleeps 1, 2, 5, 10... ms between tries, so two writers
spend more time asleep than writing. Each batch therefore first takes an exclusive `flock` on a
lock file beside the database (`<file>.writer-lock`): a waiting writer thread sleeps in the
kernel, without the GIL, gathering its next batch, and wakes the moment the other commits.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from ringlet.clock import system_clock
from ringlet.domain.errors import ServiceUnavailable
from ringlet.store import conversation_heads, outbox, store_versions
from ringlet.store.database_errors import outage_in, unavailable_cause

T = TypeVar("T")
log = logging.getLogger(__name__)

_BATCH_MAX = 256
# While the database is unavailable every request fails alike: one log line this often.
_OUTAGE_LOG_SECONDS = 10.0


def normalize_url(url: str) -> str:
    """Accept the plain URLs users write and pick the drivers ringlet ships with."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def writer_lock_path(url: str) -> str | None:
    """The lock file writers of a SQLite file take (see above); None for an in-memory SQLite
    database and for PostgreSQL, which needs none."""
    if not is_sqlite(url):
        return None
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database + ".writer-lock"


class _WriterLock:
    """An exclusive flock on the lock file, held by one process's writer at a time."""

    def __init__(self, path: str | None) -> None:
        self._fd = None if path is None else os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    @contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def acquire(self, *, wait: bool = True) -> bool:
        """Take the lock; with `wait` False, only if it is free at once (else False)."""
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                return False
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def create_engine(url: str, *, writer: bool, pool_size: int = 4) -> Engine:
    url = normalize_url(url)
    if is_sqlite(url):
        engine = sa.create_engine(
            url,
            poolclass=sa.pool.QueuePool,
            pool_size=1 if writer else pool_size,
            max_overflow=0 if writer else pool_size,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so that
            # SAVEPOINTs work (the documented pysqlite recipe).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql(begin)

        return engine
    return sa.create_engine(
        url,
        pool_size=1 if writer else pool_size,
        max_overflow=0 if writer else pool_size,
        pool_pre_ping=True,
    )


@dataclass
class _Job:
    work: Callable[[Connection], Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


class Database:
    """The process's access to the database: `write` and `read` run a function with a
    connection inside a transaction, off the event loop."""

    def __init__(self, url: str, *, read_threads: int = 4) -> None:
        self.url = url
        self.writer_engine = create_engine(url, writer=True)
        # Commit hooks, in this order (each module says why): the store counters' bump, the
        # conversation heads (ordered by those counters' row locks), the outbox.
        store_versions.install(self.writer_engine)
        conversation_heads.install(self.writer_engine)
        outbox.install(self.writer_engine, system_clock)
        # Called on the writer thread after a commit that wrote outbox rows or signals, with what
        # it signals (outbox.EVENTS, SUBSCRIPTIONS, RESET): the notification dispatchers'
        # wake-up, which must not read before the rows are visible.
        self.on_outbox_commit: Callable[[frozenset[str]], None] | None = None
        self._writer_lock = _WriterLock(writer_lock_path(url))
        self.reader_engine = create_engine(url, writer=False, pool_size=read_threads)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, name="ringlet-writer", daemon=True)
        self._readers = ThreadPoolExecutor(read_threads, thread_name_prefix="ringlet-reader")
        self._reads_inline = is_sqlite(url)
        # SQLite: batches on the event loop of the writes (`_run_batch_here`).
        self._writes_here = is_sqlite(url)
        self._home_loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[_Job] = []
        self._drainer: asyncio.Task[None] | None = None  # held: a task nobody holds may vanish
        self._committer = ThreadPoolExecutor(1, thread_name_prefix="ringlet-commit")
        self._inline = threading.local()
        self._inline_lock = threading.Lock()
        self._inline_connections: list[Connection] = []
        self._started = False
        self._outage = _Outage()

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._writer.start()

    def close(self) -> None:
        if self._started:
            self._jobs.put(None)
            self._writer.join(timeout=30)
            self._started = False
        self._readers.shutdown(wait=True)
        self._committer.shutdown(wait=True)  # a commit under way completes
        if self._pending:  # writes the loop had no turn for before it stopped
            pending, self._pending = self._pending, []
            self._run_batch(pending)
        with self._inline_lock:
            inline, self._inline_connections = self._inline_connections, []
        for conn in inline:
            conn.close()
        self.writer_engine.dispose()
        self.reader_engine.dispose()
        self._writer_lock.close()

    # -- synchronous use (CLI, provisioning at start-up, tests) -----------------------------

    def write_now(self, work: Callable[[Connection], T]) -> T:
        with self._writer_lock.held(), self.writer_engine.connect() as conn:
            with conn.begin():
                result = work(conn)
            wrote = conn.info.pop(outbox.WROTE, None)
        if wrote:
            self._outbox_committed(wrote)
        return result

    def _outbox_committed(self, kinds: frozenset[str]) -> None:
        callback = self.on_outbox_commit
        if callback is not None:
            try:
                callback(kinds)
            except Exception:
                log.exception("outbox wake-up failed")

    def read_now(self, work: Callable[[Connection], T]) -> T:
        with self.reader_engine.begin() as conn:
            return work(conn)

    # -- asynchronous use (the server) --------------------------------------------------------

    async def write(self, work: Callable[[Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        job = _Job(work, loop, future)
        # Another loop's writes (a test's second asyncio.run) take over once none is in flight.
        if self._writes_here and (self._drainer is None or self._home_loop is loop):
            self._home_loop = loop
            self._pending.append(job)
            if self._drainer is None:
                self._drainer = loop.create_task(self._drain())
        else:
            self._jobs.put(job)
        try:
            result = await future
        except Exception as exc:
            self._outage.check(exc)
            raise
        self._outage.over()
        return result

    async def read(self, work: Callable[[Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._readers, self.read_now, work)
        except Exception as exc:
            self._outage.check(exc)
            raise

    async def read_small(self, work: Callable[[Connection], T]) -> T:
        """A read known to visit few rows (an index walk bounded by a small LIMIT, like the
        message list's default query): on SQLite it runs right here, on the event loop.

        Why: SQLite is in-process, so a reader thread overlaps no I/O; it only adds a hand-off
        (~180 us a request under load) and, worse, the sqlite3 module releases the GIL around
        every row it steps, so under load each row fetched on a reader thread costs a thread
        switch (~2.4 us). Measured with wrk on the 100-record list: 1,040 req/s on the reader
        pool, 1,650 req/s here. A read that may visit many rows must use `read` instead, or it
        would stall every other request while it runs. On PostgreSQL this is `read` (a network
        round trip must not block the loop).

        On SQLite no transaction is begun up front (BEGIN and COMMIT through SQLAlchemy cost
        ~25 us): a statement run on the DBAPI cursor is then its own snapshot, and one run
        through SQLAlchemy begins a transaction as usual, rolled back at the end. So `work`
        must not need one snapshot across several raw statements."""
        if not self._reads_inline:
            return await self.read(work)
        try:
            conn = self._inline_connection()
            try:
                return work(conn)
            finally:
                if conn.in_transaction():
                    conn.rollback()
        except Exception as exc:
            self._outage.check(exc)
            raise

    def _inline_connection(self) -> Connection:
        """The calling thread's own connection for `read_small`, kept open: checking one out of
        the pool and back for every read costs ~20 us. Only its thread ever uses it."""
        conn: Connection | None = getattr(self._inline, "connection", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self.reader_engine.connect()
            self._inline.connection = conn
            with self._inline_lock:
                self._inline_connections.append(conn)
        return conn

    async def _drain(self) -> None:
        """Batches of the writes gathered, one after another, until none is left."""
        try:
            while self._pending:
                batch = self._pending[:_BATCH_MAX]
                del self._pending[: len(batch)]
                await self._run_batch_here(batch)
        finally:
            self._drainer = None

    async def _run_batch_here(self, batch: list[_Job]) -> None:
        """`_run_batch` on the event loop, the commit on the committer thread (SQLite)."""
        loop = asyncio.get_running_loop()
        outcomes: list[tuple[bool, Any]] = []
        wrote: frozenset[str] | None = None
        locked = self._writer_lock.acquire(wait=False) or await loop.run_in_executor(
            self._committer, self._writer_lock.acquire
        )
        handed_over = False
        try:
            conn = self.writer_engine.connect()
            try:
                transaction = conn.begin()
                try:
                    outcomes = _run_jobs(conn, batch)
                except BaseException:
                    transaction.rollback()
                    raise
                handed_over = True
                # Shielded: cancelled or not, the commit completes and the thread cleans up.
                wrote = await asyncio.shield(
                    loop.run_in_executor(self._committer, self._commit, conn, transaction, locked)
                )
            finally:
                if not handed_over:
                    conn.info.pop(outbox.WROTE, None)
                    conn.close()
        except _JobFailed as failed:
            outcomes = failed.outcomes  # the job's own error; nothing was committed
        except Exception as exc:
            outcomes = self._failed(batch, exc)
            wrote = None
        finally:
            if locked and not handed_over:
                self._writer_lock.release()
        if wrote:
            self._outbox_committed(wrote)
        for job, (ok, value) in zip(batch, outcomes, strict=True):
            _settle(job.future, ok, value)

    def _commit(self, conn: Connection, transaction: Any, locked: bool) -> frozenset[str] | None:
        """On the committer thread: commit, give the connection back, release the lock."""
        try:
            try:
                transaction.commit()
            finally:
                wrote: frozenset[str] | None = conn.info.pop(outbox.WROTE, None)
                conn.close()
        finally:
            if locked:
                self._writer_lock.release()
        return wrote

    @staticmethod
    def _failed(batch: list[_Job], exc: Exception) -> list[tuple[bool, Any]]:
        outage = outage_in(exc)
        if outage is None:
            log.exception("commit of a batch of %d writes failed", len(batch))
        # An outage is logged once by the callers' side (_Outage), as a 503.
        return [(False, outage or exc)] * len(batch)

    def _write_loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            batch = [job]
            stop = False
            while len(batch) < _BATCH_MAX:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._run_batch(batch)
            if stop:
                return

    def _run_batch(self, batch: list[_Job]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        wrote: frozenset[str] | None = None
        try:
            with self._writer_lock.held(), self.writer_engine.connect() as conn:
                try:
                    with conn.begin():
                        outcomes = _run_jobs(conn, batch)
                finally:
                    wrote = conn.info.pop(outbox.WROTE, None)
        except _JobFailed as failed:
            outcomes = failed.outcomes  # the job's own error; nothing was committed
        except Exception as exc:
            outcomes = self._failed(batch, exc)
            wrote = None
        if wrote:
            self._outbox_committed(wrote)
        # One wake-up of each waiting event loop per batch, not one per job: every
        # call_soon_threadsafe writes to the loop's wake-up fd and costs the loop a turn.
        settled: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for job, (ok, value) in zip(batch, outcomes, strict=True):
            settled.setdefault(job.loop, []).append((job.future, ok, value))
        for loop, results in settled.items():
            loop.call_soon_threadsafe(_settle_all, results)


class _Outage:
    """The database has gone away, filled up or turned read-only: requests answer 503
    (ServiceUnavailable) instead of 500, and the log says so once every few seconds rather
    than once per request, then once more when it is back. Any other database error is a bug
    and stays what it is."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: float | None = None
        self._logged = 0.0

    def check(self, exc: Exception) -> None:
        """Raise ServiceUnavailable if `exc` is (or was caused by) an outage; else return."""
        outage = outage_in(exc)
        if outage is None:
            return
        cause = unavailable_cause(outage)
        exc = outage
        now = time.monotonic()
        with self._lock:
            if self._since is None:
                self._since = now
            quiet = now - self._logged < _OUTAGE_LOG_SECONDS
            if not quiet:
                self._logged = now
        if not quiet:
            detail = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
            log.error(
                "database unavailable (%s: %s): requests answer 503 until it is back",
                cause,
                detail[0] if detail else type(exc).__name__,
            )
        raise ServiceUnavailable() from exc

    def over(self) -> None:
        if self._since is None:  # the usual case: one attribute read per write
            return
        with self._lock:
            since, self._since, self._logged = self._since, None, 0.0
        if since is not None:
            log.warning("database available again after %.1f s", time.monotonic() - since)


class _JobFailed(Exception):
    """A lone job failed: roll its transaction back, report its own error."""

    def __init__(self, outcomes: list[tuple[bool, Any]]) -> None:
        super().__init__()
        self.outcomes = outcomes


def _run_jobs(conn: Connection, batch: list[_Job]) -> list[tuple[bool, Any]]:
    """Every job of `batch` in the transaction begun on `conn`, each in a savepoint of its own;
    a lone job without one (its failure rolls the whole transaction back anyway: _JobFailed)."""
    if len(batch) == 1:
        try:
            return [(True, batch[0].work(conn))]
        except Exception as exc:
            raise _JobFailed([(False, exc)]) from exc
    return [_run_in_savepoint(conn, job) for job in batch]


def _run_in_savepoint(conn: Connection, job: _Job) -> tuple[bool, Any]:
    """Run one job of a batch so that its failure undoes its own writes only. Plain SQL
    savepoints on the DBAPI connection (sqlite3 and psycopg both offer `execute` there):
    SQLAlchemy's nested-transaction objects cost more than the inserts they guard."""
    raw: Any = conn.connection.dbapi_connection
    raw.execute("SAVEPOINT job")
    recorded = outbox.mark(conn)
    try:
        result = job.work(conn)
    except Exception as exc:
        outbox.rollback_to(conn, recorded)
        raw.execute("ROLLBACK TO SAVEPOINT job")
        raw.execute("RELEASE SAVEPOINT job")
        return False, exc
    raw.execute("RELEASE SAVEPOINT job")
    return True, result


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def _settle_all(results: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in results:
        _settle(future, ok, value)
