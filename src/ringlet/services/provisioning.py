"""Provisioning: loading fixture files (CLI, start-up, POST /_ringlet/fixtures) and the demo.

One file is one transaction: validated whole before anything is written, applied in one
transaction, so a bad file or a database error leaves nothing half-loaded. The slow part,
argon2 hashing of passwords and client secrets, is done before the write transaction (from a
read of the current hashes), so the single writer is not held up by it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ringlet import security
from ringlet.demo import demo_fixture
from ringlet.demo.intro import DemoIntro, DemoStatus
from ringlet.domain.errors import InvalidInput
from ringlet.fixtures import Fixture, from_document, parse_json, parse_yaml, read_path
from ringlet.store import fixture_plans
from ringlet.store import provisioning as store
from ringlet.store.cache import Caches
from ringlet.store.database import Database
from ringlet.store.provisioning import Applied, Kind, Outcome

log = logging.getLogger(__name__)

T = TypeVar("T")
TextFormat = Literal["json", "yaml"]


@dataclass(frozen=True, slots=True)
class LoadReport:
    accounts: tuple[tuple[int, str | None], ...]  # (id, main number) of each account loaded
    entries: dict[Kind, int]  # how many of each kind the file holds
    outcomes: Counter[Outcome]

    @classmethod
    def of(cls, fixture: Fixture, applied: Applied) -> LoadReport:
        outcomes: Counter[Outcome] = Counter()
        for (_kind, outcome), n in applied.tally.items():
            outcomes[outcome] += n
        entries = {
            Kind.ACCOUNT: len(fixture.accounts),
            Kind.EXTENSION: fixture.extension_count,
            Kind.PHONE_NUMBER: fixture.phone_number_count,
            Kind.APP: len(fixture.apps),
        }
        return cls(tuple(applied.accounts), entries, outcomes)

    def summary(self) -> str:
        """`1 account, 8 extensions, 7 phone numbers, 1 app (created 17, updated 0,
        unchanged 0)`; `removed N` is added when numbers the file dropped were deleted."""
        kinds = ", ".join(
            f"{n} {kind.value}{'' if n == 1 else 's'}" for kind, n in self.entries.items()
        )
        counts = [
            f"{o.value} {self.outcomes[o]}"
            for o in (Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED)
        ]
        if self.outcomes[Outcome.REMOVED]:
            counts.append(f"{Outcome.REMOVED.value} {self.outcomes[Outcome.REMOVED]}")
        return f"{kinds} ({', '.join(counts)})"


class _PreparedSecrets:
    """`fixture_plans.Secrets` with the argon2 work done ahead: `prepare` computes, for each
    (current hash, plain) the load will ask about, the hash to store; `hash_for` hands them
    out, computing on the spot only what was not foreseen (a row changed in between).

    A list per key rather than one value: two new extensions with the same password must each
    get their own salted hash, or the database would show that they share it.
    """

    def __init__(self) -> None:
        self._ready: dict[tuple[str | None, str], list[str]] = {}

    def prepare(self, needs: list[tuple[str | None, str]]) -> None:
        for current, plain in needs:
            self._ready.setdefault((current, plain), []).append(self._compute(current, plain))

    def hash_for(self, current_hash: str | None, plain: str) -> str:
        ready = self._ready.get((current_hash, plain))
        return ready.pop() if ready else self._compute(current_hash, plain)

    def digest(self, token: str) -> str:
        return security.digest(token)

    @staticmethod
    def _compute(current: str | None, plain: str) -> str:
        # An unchanged secret keeps its hash: a reload must not rewrite every row.
        if current and security.verify_secret(current, plain):
            return current
        return security.hash_secret(plain)


class ProvisioningService:
    def __init__(self, db: Database, caches: Caches | None = None) -> None:
        self.db = db
        self.caches = caches or Caches(lambda: 0)

    def _apply(self, conn: Connection, fixture: Fixture, secrets: _PreparedSecrets) -> Any:
        """Write a fixture; memoised directory lookups are stale from here on."""
        applied = store.apply(conn, fixture, secrets)
        self.caches.invalidate()
        return applied

    # -- synchronous: CLI and start-up, before the server's writer thread runs ------------

    def load_path(self, path: Path) -> LoadReport:
        try:
            return self._load_now(read_path(path))
        except InvalidInput as exc:
            raise _in_file(path, exc) from None

    def load_document(self, document: object) -> LoadReport:
        return self._load_now(from_document(document))

    def is_empty(self) -> bool:
        """No account at all: a new database."""
        return not self.db.read_now(store.has_accounts)

    def provision_demo_if_empty(self, *, fresh: bool = False) -> DemoIntro:
        """Provision the demo account if the database has no account at all, or if it was
        `fresh` (empty) when this start began: `--demo --fixture F` on a new database gets
        both. Say how to log in (or, when other accounts were there before, that the demo was
        not provisioned)."""
        fixture = demo_fixture()
        demo_id = fixture.accounts[0].id
        assert demo_id is not None  # demo.yaml names its ids, so the intro can show them

        def status(conn: Connection) -> DemoStatus | None:
            if store.account_exists(conn, demo_id):
                return DemoStatus.PRESENT
            if fresh or not store.has_accounts(conn):
                return None
            return DemoStatus.SKIPPED

        found = self.db.read_now(status)
        if found is not None:
            return DemoIntro(fixture, found)
        secrets = self._prepare_now(fixture)

        def provision(conn: Connection) -> DemoStatus:
            store.lock(conn)  # another server may be starting on the same database
            again = status(conn)
            if again is not None:
                return again
            self._apply(conn, fixture, secrets)
            return DemoStatus.PROVISIONED

        return DemoIntro(fixture, self._write_now(provision))

    def _prepare_now(self, fixture: Fixture) -> _PreparedSecrets:
        secrets = _PreparedSecrets()
        secrets.prepare(self.db.read_now(lambda conn: fixture_plans.secret_needs(conn, fixture)))
        return secrets

    def _load_now(self, fixture: Fixture) -> LoadReport:
        secrets = self._prepare_now(fixture)
        applied = self._write_now(lambda conn: self._apply(conn, fixture, secrets))
        return LoadReport.of(fixture, applied)

    def _write_now(self, work: Callable[[Connection], T]) -> T:
        try:
            return self.db.write_now(work)
        except IntegrityError as exc:
            raise _conflict(exc) from None

    # -- asynchronous: the server (POST /_ringlet/fixtures, GET /_ringlet/health) ---------

    async def load_text_async(self, data: bytes, text_format: TextFormat) -> LoadReport:
        parse = parse_json if text_format == "json" else parse_yaml
        # Parsing and validating a large file is CPU work: keep it off the event loop.
        fixture = await asyncio.to_thread(lambda: from_document(parse(data)))
        return await self._load(fixture)

    async def load_document_async(self, document: object) -> LoadReport:
        return await self._load(await asyncio.to_thread(from_document, document))

    async def _load(self, fixture: Fixture) -> LoadReport:
        needs = await self.db.read(lambda conn: fixture_plans.secret_needs(conn, fixture))
        secrets = _PreparedSecrets()
        await asyncio.to_thread(secrets.prepare, needs)
        try:
            applied = await self.db.write(lambda conn: self._apply(conn, fixture, secrets))
        except IntegrityError as exc:
            raise _conflict(exc) from None
        return LoadReport.of(fixture, applied)

    async def ready(self) -> None:
        """Raises unless the database answers a trivial read (the health check)."""
        await self.db.read_small(store.ping)


def _in_file(path: Path, exc: InvalidInput) -> InvalidInput:
    """The same error, its message saying which file: `fixture.yaml: accounts[0].name: ...`,
    or the file's name above an indented list when there are several problems."""
    lines = exc.message.splitlines()
    message = (
        f"{path}: {lines[0]}"
        if len(lines) == 1
        else f"{path} was not loaded:\n" + "\n".join(f"  {line}" for line in lines)
    )
    return InvalidInput(message, error_code=exc.error_code, parameter_name=exc.parameter_name)


def _conflict(exc: IntegrityError) -> InvalidInput:
    # The store checks every conflict it knows of first; this is a race with another writer
    # (or a case it does not foresee): refuse the file, whose transaction was rolled back.
    log.warning("fixture refused by the database: %s", exc.orig)
    return InvalidInput(f"the fixture conflicts with the database ({exc.orig}); nothing was loaded")
