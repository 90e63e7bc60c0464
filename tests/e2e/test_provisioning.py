"""Provisioning end to end, on SQLite and PostgreSQL: what a fixture load writes, that loading
is idempotent and all-or-nothing, and the runtime endpoint POST /_ringlet/fixtures.

The service-level tests run ProvisioningService on a fresh database of each backend and read
the rows back with SQLAlchemy; the endpoint tests go through a real server over HTTP.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import yaml

from ringlet.bootstrap import Services, build
from ringlet.config import Settings
from ringlet.domain.enums import AppPermission
from ringlet.domain.errors import InvalidInput
from ringlet.security import NO_SECRET, verify_secret
from ringlet.store.database import normalize_url
from ringlet.store.schema import metadata
from tests.support.fixtures import FIXTURE_PATH, ProvisionedAccount
from tests.support.server import ADMIN_HEADER, FIXTURES_PATH, RingletServer, fresh_database

Doc = dict[str, Any]
Snapshot = dict[str, list[tuple[Any, ...]]]


# -- helpers ------------------------------------------------------------------------------------


def snapshot(database_url: str) -> Snapshot:
    """Every row of every table, in a comparable order: 'nothing changed' means equal."""
    engine = sa.create_engine(normalize_url(database_url))
    try:
        with engine.connect() as conn:
            return {
                table.name: sorted((tuple(row) for row in conn.execute(sa.select(table))), key=repr)
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()


def rows(database_url: str, query: str, **params: Any) -> list[dict[str, Any]]:
    engine = sa.create_engine(normalize_url(database_url))
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(query), params).mappings()]
    finally:
        engine.dispose()


def reference() -> Doc:
    doc: Doc = yaml.safe_load(FIXTURE_PATH.read_text())
    return doc


def _ext(doc: Doc, number: str) -> Doc:
    ext: Doc = next(e for e in doc["accounts"][0]["extensions"] if e["extensionNumber"] == number)
    return ext


@pytest.fixture
def services(backend: str, tmp_path: Path) -> Iterator[Services]:
    """The application's services on a new, empty database of the backend."""
    with fresh_database(backend, tmp_path / "db") as url:
        built = build(Settings(database_url=url))
        try:
            yield built
        finally:
            built.db.close()


# -- what a load writes ---------------------------------------------------------------------------


def test_loading_twice_leaves_one_copy_and_reports_unchanged(services: Services) -> None:
    url = services.db.url
    first = services.provisioning.load_document(reference())
    assert first.summary() == (
        "1 account, 8 extensions, 7 phone numbers, 1 app (created 17, updated 0, unchanged 0)"
    )
    assert first.accounts == ((1346632010, "+16509100000"),)
    after_first = snapshot(url)
    second = services.provisioning.load_document(reference())
    assert second.summary() == (
        "1 account, 8 extensions, 7 phone numbers, 1 app (created 0, updated 0, unchanged 17)"
    )
    assert snapshot(url) == after_first  # not even a hash was rewritten
    counts = {name: len(table) for name, table in after_first.items()}
    assert counts["accounts"] == 1 and counts["extensions"] == 8 and counts["apps"] == 1
    assert counts["phone_numbers"] == 7 and counts["department_members"] == 3


def test_rows_hold_what_the_file_says(services: Services) -> None:
    url = services.db.url
    services.provisioning.load_document(reference())
    (account,) = rows(url, "SELECT * FROM accounts")
    assert account == {
        "id": 1346632010,
        "name": "Acme Inc.",
        "main_number": "+16509100000",
        "operator_extension_number": "101",
        "country": "US",
    }
    exts = {r["extension_number"]: r for r in rows(url, "SELECT * FROM extensions")}
    olivia, dan, fay, dept = exts["101"], exts["104"], exts["105"], exts["201"]
    assert (olivia["id"], olivia["type"], olivia["status"], bool(olivia["admin"])) == (
        1346632010,
        "User",
        "Enabled",
        True,
    )
    assert olivia["email"] == "olivia@acme.example"
    assert (dan["status"], fay["status"], dept["type"]) == ("Disabled", "Frozen", "Department")
    assert exts["301"]["type"] == "Voicemail" and exts["401"]["type"] == "Announcement"
    # Secrets: argon2 hashes that verify, a SHA-256 digest for the JWT, no plain text.
    assert olivia["password_hash"].startswith("$argon2")
    assert verify_secret(olivia["password_hash"], "Operator-101!")
    assert verify_secret(dept["password_hash"], "Support-201!")
    assert olivia["jwt_digest"] == hashlib.sha256(b"jwt-olivia-101").hexdigest()
    assert dan["password_hash"] is None and exts["102"]["jwt_digest"] is None
    # R6: the main number is the account's, held by nobody (the operator answers for it).
    numbers = {r["phone_number"]: r for r in rows(url, "SELECT * FROM phone_numbers")}
    main = numbers["+16509100000"]
    assert (main["usage_type"], main["extension_id"], main["account_id"]) == (
        "MainCompanyNumber",
        None,
        1346632010,
    )
    assert "SmsSender" in main["features"].split()
    carol = numbers["+16509100030"]
    assert (carol["id"], carol["extension_id"], carol["features"]) == (
        33333303,
        1346632103,
        "CallerId",
    )
    members = rows(
        url, "SELECT extension_id FROM department_members WHERE department_id = :d", d=1346632201
    )
    assert sorted(m["extension_id"] for m in members) == [1346632102, 1346632103, 1346632104]
    (app,) = rows(url, "SELECT * FROM apps")
    assert app["client_id"] == "demo-app" and verify_secret(
        app["client_secret_hash"], "demo-secret"
    )
    assert set(app["permissions"].split()) == {p.value for p in AppPermission}


def test_a_changed_file_updates_in_place(services: Services) -> None:
    url = services.db.url
    services.provisioning.load_document(reference())
    hashes = {
        r["extension_number"]: r["password_hash"]
        for r in rows(url, "SELECT extension_number, password_hash FROM extensions")
    }
    doc = reference()
    _ext(doc, "102").update(status="Frozen", name="Bob B.")
    _ext(doc, "103")["credentials"]["password"] = "Carol-new!"
    _ext(doc, "201")["members"] = ["103", "105"]  # replaces 102, 103, 104
    _ext(doc, "101")["credentials"]["jwt"] = "jwt-new-101"
    _ext(doc, "102")["credentials"]["jwt"] = "jwt-olivia-101"  # a credential moves
    del _ext(doc, "104")["phoneNumbers"]  # its number is dropped
    _ext(doc, "105")["phoneNumbers"] = [{"phoneNumber": "+16509100050", "features": ["SmsSender"]}]
    doc["apps"][0]["permissions"] = ["SMS", "ReadMessages"]
    report = services.provisioning.load_document(doc)
    # 101, 102, 103, 201 and the app changed; 105's new number created, 104's removed.
    assert report.summary() == (
        "1 account, 8 extensions, 7 phone numbers, 1 app "
        "(created 1, updated 5, unchanged 11, removed 1)"
    )
    exts = {r["extension_number"]: r for r in rows(url, "SELECT * FROM extensions")}
    assert (exts["102"]["status"], exts["102"]["name"]) == ("Frozen", "Bob B.")
    assert verify_secret(exts["103"]["password_hash"], "Carol-new!")
    assert exts["101"]["password_hash"] == hashes["101"]  # unchanged: not re-hashed
    assert exts["102"]["jwt_digest"] == hashlib.sha256(b"jwt-olivia-101").hexdigest()
    members = rows(
        url, "SELECT extension_id FROM department_members WHERE department_id = :d", d=1346632201
    )
    assert sorted(m["extension_id"] for m in members) == [1346632103, 1346632105]
    numbers = {r["phone_number"]: r for r in rows(url, "SELECT * FROM phone_numbers")}
    assert "+16509100040" not in numbers
    assert numbers["+16509100050"]["extension_id"] == 1346632105
    (app,) = rows(url, "SELECT permissions FROM apps")
    assert app["permissions"] == "SMS ReadMessages"
    again = services.provisioning.load_document(doc)
    assert again.summary().endswith("(created 0, updated 0, unchanged 17)")


def test_ids_left_out_are_assigned_the_same_way_on_every_database(
    services: Services, tmp_path: Path
) -> None:
    doc: Doc = {
        "apps": [{"clientId": "public-js"}],  # a public client: no secret
        "accounts": [
            {
                "name": "No ids",
                "mainNumber": "+14155550100",
                "extensions": [
                    {
                        "extensionNumber": "101",
                        "name": "Op",
                        "phoneNumbers": [
                            {"phoneNumber": "+14155550101", "features": ["SmsSender"]}
                        ],
                    },
                    {
                        "extensionNumber": "201",
                        "name": "Q",
                        "type": "Department",
                        "members": ["101"],
                    },
                ],
            }
        ],
    }
    first = services.provisioning.load_document(doc)
    ids = snapshot(services.db.url)
    assert (
        services.provisioning.load_document(doc)
        .summary()
        .endswith("(created 0, updated 0, unchanged 6)")
    )
    with fresh_database("sqlite", tmp_path / "other") as other_url:
        other = build(Settings(database_url=other_url))
        try:
            assert other.provisioning.load_document(doc).accounts == first.accounts
            elsewhere = snapshot(other_url)
        finally:
            other.db.close()
    for table in ("accounts", "extensions", "phone_numbers", "department_members"):
        assert [r[:2] for r in elsewhere[table]] == [r[:2] for r in ids[table]], table
    (app,) = rows(services.db.url, "SELECT client_secret_hash FROM apps")
    assert app["client_secret_hash"] == NO_SECRET


def test_a_file_conflicting_with_the_database_changes_nothing(services: Services) -> None:
    url = services.db.url
    services.provisioning.load_document(reference())
    before = snapshot(url)
    doc = reference()
    doc["accounts"].append(
        {
            "id": 42,
            "name": "Other",
            "mainNumber": "+14155550100",
            "extensions": [
                {
                    "extensionNumber": "101",
                    "name": "Op",
                    "credentials": {"jwt": "jwt-elsewhere"},
                    "phoneNumbers": [{"phoneNumber": "+14155550101"}],
                },
            ],
        }
    )
    services.provisioning.load_document(doc)  # a second account: fine
    after_ok = snapshot(url)
    assert after_ok != before
    # Valid on its own; conflicts only with what the first load wrote (account 1346632010).
    clash = {"accounts": [copy.deepcopy(doc["accounts"][1])]}
    clash["accounts"][0]["name"] = "Would be renamed"
    clash["accounts"].append(
        {
            "id": 43,
            "name": "Thief",
            "extensions": [
                {
                    "extensionNumber": "101",
                    "name": "Op",
                    "credentials": {"jwt": "jwt-olivia-101"},
                    "phoneNumbers": [{"phoneNumber": "+16509100020"}],
                },
            ],
        }
    )
    with pytest.raises(InvalidInput) as caught:
        services.provisioning.load_document(clash)
    message = caught.value.message
    assert (
        "accounts[1].extensions[0].phoneNumbers[0].phoneNumber: '+16509100020' already "
        "belongs to account 1346632010"
    ) in message
    assert (
        "accounts[1].extensions[0].credentials.jwt: is already the JWT credential of "
        "extension '101' of account 1346632010"
    ) in message
    assert "jwt-olivia-101" not in message
    assert snapshot(url) == after_ok


def test_the_demo_is_provisioned_once_and_only_into_an_empty_database(
    services: Services,
) -> None:
    intro = services.provisioning.provision_demo_if_empty()
    assert intro.status.name == "PROVISIONED"
    after = snapshot(services.db.url)
    again = services.provisioning.provision_demo_if_empty()
    assert again.status.name == "PRESENT"
    assert "Operator-101!" in again.describe("http://127.0.0.1:1")
    assert snapshot(services.db.url) == after


def test_the_demo_stays_out_of_a_database_with_other_accounts(services: Services) -> None:
    doc = reference()
    doc["accounts"][0]["id"] = 7
    for app in doc["apps"]:
        app["clientId"] = "mine"
    services.provisioning.load_document(doc)
    before = snapshot(services.db.url)
    intro = services.provisioning.provision_demo_if_empty()
    assert intro.status.name == "SKIPPED"
    assert snapshot(services.db.url) == before


# -- POST /_ringlet/fixtures and GET /_ringlet/health ---------------------------------------------


def _post(
    server: RingletServer,
    body: bytes | Doc,
    *,
    token: str | None = "right",
    content_type: str | None = None,
) -> httpx.Response:
    headers = {}
    if token is not None:
        headers[ADMIN_HEADER] = server.admin_token if token == "right" else token
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        if isinstance(body, dict):
            return client.post(FIXTURES_PATH, json=body, headers=headers)
        if content_type:
            headers["Content-Type"] = content_type
        return client.post(FIXTURES_PATH, content=body, headers=headers)


def _error(response: httpx.Response, status: int, code: str) -> Doc:
    assert response.status_code == status, response.text
    body: Doc = response.json()
    assert body["errorCode"] == code and body["errors"][0]["errorCode"] == code, body
    return body


def _fresh_doc(account: ProvisionedAccount) -> Doc:
    """A copy of the test's own account that is not provisioned yet: ids moved within the
    account's id stride, numbers into its handset block (9xxx, which this test never texts),
    and the server-wide login names (clientId, emails, JWTs) suffixed."""
    doc: Doc = copy.deepcopy(account.document)

    def number(value: str) -> str:
        return value[:-4] + "9" + value[-3:]

    for app in doc["apps"]:
        app["clientId"] += "-copy"
    for acct in doc["accounts"]:
        acct["id"] += 5 * 10**10
        acct["mainNumber"] = number(acct["mainNumber"])
        for ext in acct["extensions"]:
            ext["id"] += 5 * 10**10
            if "email" in ext:
                ext["email"] = "copy." + ext["email"]
            if "jwt" in ext.get("credentials", {}):
                ext["credentials"]["jwt"] += "-copy"
            for phone in ext.get("phoneNumbers", []):
                phone["id"] += 5 * 10**10
                phone["phoneNumber"] = number(phone["phoneNumber"])
    return doc


def test_health(server: RingletServer) -> None:
    response = httpx.get(server.base_url + "/_ringlet/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("token", [None, "wrong", ""], ids=["missing", "wrong", "empty"])
def test_fixtures_without_the_admin_token_is_forbidden(
    server: RingletServer, account: ProvisionedAccount, token: str | None
) -> None:
    doc = _fresh_doc(account)
    before = snapshot(server.database_url)
    body = _error(_post(server, doc, token=token), 403, "CMN-403")
    assert ADMIN_HEADER in body["message"]
    assert snapshot(server.database_url) == before


def test_fixtures_is_off_without_an_admin_token(
    server_factory: Callable[..., RingletServer],
) -> None:
    # An empty --admin-token is no token: the endpoint does not exist.
    srv = server_factory(extra_args=["--admin-token", ""])
    for token in (None, "", srv.admin_token):
        _error(_post(srv, reference(), token=token), 404, "CMN-120")
    assert snapshot(srv.database_url)["accounts"] == []
    assert httpx.get(srv.base_url + "/_ringlet/health").status_code == 200


def test_fixtures_loads_and_is_idempotent(
    server: RingletServer, account: ProvisionedAccount, client_for: Any
) -> None:
    doc = _fresh_doc(account)
    first = _post(server, doc)
    assert first.status_code == 200, first.text
    acct = doc["accounts"][0]
    assert first.json() == {
        "accounts": [{"id": acct["id"], "mainNumber": acct["mainNumber"]}],
        "summary": "1 account, 8 extensions, 7 phone numbers, 1 app "
        "(created 17, updated 0, unchanged 0)",
    }
    before = snapshot(server.database_url)
    second = _post(server, doc)
    assert second.status_code == 200, second.text
    assert second.json()["summary"].endswith("(created 0, updated 0, unchanged 17)")
    assert snapshot(server.database_url) == before
    # What the harness provisioned the same way logs in (the hashes are the ones OAuth checks).
    client_for(account, "102")
    client_for(account, "101", grant="jwt")


def test_fixtures_accepts_yaml(server: RingletServer, account: ProvisionedAccount) -> None:
    doc = _fresh_doc(account)
    response = _post(server, yaml.safe_dump(doc).encode(), content_type="application/yaml")
    assert response.status_code == 200, response.text
    assert response.json()["summary"].endswith("(created 17, updated 0, unchanged 0)")


def test_a_bad_document_is_refused_naming_the_field_and_writes_nothing(
    server: RingletServer, account: ProvisionedAccount
) -> None:
    doc = _fresh_doc(account)
    doc["accounts"][0]["extensions"][3]["type"] = "Usr"
    doc["accounts"][0]["extensions"][1]["phoneNumbers"][0]["phoneNumber"] = "+1"
    before = snapshot(server.database_url)
    body = _error(_post(server, doc), 400, "CMN-101")
    assert "accounts[0].extensions[3].type: 'Usr' is not one of User, " in body["message"]
    assert (
        "accounts[0].extensions[1].phoneNumbers[0].phoneNumber: '+1' is not a phone number"
    ) in body["message"]
    assert body["parameterName"] == "accounts[0].extensions[1].phoneNumbers[0].phoneNumber"
    assert snapshot(server.database_url) == before


def test_a_document_conflicting_with_the_server_writes_nothing(
    server: RingletServer, account: ProvisionedAccount
) -> None:
    doc = _fresh_doc(account)
    # Its last extension claims a number of the account already provisioned.
    doc["accounts"][0]["extensions"][-1]["phoneNumbers"] = [
        {"phoneNumber": account.ext("102").number}
    ]
    before = snapshot(server.database_url)
    body = _error(_post(server, doc), 400, "CMN-101")
    assert body["message"] == (
        f"accounts[0].extensions[7].phoneNumbers[0].phoneNumber: "
        f"'{account.ext('102').number}' already belongs to account "
        f"{account.id}"
    )
    assert snapshot(server.database_url) == before


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b'{"accounts": [', "application/json", 400, "CMN-103"),
        (b"accounts: [\n  - {name: x", "application/yaml", 400, "CMN-103"),
        (b"", "application/json", 400, "CMN-103"),
        (b"<accounts/>", "application/xml", 415, "CMN-104"),
    ],
)
def test_unreadable_bodies(
    server: RingletServer, body: bytes, content_type: str, status: int, code: str
) -> None:
    _error(_post(server, body, content_type=content_type), status, code)
