"""The notification events kept for WebHook deliveries (notify/records.py `lowest_cursor`, the
bound of the dispatcher's pruning): held back by the slowest live subscription, and by nothing
else. A subscription left to expire, still Active in its row, must not keep every later event
for ever."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection

from ringlet.notify import records
from ringlet.notify.records import ACTIVE, WEBHOOK, Owner, Subscription
from ringlet.store import migrate
from ringlet.store.database import Database
from tests.support.server import fresh_database

NOW = 1_800_000_000_000


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[Database]:
    with fresh_database(backend, tmp_path / "db") as url:
        db = Database(url)
        migrate.upgrade(db.writer_engine)
        try:
            yield db
        finally:
            db.close()


def _webhook(sub_id: str, delivered_through: int, expiration_ms: int) -> Subscription:
    return Subscription(
        id=sub_id,
        owner=Owner(1, 11, 1),
        transport=WEBHOOK,
        address="https://receiver.example/hook",
        verification_token=None,
        token_header=None,
        ws_session_id=None,
        event_filters=("/restapi/v1.0/account/~/extension/~/message-store",),
        disabled_filters=(),
        status=ACTIVE,
        creation_ms=NOW - 3_600_000,
        expiration_ms=expiration_ms,
        blacklisted_ms=None,
        blacklisted_reason=None,
        delivered_through=delivered_through,
        failures=0,
        next_attempt_ms=0,
    )


def test_an_expired_subscription_holds_no_event_back(database: Database) -> None:
    def add(*subs: Subscription) -> None:
        def work(conn: Connection) -> None:
            for s in subs:
                records.insert(conn, s, None, 0)

        database.write_now(work)

    add(_webhook("expired", 3, NOW - 1))
    assert database.read_now(lambda conn: records.lowest_cursor(conn, NOW)) is None
    add(_webhook("live", 40, NOW + 60_000), _webhook("slow", 25, NOW + 1))
    assert database.read_now(lambda conn: records.lowest_cursor(conn, NOW)) == 25
