"""Pager end to end: R2, R3, R7, R9-R12 through the HTTP API on a real server."""

from __future__ import annotations

import pytest

from tests.e2e.messaging import EXT, error_code, records, remove_from_department, send_pager

pytestmark = pytest.mark.usefixtures("server")


def _to(record: dict) -> list[str]:
    return [t["extensionNumber"] for t in record["to"]]


def test_r10_pager_to_several_extensions(account, client_for) -> None:
    olivia, bob, carol = (client_for(account, n) for n in ("101", "102", "103"))
    response = send_pager(olivia, ["102", "103"], "Standup in 5")
    assert response.status_code == 200, response.text
    sent = response.json()
    assert sent["type"] == "Pager"
    assert sent["direction"] == "Outbound"
    assert sent["messageStatus"] == "Sent"
    assert sent["pgToDepartment"] is False
    assert sent["from"]["extensionNumber"] == "101"
    assert _to(sent) == ["101", "102", "103"]  # the documented shape lists the sender too
    for client in (bob, carol):
        (copy,) = records(client)
        assert copy["direction"] == "Inbound"
        assert copy["messageStatus"] == "Received"
        assert copy["readStatus"] == "Unread"
        assert copy["subject"] == "Standup in 5"
        assert copy["conversationId"] == sent["conversationId"]
        assert copy["pgToDepartment"] is False
        assert copy["id"] != sent["id"]


def test_r10_recipients_by_extension_id(account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    response = send_pager(olivia, to_ids=[account.ext("102").id])
    assert response.status_code == 200, response.text
    assert len(records(bob)) == 1


def test_r10_r9_department_reaches_its_active_members(account, client_for) -> None:
    olivia, bob, carol = (client_for(account, n) for n in ("101", "102", "103"))
    response = send_pager(olivia, ["201"], "Queue is long")
    assert response.status_code == 200, response.text
    assert response.json()["pgToDepartment"] is True
    assert _to(response.json()) == ["101", "201"]
    for client in (bob, carol):
        (copy,) = records(client)
        assert copy["pgToDepartment"] is True
    # 104 is a Disabled member: skipped, and the message was still accepted (R9).
    assert records(olivia, account.ext("104").id) == []
    # The department itself keeps no copy: its members are its inbox.
    assert records(olivia, account.ext("201").id) == []


@pytest.mark.parametrize("inactive", ["104", "105"], ids=["disabled", "frozen"])
def test_r9_pager_naming_an_inactive_extension_stores_nothing(
    account, client_for, inactive: str
) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    response = send_pager(olivia, ["102", inactive], "anyone?")
    assert response.status_code == 400
    assert error_code(response) == "MSG-324"
    assert inactive in response.json()["message"]
    assert records(olivia) == []
    assert records(bob) == []


def test_r7_department_cannot_send_pager(account, client_for) -> None:
    queue = client_for(account, "201")
    response = send_pager(queue, ["102"], "from the queue")
    assert response.status_code == 403
    assert error_code(response) == "MSG-330"
    assert "department" in response.json()["message"].lower()
    assert records(queue) == []


def test_r2_announcement_cannot_receive_pager(account, client_for) -> None:
    olivia = client_for(account, "101")
    response = send_pager(olivia, ["401"])
    assert response.status_code == 400
    assert error_code(response) == "MSG-316"
    assert records(olivia) == []


@pytest.mark.parametrize(
    ("text", "ok"),
    [("y" * 1024, True), ("y" * 1025, False), ("🎉" * 512, True), ("🎉" * 513, False)],
    ids=["1024-units", "1025-units", "512-emoji", "513-emoji"],
)
def test_r3_pager_length_in_utf16_units(account, client_for, text: str, ok: bool) -> None:
    olivia = client_for(account, "101")
    response = send_pager(olivia, ["102"], text)
    if ok:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 400
        assert response.json()["errors"][0]["parameterName"] == "text"
        assert records(olivia) == []


def test_r12_reply_reaches_the_thread(account, client_for) -> None:
    olivia, bob, carol = (client_for(account, n) for n in ("101", "102", "103"))
    first = send_pager(olivia, ["102", "103"], "Lunch?").json()
    (bobs_copy,) = records(bob)
    reply = send_pager(bob, reply_on=bobs_copy["id"], text="Yes")
    assert reply.status_code == 200, reply.text
    assert reply.json()["conversationId"] == first["conversationId"]
    for client in (olivia, carol):
        assert "Yes" in [m["subject"] for m in records(client)]
    # replyOn may also name the sender's own copy
    again = send_pager(carol, reply_on=first["id"], text="Me too")
    assert again.status_code == 200, again.text
    assert "Me too" in [m["subject"] for m in records(bob)]


def test_r12_non_member_cannot_reply(account, client_for) -> None:
    olivia, carol = client_for(account, "101"), client_for(account, "103")
    first = send_pager(olivia, ["102"], "just us").json()
    response = send_pager(carol, reply_on=first["id"], text="butting in")
    assert response.status_code == 403
    assert error_code(response) == "MSG-326"
    assert records(carol) == []


def test_r12_member_removed_from_department_loses_the_thread(account, client_for) -> None:
    olivia, carol = client_for(account, "101"), client_for(account, "103")
    first = send_pager(olivia, ["201"], "queue thread").json()
    (carols_copy,) = records(carol)
    ok = send_pager(carol, reply_on=carols_copy["id"], text="on it")
    assert ok.status_code == 200, ok.text

    removed = remove_from_department(olivia, account, "201", "103")
    assert removed.status_code in (200, 204), removed.text

    refused = send_pager(carol, reply_on=carols_copy["id"], text="still here?")
    assert refused.status_code == 403
    assert error_code(refused) == "MSG-326"
    assert records(carol) == []
    by_id = carol.get(f"{EXT}/message-store/{carols_copy['id']}")
    assert by_id.status_code == 404
    # and new messages in the thread no longer reach them
    more = send_pager(olivia, reply_on=first["id"], text="update")
    assert more.status_code == 200, more.text
    assert records(carol) == []


def test_pager_recipient_errors(account, client_for) -> None:
    olivia = client_for(account, "101")
    unknown = send_pager(olivia, ["999"])
    assert unknown.status_code == 400
    assert error_code(unknown) == "MSG-316"
    mismatch = olivia.post(
        f"{EXT}/company-pager",
        json={
            "text": "x",
            "to": [{"extensionNumber": "102", "extensionId": str(account.ext("103").id)}],
        },
    )
    assert mismatch.status_code == 400
    assert error_code(mismatch) == "MSG-335"
    wrong_from = olivia.post(
        f"{EXT}/company-pager",
        json={"text": "x", "from": {"extensionNumber": "102"}, "to": [{"extensionNumber": "103"}]},
    )
    assert wrong_from.status_code == 400
    assert error_code(wrong_from) == "MSG-331"
    nobody = olivia.post(f"{EXT}/company-pager", json={"text": "to whom?"})
    assert nobody.status_code == 400
    assert nobody.json()["errors"][0]["parameterName"] == "to"
    assert records(olivia) == []
