"""Who may reach the inspection endpoints under /_ringlet/, POST /_ringlet/reset, and the carrier
with several server processes on one database."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from tests.conftest import provision_account
from tests.e2e.messaging import EXT, error_code, records, send_sms
from tests.support.client import ApiClient
from tests.support.inspect import RESET, InspectClient, handset_path, wait_for_final_status
from tests.support.openapi import REPO_ROOT, SpecValidator
from tests.support.server import ADMIN_HEADER, RingletServer, free_port

INSPECTION_PATHS = (
    "/_ringlet/handsets",
    "/_ringlet/carrier/rules",
    "/_ringlet/inbox",
    handset_path("+14155550123"),
)


@pytest.mark.parametrize("path", INSPECTION_PATHS)
def test_with_an_admin_token_the_header_is_required(
    server: RingletServer, spec_validator: SpecValidator, path: str
) -> None:
    with httpx.Client(base_url=server.base_url) as raw:
        for headers in ({}, {ADMIN_HEADER: "wrong"}):
            response = raw.get(path, headers=headers)
            assert response.status_code == 403
            spec_validator.validate_error(path, response.content)
            assert error_code(response) == "CMN-403"
        assert raw.get(path, headers={ADMIN_HEADER: server.admin_token}).status_code == 200
        refused = raw.post(RESET, headers={ADMIN_HEADER: "wrong"})
        assert refused.status_code == 403


def test_a_loopback_server_without_a_token_is_open(server_factory, spec_validator) -> None:
    srv = server_factory(with_admin_token=False)
    with httpx.Client(base_url=srv.base_url) as raw:
        for path in INSPECTION_PATHS:
            assert raw.get(path).status_code == 200, path
        page = raw.get("/_ringlet/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")


def test_no_inspect_turns_the_endpoints_off(server_factory, spec_validator) -> None:
    srv = server_factory(extra_args=["--no-inspect"])
    with httpx.Client(base_url=srv.base_url, headers={ADMIN_HEADER: srv.admin_token}) as raw:
        for path in (*INSPECTION_PATHS, "/_ringlet/", "/_ringlet/static/inbox.js"):
            response = raw.get(path)
            assert response.status_code == 404, path
            spec_validator.validate_error(path, response.content)
            assert error_code(response) == "CMN-120"
        assert raw.post(RESET).status_code == 404
        assert raw.get("/_ringlet/health").status_code == 200


def _serve(*args: str) -> list[str]:
    return [sys.executable, "-m", "ringlet", "serve", "--port", str(free_port()), *args]


def test_a_server_beyond_loopback_without_a_token_refuses_to_start(tmp_path) -> None:
    database = f"sqlite:///{tmp_path / 'refused.db'}"
    done = subprocess.run(
        _serve("--host", "0.0.0.0", "--database", database),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT / "src")},
    )
    assert done.returncode != 0
    problem = [line for line in done.stderr.splitlines() if "--admin-token" in line]
    assert len(problem) == 1, done.stderr
    assert "--no-inspect" in problem[0]
    assert not (tmp_path / "refused.db").exists()  # refused before anything was opened


@pytest.mark.parametrize("flags", [["--no-inspect"], ["--admin-token", "s3cret-token"]])
def test_a_server_beyond_loopback_starts_with_a_token_or_without_inspection(
    server_factory, flags
) -> None:
    srv = server_factory(extra_args=flags, with_admin_token=False, start=False)
    srv.extra_args = ["--host", "0.0.0.0", *flags]  # the later --host wins
    srv.start()
    with httpx.Client(base_url=srv.base_url) as raw:
        expected = 404 if "--no-inspect" in flags else 403
        assert raw.get("/_ringlet/handsets").status_code == expected


# -- reset --------------------------------------------------------------------------------------


def test_reset_removes_messages_handsets_and_rules_but_keeps_accounts(
    server_factory, spec_validator
) -> None:
    srv = server_factory()
    account = provision_account(srv)
    with (
        ApiClient(srv.base_url, validator=spec_validator) as api,
        InspectClient(srv, spec_validator) as inspect,
    ):
        bob = api.login(account, "102")
        handset = account.handset(1)
        assert send_sms(bob, account.ext("102").number, handset, "before").status_code == 200
        inspect.wait_for_handset(handset)
        assert inspect.text_from(handset, account.ext("102").number, "reply").status_code == 201
        assert inspect.add_rule(to=account.handset(2), status="DeliveryFailed").status_code == 201
        pager = bob.post(
            f"{EXT}/company-pager", json={"to": [{"extensionNumber": "103"}], "text": "p"}
        )
        assert pager.status_code == 200
        assert len(records(bob)) == 3

        response = inspect.post(RESET)
        assert response.status_code == 204
        assert records(bob) == []  # the same token still works: sessions stay
        sync = bob.get(f"{EXT}/message-sync", params={"syncType": "FSync"})
        assert sync.json()["records"] == []
        assert inspect.get("/_ringlet/handsets").json() == {"records": []}
        assert inspect.handset_records(handset) == []
        assert inspect.rules() == []
        # Accounts, extensions, numbers and apps stay: a new login and a new send work.
        carol = api.login(account, "103")
        assert records(carol) == []
        assert send_sms(bob, account.ext("102").number, handset, "after").status_code == 200
        (record,) = inspect.wait_for_handset(handset)
        assert record["text"] == "after"
        bob.close()
        carol.close()


# -- several processes -----------------------------------------------------------------------


def test_with_several_processes_each_sms_reaches_its_handset_exactly_once(
    server_factory, spec_validator
) -> None:
    srv = server_factory(extra_args=["--workers", "3"], start=False)
    srv.startup_timeout = 90  # three processes start on a busy machine
    srv.start()
    account = provision_account(srv)
    count = 30
    with (
        ApiClient(srv.base_url, validator=spec_validator) as api,
        InspectClient(srv, spec_validator) as inspect,
    ):
        bob = api.login(account, "102")
        sent_ids = []
        for i in range(count):
            response = send_sms(bob, account.ext("102").number, account.handset(i % 3), f"n{i}")
            assert response.status_code == 200, response.text
            sent_ids.append(response.json()["id"])
        got: list[dict[str, object]] = []
        for h in range(3):
            handset = account.handset(h)
            mine: list[dict[str, object]] = []
            while len(mine) < count // 3:
                since = int(str(mine[-1]["id"])) if mine else 0
                mine += inspect.wait_for_handset(handset, since=since)
            got += mine
        # Once every copy is final no job is left, so nothing more can come: no duplicates.
        for message_id in sent_ids:
            copy = wait_for_final_status(bob.get, f"{EXT}/message-store/{message_id}")
            assert copy["messageStatus"] == "Delivered"
        for h in range(3):
            assert len(inspect.handset_records(account.handset(h))) == count // 3
        assert sorted(int(str(r["messageId"])) for r in got) == sorted(sent_ids)
        bob.close()
