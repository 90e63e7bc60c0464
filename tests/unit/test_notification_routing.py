"""Routing outbox events to the subscriptions they concern (notify/dispatcher.py): a drain reads
only its subscription's events, found through an index by store and directory entry, and must
find exactly those the filters concern, in order, and know how far it has looked."""

from __future__ import annotations

import random

from ringlet.notify import dispatcher as d
from ringlet.store import outbox
from ringlet.store.outbox import Change, Event

ACCOUNTS = (1, 2)
EXTENSIONS = (11, 12, 13, 14)


def _events(rng: random.Random, count: int) -> list[Event]:
    found = []
    next_id = 1
    for _ in range(count):
        next_id += rng.choice((1, 1, 1, 2))  # ids with gaps, as a sequence may leave
        account, extension = rng.choice(ACCOUNTS), rng.choice(EXTENSIONS)
        if rng.random() < 0.8:
            change = Change("Pager", "Inbound", [next_id], 0)
            found.append(Event(next_id, account, extension, outbox.STORE, 0, (change,)))
        else:
            found.append(Event(next_id, account, extension, outbox.EXTENSION, 0, hints=("x",)))
    return found


def _filters(rng: random.Random) -> tuple[str, ...]:
    texts = []
    for _ in range(rng.randint(0, 3)):
        account, extension = rng.choice(ACCOUNTS), rng.choice(EXTENSIONS)
        base = f"/restapi/v1.0/account/{account}/extension"
        texts.append(
            rng.choice(
                (
                    f"{base}/{extension}/message-store",
                    f"{base}/{extension}/message-store/instant?type=SMS",
                    f"{base}/{extension}",
                    base,
                    "/restapi/v1.0/account/~/extension/~/message-store",
                )
            )
        )
    return tuple(texts)


def _concerning(
    events: list[Event], account: int, extension: int, filters: tuple[str, ...]
) -> list[Event]:
    parsed = d._parsed(filters, account, extension)
    return [e for e in events if any(d._concerns(f, e) for f in parsed)]


def test_the_index_finds_exactly_what_the_filters_concern() -> None:
    rng = random.Random(7)
    for _ in range(200):
        events = _events(rng, rng.randint(0, 300))
        filters = _filters(rng)
        account, extension = rng.choice(ACCOUNTS), rng.choice(EXTENSIONS)
        keys = d._keys_of(filters, account, extension)
        expected = _concerning(events, account, extension, filters)

        assert d._concerned(d._index(events), keys) == expected

        window = d._Window()
        for start in range(0, len(events), 37):  # filled in batches, as the rounds do
            window.extend(events[start : start + 37])
        if not events:
            assert window.concerning(0, keys, 10) is None
            continue
        # A drain walking from the start in steps of `limit`, as _deliver_pending does.
        cursor, seen, limit = events[0].id - 1, [], rng.randint(1, 20)
        while cursor < events[-1].id:
            found = window.concerning(cursor, keys, limit)
            assert found is not None
            batch, through = found
            assert len(batch) <= limit and through > cursor
            assert all(cursor < e.id <= through for e in batch)
            seen.extend(batch)
            cursor = through
        assert seen == expected


def test_a_window_cut_back_still_routes_and_no_longer_reaches_old_cursors() -> None:
    rng = random.Random(3)
    events = _events(rng, 2 * d._WINDOW + 500)
    window = d._Window()
    for start in range(0, len(events), 500):
        window.extend(events[start : start + 500])
    assert len(window) <= 2 * d._WINDOW
    assert window.concerning(0, frozenset(), 10) is None  # dropped: read from the outbox
    kept_from = events[-len(window)].id
    keys = d._keys_of(("/restapi/v1.0/account/1/extension/11/message-store",), 1, 11)
    found = window.concerning(kept_from - 1, keys, 10**6)
    assert found is not None
    expected = [
        e for e in events if e.id >= kept_from and (e.account_id, e.extension_id) == (1, 11)
    ]
    assert found == ([e for e in expected if e.kind == outbox.STORE], events[-1].id)
