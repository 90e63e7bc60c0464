"""Merging the message-store notifications of a subscriber that is behind (notify/envelopes.py):
what a receiver relies on is that every change is counted once and every new id is listed in
order."""

from __future__ import annotations

from ringlet.notify.envelopes import merge_store_bodies


def _body(updated_at: str, *changes: dict) -> dict:
    return {"accountId": 1, "extensionId": 2, "lastUpdated": updated_at, "changes": list(changes)}


def test_counts_are_summed_per_type_and_ids_kept_in_order() -> None:
    merged = merge_store_bodies(
        [
            _body(
                "2026-01-01T00:00:01.000Z",
                {"type": "SMS", "newCount": 1, "updatedCount": 0, "newMessageIds": [10]},
            ),
            _body(
                "2026-01-01T00:00:02.000Z",
                {"type": "Pager", "newCount": 0, "updatedCount": 2},
                {"type": "SMS", "newCount": 2, "updatedCount": 1, "newMessageIds": [12, 14]},
            ),
        ]
    )
    assert merged == _body(
        "2026-01-01T00:00:02.000Z",
        {"type": "SMS", "newCount": 3, "updatedCount": 1, "newMessageIds": [10, 12, 14]},
        {"type": "Pager", "newCount": 0, "updatedCount": 2},
    )


def test_updates_alone_list_no_ids() -> None:
    merged = merge_store_bodies(
        [
            _body("2026-01-01T00:00:01.000Z", {"type": "SMS", "newCount": 0, "updatedCount": 1}),
            _body("2026-01-01T00:00:02.000Z", {"type": "SMS", "newCount": 0, "updatedCount": 1}),
        ]
    )
    assert merged["changes"] == [{"type": "SMS", "newCount": 0, "updatedCount": 2}]
