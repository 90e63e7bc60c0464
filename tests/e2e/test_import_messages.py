"""`ringlet import-messages FILE`: message history from JSON Lines, on SQLite and PostgreSQL.

Run as users run it (a subprocess, on a database provisioned by `ringlet load`); what it
imported is then read through the REST API of a real server on that database: listed with
filters, read by id, synced, joined by later sends and replies. A bad file is refused whole,
its line named, and the database is left as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.messaging import EXT, records, send_pager, send_sms
from tests.e2e.test_cli import ringlet
from tests.e2e.test_distinct_conversations import distinct as checked_distinct
from tests.e2e.test_provisioning import snapshot
from tests.support.client import ApiClient
from tests.support.fixtures import MIN_SEED, ProvisionedAccount, build_account
from tests.support.openapi import SpecValidator
from tests.support.server import RingletServer

STORE = f"{EXT}/message-store"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _provisioned(
    server_factory: Callable[..., RingletServer], tmp_path: Path
) -> tuple[RingletServer, ProvisionedAccount]:
    """A server (not started) on a new database holding one copy of the reference fixture."""
    srv = server_factory(start=False)
    acct = build_account(MIN_SEED)
    fixture = tmp_path / "fixture.yaml"
    fixture.write_text(yaml.safe_dump(acct.document, sort_keys=False))
    loaded = ringlet("load", fixture, "--database", srv.database_url, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    return srv, acct


def _write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


def _history(acct: ProvisionedAccount, now: datetime) -> list[dict[str, Any]]:
    bob, olivia = acct.ext("102"), acct.ext("101")
    friend = acct.handset(7)
    common = {"account": acct.main_number}
    return [
        {
            **common,
            "extension": "102",
            "type": "SMS",
            "direction": "Inbound",
            "from": {"phoneNumber": friend, "name": "A friend"},
            "to": [{"phoneNumber": bob.number}],
            "text": "Are you there?",
            "creationTime": _iso(now - timedelta(hours=2)),
            "readStatus": "Unread",
        },
        {
            **common,
            "extension": "102",
            "type": "SMS",
            "direction": "Outbound",
            "from": {"phoneNumber": bob.number},
            "to": [{"phoneNumber": friend}],
            "text": "Yes!",
            "creationTime": _iso(now - timedelta(hours=1)),
        },
        # One Pager thread named by the file, both copies; the account by its id this time.
        {
            "account": acct.id,
            "extension": "101",
            "type": "Pager",
            "direction": "Outbound",
            "from": {"extensionNumber": "101"},
            "to": [{"extensionNumber": "102"}],
            "text": "Stand-up in 5",
            "creationTime": _iso(now - timedelta(minutes=30)),
            "conversationId": 4242,
        },
        {
            "account": str(acct.id),
            "extension": "102",
            "type": "Pager",
            "direction": "Inbound",
            "from": {"extensionNumber": "101"},
            "to": [{"extensionNumber": "102"}],
            "text": "Stand-up in 5",
            "creationTime": _iso(now - timedelta(minutes=30)),
            "conversationId": 4242,
        },
        # To department 201 (members 102, 103, 104): 103 reads it as a current member.
        {
            **common,
            "extension": "103",
            "type": "Pager",
            "direction": "Inbound",
            "from": {"extensionNumber": "102"},
            "to": [{"extensionNumber": "201"}],
            "text": "To the queue",
            "creationTime": _iso(now - timedelta(minutes=20)),
            "pgToDepartment": True,
        },
        # Older than the line before it, later in the file (a higher id): the conversation's
        # newest is still "Yes!".
        {
            **common,
            "extension": "102",
            "type": "SMS",
            "direction": "Outbound",
            "from": {"phoneNumber": bob.number},
            "to": [{"phoneNumber": friend}],
            "text": "Earlier",
            "creationTime": _iso(now - timedelta(hours=3)),
        },
        # Old and deleted: out of the default list, readable by id.
        {
            **common,
            "extension": "102",
            "type": "SMS",
            "direction": "Outbound",
            "from": {"phoneNumber": bob.number},
            "to": [{"phoneNumber": olivia.number}],
            "text": "Long ago",
            "creationTime": "2019-05-01T08:00:00Z",
            "availability": "Deleted",
        },
    ]


def test_imported_history_is_listed_read_synced_and_continued(
    server_factory: Callable[..., RingletServer], tmp_path: Path, spec_validator: SpecValidator
) -> None:
    srv, acct = _provisioned(server_factory, tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    lines = _history(acct, now)
    path = _write_lines(tmp_path / "history.jsonl", [lines[0], "", *lines[1:]])  # a blank line
    before_import = datetime.now(UTC) - timedelta(seconds=1)
    done = ringlet("import-messages", path, "--database", srv.database_url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        f"Imported {path}: 7 messages into 3 message store(s): "
        "extension 101 (1), 102 (5), 103 (1); 2 Pager conversation(s) created in "
    ), done.stdout
    srv.start()
    bob, olivia = acct.ext("102"), acct.ext("101")
    with ApiClient(srv.base_url, validator=spec_validator) as api:
        b = api.login(acct, "102")
        listed = records(b)
        subjects = [m["subject"] for m in listed]
        assert subjects == ["Stand-up in 5", "Yes!", "Are you there?", "Earlier"]
        # Imported conversations have their newest messages (conversation_heads) as well.
        by_id = {m["id"]: m["subject"] for m in records(b, dateFrom="2020-01-01")}
        assert [by_id[i] for i in checked_distinct(b)] == ["Stand-up in 5", "Yes!"]
        assert len(checked_distinct(b, availability="Deleted", dateFrom="2019-01-01")) == 1
        pager, sent, received, earlier = listed
        friend = acct.handset(7)
        assert received["direction"] == "Inbound" and received["readStatus"] == "Unread"
        assert received["messageStatus"] == "Received"
        assert received["from"] == {"phoneNumber": friend, "name": "A friend"}
        assert received["to"] == [{"phoneNumber": bob.number, "name": "Bob Builder"}]
        assert received["creationTime"] == _iso(now - timedelta(hours=2))
        modified = datetime.fromisoformat(received["lastModifiedTime"].replace("Z", "+00:00"))
        assert modified >= before_import  # the import's time: sync reports it
        assert sent["direction"] == "Outbound" and sent["readStatus"] == "Read"
        assert sent["messageStatus"] == "Sent" and sent["type"] == "SMS"
        assert sent["conversationId"] == received["conversationId"]  # R13
        assert pager["conversationId"] == 4242 and pager["conversation"] == {"id": "4242"}
        assert pager["from"]["extensionId"] == str(olivia.id)
        assert pager["pgToDepartment"] is False

        # Filters, read by id, content.
        unread = records(b, readStatus="Unread")  # an inbound copy is Unread unless it says
        assert [m["id"] for m in unread] == [pager["id"], received["id"]]
        assert [m["id"] for m in records(b, messageType="Pager")] == [pager["id"]]
        assert {m["id"] for m in records(b, conversationId=sent["conversationId"])} == {
            sent["id"],
            received["id"],
            earlier["id"],
        }
        # Each conversation's newest by creationTime, whatever the order of the file.
        distinct = records(b, distinctConversations="true")
        assert [m["id"] for m in distinct] == [pager["id"], sent["id"]]
        deleted = records(b, availability="Deleted", dateFrom="2019-01-01T00:00:00Z")
        assert [m["subject"] for m in deleted] == ["Long ago"]
        one = b.get(f"{STORE}/{received['id']}")
        assert one.status_code == 200 and one.json() == received
        content = b.get(f"{STORE}/{received['id']}/content/1")
        assert content.status_code == 200 and content.text == "Are you there?"

        # message-sync: the imported copies are in a full sync; an ISync reports a change.
        fsync = b.get(f"{EXT}/message-sync", params={"syncType": "FSync"})
        assert fsync.status_code == 200, fsync.text
        assert {m["id"] for m in fsync.json()["records"]} == {m["id"] for m in listed}
        token = fsync.json()["syncInfo"]["syncToken"]
        changed = b.put(f"{STORE}/{received['id']}", json={"readStatus": "Read"})
        assert changed.status_code == 200, changed.text
        isync = b.get(f"{EXT}/message-sync", params={"syncType": "ISync", "syncToken": token})
        assert isync.status_code == 200, isync.text
        assert received["id"] in {m["id"] for m in isync.json()["records"]}

        # History continues: a new SMS joins the imported conversation, a reply the thread.
        reply = send_sms(b, bob.number, friend, "Back again")
        assert reply.status_code == 200, reply.text
        assert reply.json()["conversationId"] == sent["conversationId"]
        answer = send_pager(b, reply_on=pager["id"], text="On my way")
        assert answer.status_code == 200, answer.text
        assert answer.json()["conversationId"] == 4242
        o = api.login(acct, "101")
        thread = records(o, conversationId=4242)
        assert [m["subject"] for m in thread] == ["On my way", "Stand-up in 5"]

        # R12: 103 reads the department's message while a member of 201.
        c = api.login(acct, "103")
        queued = records(c, messageType="Pager")
        assert [(m["subject"], m["pgToDepartment"]) for m in queued] == [("To the queue", True)]
        for client in (b, o, c):
            client.close()


def _bad_lines(acct: ProvisionedAccount) -> list[tuple[Any, str]]:
    good = _history(acct, datetime.now(UTC))[0]
    return [
        ("{not json", "not a JSON object"),
        ({k: v for k, v in good.items() if k != "type"}, "Object missing required field `type`"),
        ({**good, "type": "Fax"}, "Invalid enum value 'Fax' - at `$.type`"),
        ({**good, "extension": "999"}, "extension: no extension '999' in account"),
        ({**good, "account": "+14155550000"}, "account: no account '+14155550000' on this server"),
        (
            {**good, "creationTime": "yesterday"},
            "creationTime: 'yesterday' is not an ISO 8601 time",
        ),
        ({**good, "text": ""}, "Parameter [text] value is invalid: the text is empty"),
        ({**good, "to": [{"phoneNumber": "12"}]}, "to[0].phoneNumber: '12' is not a phone number"),
        ({**good, "colour": "red"}, "Object contains unknown field `colour`"),
        (
            {**good, "conversationId": 17},
            "conversationId: an SMS conversation is the one of its two numbers (R13)",
        ),
        (
            {
                **good,
                "type": "Pager",
                "from": {"extensionNumber": "101"},
                "to": [{"extensionNumber": "103"}],
            },
            "extension: 102 is neither the sender nor a recipient of this Pager message",
        ),
    ]


def test_a_bad_line_is_named_and_nothing_is_imported(
    server_factory: Callable[..., RingletServer], tmp_path: Path
) -> None:
    srv, acct = _provisioned(server_factory, tmp_path)
    good = _history(acct, datetime.now(UTC))
    before = snapshot(srv.database_url)
    for n, (bad, expected) in enumerate(_bad_lines(acct)):
        path = _write_lines(tmp_path / f"bad{n}.jsonl", [*good[:2], bad, *good[2:]])
        done = ringlet("import-messages", path, "--database", srv.database_url, cwd=tmp_path)
        assert done.returncode == 1, (bad, done.stdout)
        assert f"Error: {path}: line 3: " in done.stderr, done.stderr
        assert expected in done.stderr, done.stderr
        assert "nothing was imported" in done.stderr and "Traceback" not in done.stderr
    assert snapshot(srv.database_url) == before


def test_a_missing_file_and_a_missing_database_are_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    missing = ringlet("import-messages", tmp_path / "none.jsonl", "--database", url, cwd=tmp_path)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    path = _write_lines(
        tmp_path / "one.jsonl", [_history(build_account(MIN_SEED), datetime.now(UTC))[0]]
    )
    done = ringlet("import-messages", path, "--database", url, cwd=tmp_path)
    assert done.returncode == 1 and "line 1: account: no account" in done.stderr, done.stderr
    assert not (tmp_path / "new.db").exists()  # a database it created is taken away again
