"""RingCentral's official JavaScript SDK (`@ringcentral/sdk` 5.x, pinned in tests/sdk/js) against a
real ringlet on a real port, changing nothing but the server URL.

Each test runs one flow of tests/sdk/js/flows.mjs in Node (config on stdin, what the SDK saw on
stdout) and asserts on it here. Every answer the SDK received is also validated against the
OpenAPI description, and what the SDK sent to the token endpoint is checked against facts 7.4.

Node 18+ and the SDK are needed: `npm ci --prefix tests/sdk/js` installs the SDK from the lock
file. Without them these tests fail (they are not skipped): the SDK is part of the contract.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

import pytest

from tests.support.fixtures import MIN_SEED, ProvisionedAccount, build_account
from tests.support.openapi import REPO_ROOT, SpecValidator
from tests.support.server import RingletServer, fresh_database

JS_DIR: Final = Path(__file__).resolve().parent / "js"
DRIVER: Final = JS_DIR / "flows.mjs"
SDK_PACKAGE: Final = "@ringcentral/sdk"
INSTALL_COMMAND: Final = "npm ci --prefix tests/sdk/js"
FLOW_TIMEOUT: Final = 90.0

ME: Final = "/restapi/v1.0/account/~/extension/~"
STORE: Final = f"{ME}/message-store"
TOKEN: Final = "/restapi/oauth/token"
REVOKE: Final = "/restapi/oauth/revoke"
JWT_GRANT: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"


# -- running a flow --------------------------------------------------------------------------


@cache
def _node_problem() -> str | None:
    """Why the JS flows cannot run here, or None."""
    if shutil.which("node") is None:
        return "`node` is not on PATH: the JS SDK tests need Node 18 or later."
    pinned = json.loads((JS_DIR / "package.json").read_text())["dependencies"][SDK_PACKAGE]
    installed = JS_DIR / "node_modules" / SDK_PACKAGE / "package.json"
    if not installed.is_file():
        return (
            f"{SDK_PACKAGE} is not installed in {JS_DIR.relative_to(REPO_ROOT)}/node_modules: "
            f"run `{INSTALL_COMMAND}` from the repository root."
        )
    version = json.loads(installed.read_text())["version"]
    if version != pinned:
        return (
            f"{JS_DIR.relative_to(REPO_ROOT)}/node_modules has {SDK_PACKAGE} {version} but "
            f"package.json pins {pinned}: run `{INSTALL_COMMAND}` from the repository root."
        )
    return None


@dataclass(frozen=True)
class FlowRun:
    result: dict[str, Any]
    traffic: list[dict[str, Any]]  # every request the SDK sent, with the answer it got

    def to(self, path: str) -> list[dict[str, Any]]:
        """The exchanges with `path` (without query), in order."""
        return [entry for entry in self.traffic if entry["path"] == path]

    def token_forms(self) -> list[dict[str, str]]:
        return [entry["form"] for entry in self.to(TOKEN)]


def run_flow(flow: str, config: Mapping[str, Any], validator: SpecValidator) -> FlowRun:
    problem = _node_problem()
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    try:
        proc = subprocess.run(
            ["node", str(DRIVER), flow],
            input=json.dumps(config),
            capture_output=True,
            text=True,
            timeout=FLOW_TIMEOUT,
            cwd=REPO_ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
        pytest.fail(
            f"JS flow {flow!r} did not finish in {FLOW_TIMEOUT} s:\n{stderr}", pytrace=False
        )
    if proc.returncode != 0:
        pytest.fail(
            f"JS flow {flow!r} failed (exit {proc.returncode}):\n{proc.stderr[-6000:]}",
            pytrace=False,
        )
    out = json.loads(proc.stdout)
    run = FlowRun(out["result"], out["traffic"])
    for entry in run.traffic:
        if entry["path"].startswith("/restapi") and "status" in entry:
            validator.validate(
                entry["method"],
                entry["path"],
                entry["status"],
                entry["contentType"],
                entry["body"].encode(),
            )
    return run


# -- configs -----------------------------------------------------------------------------------


def app(server: RingletServer, account: ProvisionedAccount) -> dict[str, Any]:
    """How the application constructs the SDK: `new SDK({server, clientId, clientSecret})`."""
    return {
        "server": server.base_url,
        "clientId": account.client_id,
        "clientSecret": account.client_secret or None,
    }


def password_login(account: ProvisionedAccount, extension: str) -> dict[str, str]:
    """`platform.login({username, extension, password})`: the SDK sends `username=<n>*<ext>`."""
    return {
        "username": account.main_number,
        "extension": extension,
        "password": account.password(extension),
    }


def jwt_login(account: ProvisionedAccount, extension: str) -> dict[str, str]:
    return {"jwt": account.jwt(extension)}


def without_secret(doc: dict[str, Any]) -> None:
    """The fixture's app as a public client (no clientSecret), as browser apps are."""
    doc["apps"][0].pop("clientSecret", None)


def short_ttl_server(server_factory: Callable[..., RingletServer]) -> RingletServer:
    return server_factory(extra_args=["--min-access-token-ttl", "1"])


def provision(srv: RingletServer) -> ProvisionedAccount:
    """The reference account on a server of the test's own (a fresh database)."""
    acct = build_account(MIN_SEED)
    srv.provision(acct.document)
    return acct


# -- OAuth -------------------------------------------------------------------------------------


LOGINS: Final[dict[str, Callable[[ProvisionedAccount], tuple[dict[str, str], str]]]] = {
    # (login options, the extension they name)
    "main-number-star-extension": lambda a: (password_login(a, "102"), "102"),
    "direct-number": lambda a: (
        {"username": a.ext("102").number, "password": a.password("102")},
        "102",
    ),
    "email-star-extension": lambda a: (
        {"username": a.ext("101").email or "", "extension": "101", "password": a.password("101")},
        "101",
    ),
    "jwt": lambda a: (jwt_login(a, "101"), "101"),
}


@pytest.mark.parametrize("login", list(LOGINS))
def test_login_then_logout(
    server: RingletServer, account: ProvisionedAccount, spec_validator: SpecValidator, login: str
) -> None:
    options, extension = LOGINS[login](account)
    run = run_flow("login_logout", {**app(server, account), "login": options}, spec_validator)
    result, ext = run.result, account.ext(extension)

    (form,) = run.token_forms()
    (token_call,) = run.to(TOKEN)
    assert token_call["authorization"] == "Basic"  # a secret is configured
    assert "client_id" not in form
    if "jwt" in options:
        assert form == {"grant_type": JWT_GRANT, "assertion": "<secret>"}
    else:
        username = options["username"]
        glued = f"{username}*{extension}" if "extension" in options else username
        assert form == {"grant_type": "password", "username": glued, "password": "<secret>"}

    token = result["token"]
    assert token["token_type"] == "bearer"
    assert token["owner_id"] == str(ext.id)
    assert token["expires_in"] == 3600
    assert token["refresh_token_expires_in"] == 604800
    assert result["me"] == {"id": ext.id, "extensionNumber": extension, "type": "User"}
    (me_call,) = run.to(ME)
    assert me_call["authorization"] == "bearer"  # token_type as returned
    assert me_call["clientIdHeader"] == account.client_id
    assert me_call["userAgent"].startswith("ringlet-tests/1.0.0 RCJSSDK/")

    assert result["loggedInBefore"] is True
    assert result["logoutStatus"] == 200
    (revoke,) = run.to(REVOKE)
    assert revoke["form"] == {"token": "<secret>"}
    assert revoke["authorization"] == "Basic"
    assert result["loggedInAfter"] is False
    # The SDK forgot the session: it no longer even tries.
    assert result["afterLogout"]["ok"] is False
    assert result["afterLogout"]["message"] == "Refresh token is missing"
    # The server ended it: the old access token is refused.
    assert result["oldToken"] == {"status": 401, "errorCode": "OAU-213"}


def test_public_client_sends_client_id_in_the_form(
    server: RingletServer,
    new_account: Callable[..., ProvisionedAccount],
    spec_validator: SpecValidator,
) -> None:
    account = new_account(edit=without_secret)
    assert account.client_secret == ""
    config = {**app(server, account), "login": password_login(account, "102")}
    run = run_flow("login_logout", config, spec_validator)

    (token_call,) = run.to(TOKEN)
    assert token_call["authorization"] == ""  # no Basic without a secret
    assert token_call["form"] == {
        "grant_type": "password",
        "username": f"{account.main_number}*102",
        "password": "<secret>",
        "client_id": account.client_id,
    }
    assert run.result["me"]["id"] == account.ext("102").id
    (revoke,) = run.to(REVOKE)
    assert revoke["form"] == {"token": "<secret>", "client_id": account.client_id}
    assert run.result["logoutStatus"] == 200
    assert run.result["oldToken"] == {"status": 401, "errorCode": "OAU-213"}


def test_sdk_refreshes_ahead_of_expiry(
    server_factory: Callable[..., RingletServer], spec_validator: SpecValidator
) -> None:
    """The SDK takes a token for expired 60 s before `expires_in` runs out and refreshes on its
    own, asking for the lifetime it had; the call it was making then succeeds."""
    srv = short_ttl_server(server_factory)
    account = provision(srv)
    config = {**app(srv, account), "login": password_login(account, "102"), "ttl": 65}
    run = run_flow("refresh_ahead", config, spec_validator)
    result = run.result

    login_form, refresh_form = run.token_forms()
    assert login_form["access_token_ttl"] == "65"
    assert refresh_form == {
        "grant_type": "refresh_token",
        "refresh_token": "<secret>",
        "access_token_ttl": "65",
        "refresh_token_ttl": "604800",
    }
    assert [entry["status"] for entry in run.traffic] == [200, 200, 200, 200]  # no 401
    assert result["refreshes"] == 1
    assert result["first"]["expires_in"] == 65
    assert result["second"]["expires_in"] == 65
    assert result["second"]["access_token"] != result["first"]["access_token"]
    assert result["before"] == result["after"] == account.ext("102").id
    # Refresh tokens are single use and the refresh ended the old access token at once.
    assert result["firstToken"] == {"status": 401, "errorCode": "OAU-213"}


def test_sdk_refreshes_after_401_with_bad_ttls(
    server_factory: Callable[..., RingletServer], spec_validator: SpecValidator
) -> None:
    """An expired token gets 401 OAU-128; the SDK then refreshes with `access_token_ttl=-1`, and
    later (having lost `expires_in`) with `NaN`: the server falls back to the default lifetime
    instead of refusing, and the SDK's retried call succeeds."""
    srv = short_ttl_server(server_factory)
    account = provision(srv)
    config = {
        **app(srv, account),
        "login": password_login(account, "102"),
        "ttl": 1,
        "wait": 1500,
    }
    run = run_flow("refresh_after_401", config, spec_validator)
    result = run.result

    steps = [(entry["method"], entry["path"], entry["status"]) for entry in run.traffic]
    assert steps == [
        ("POST", TOKEN, 200),
        ("GET", ME, 401),
        ("POST", TOKEN, 200),
        ("GET", ME, 200),
        ("POST", TOKEN, 200),
        ("GET", ME, 200),
    ]
    expired = json.loads(run.to(ME)[0]["body"])
    assert expired["errorCode"] == "OAU-128"
    _, after_401, after_loss = run.token_forms()
    assert after_401["access_token_ttl"] == "-1"
    assert after_loss["access_token_ttl"] == "NaN"
    assert result["first"]["expires_in"] == 1
    assert result["second"]["expires_in"] == 3600
    assert result["third"]["expires_in"] == 3600
    assert result["afterExpiry"]["ok"] is True
    assert result["afterExpiry"]["body"]["id"] == account.ext("102").id
    assert result["afterLoss"]["ok"] is True
    assert result["refreshes"] == 2


def test_session_ended_elsewhere(
    server: RingletServer, account: ProvisionedAccount, spec_validator: SpecValidator
) -> None:
    """Another copy of the session logged out: the next call gets 401, the SDK's refresh is
    refused (refresh tokens die with their session), and the app sees that refusal."""
    config = {**app(server, account), "login": password_login(account, "102")}
    run = run_flow("session_ended_elsewhere", config, spec_validator)
    result = run.result

    assert result["before"]["ok"] is True
    after = result["after"]
    assert after["ok"] is False
    assert after["status"] == 400
    assert after["body"]["error"] == "invalid_grant"
    assert after["body"]["errors"][0]["errorCode"] == "OAU-213"
    assert after["message"] == after["body"]["error_description"]
    # The failed refresh cleared the SDK's session: loggedIn() then fails without asking.
    assert result["refreshErrors"] == [after["message"], "Refresh token is missing"]
    assert result["loggedIn"] is False
    unauthorized = [e for e in run.to(ME) if e["status"] == 401]
    assert [json.loads(e["body"])["errorCode"] for e in unauthorized] == ["OAU-213"]


# -- sending ---------------------------------------------------------------------------------


def test_send_sms_and_pager(
    server: RingletServer, account: ProvisionedAccount, spec_validator: SpecValidator
) -> None:
    bob = account.ext("102")
    config = {
        **app(server, account),
        "login": password_login(account, "102"),
        "sms": {"from": bob.number, "to": account.handset(1), "text": "Hi from the JS SDK 👋"},
        "pager": {"to": ["101", "103"], "text": "Pager from the JS SDK"},
    }
    run = run_flow("send", config, spec_validator)
    result = run.result
    # JavaScript reads JSON numbers as doubles: every id and conversationId must survive that.
    sms_raw, pager_raw, reply_raw = (
        json.loads(entry["body"])
        for entry in run.traffic
        if entry["method"] == "POST" and entry["path"] in (f"{ME}/sms", f"{ME}/company-pager")
    )
    assert (result["sms"], result["pager"], result["reply"]) == (sms_raw, pager_raw, reply_raw)

    (number,) = result["numbers"]
    assert number["phoneNumber"] == bob.number
    assert "SmsSender" in number["features"]

    sms = result["sms"]
    assert sms["type"] == "SMS"
    assert sms["direction"] == "Outbound"
    assert sms["messageStatus"] == "Sent"
    assert sms["from"]["phoneNumber"] == bob.number
    assert [to["phoneNumber"] for to in sms["to"]] == [account.handset(1)]
    assert sms["subject"] == "Hi from the JS SDK 👋"

    pager = result["pager"]
    assert pager["type"] == "Pager"
    assert pager["direction"] == "Outbound"
    assert pager["from"]["extensionNumber"] == "102"
    assert {to["extensionNumber"] for to in pager["to"]} == {"101", "102", "103"}
    reply = result["reply"]
    assert reply["conversationId"] == pager["conversationId"]
    assert reply["id"] != pager["id"]


# -- message store ---------------------------------------------------------------------------


def test_list_read_mark_read_delete(
    server: RingletServer, account: ProvisionedAccount, spec_validator: SpecValidator
) -> None:
    config = {
        **app(server, account),
        "sender": jwt_login(account, "101"),
        "login": password_login(account, "102"),
        "to": ["102"],
        "text": "read me through the SDK",
    }
    result = run_flow("message_store", config, spec_validator).result

    (record,) = result["unread"]
    message_id = record["id"]
    assert record["type"] == "Pager"
    assert record["direction"] == "Inbound"
    assert record["readStatus"] == "Unread"
    assert record["conversationId"] == result["sentConversation"]
    assert "messageType=Pager" in result["unreadUri"]
    assert "readStatus=Unread" in result["unreadUri"]

    read = result["read"]
    assert read == record
    assert result["byUri"] == read
    assert read["uri"].startswith(server.base_url)
    assert result["content"] == "read me through the SDK"
    assert result["signedContent"] == {"status": 200, "text": "read me through the SDK"}

    assert result["updated"]["readStatus"] == "Read"
    assert message_id not in result["stillUnread"]

    assert result["deleteStatus"] == 204
    assert result["afterDelete"]["availability"] == "Deleted"
    assert message_id not in result["alive"]
    assert message_id in result["deletedList"]
    assert result["purgeStatus"] == 204
    assert result["afterPurge"]["availability"] == "Purged"
    assert result["byFilterStatus"] == 204
    assert result["sent"] not in result["senderAlive"]


def test_read_several_messages_at_once(
    server: RingletServer, account: ProvisionedAccount, spec_validator: SpecValidator
) -> None:
    """`GET .../message-store/1,2,3` answers 207 multipart/mixed, which the SDK's own
    `multipart()` splits into one response per id; the JSON-array form on request."""
    bob = account.ext("102")
    unknown_id = account.new_id(999)
    config = {
        **app(server, account),
        "login": password_login(account, "102"),
        "sms": {"from": bob.number, "to": [account.handset(i) for i in (1, 2, 3)]},
        "unknownId": unknown_id,
    }
    result = run_flow("bulk", config, spec_validator).result
    ids = result["ids"]

    many = result["many"]
    assert many["status"] == 207
    assert many["isMultipart"] is True
    assert many["contentType"].startswith("multipart/mixed")
    parts = many["parts"]
    assert [part["status"] for part in parts] == [200, 200, 200, 404]
    assert [part["body"]["id"] for part in parts[:3]] == ids
    assert [part["body"]["subject"] for part in parts[:3]] == ["bulk 0", "bulk 1", "bulk 2"]
    missing = parts[3]
    assert missing["ok"] is False
    assert missing["body"]["errorCode"] == "CMN-102"
    assert missing["body"]["message"] == missing["body"]["errors"][0]["message"]

    array_form = result["arrayForm"]
    assert array_form["status"] == 207
    assert [item["resourceId"] for item in array_form["body"]] == [str(i) for i in ids]
    assert [item["status"] for item in array_form["body"]] == [200, 200, 200]
    assert [item["body"]["id"] for item in array_form["body"]] == ids

    # Following navigation.nextPage.uri (newest first) visits every message once.
    pages = result["pages"]
    assert [page["ids"] for page in pages] == [ids[:0:-1], ids[:1]]
    assert "nextPage" in pages[0]["navigation"]
    assert "nextPage" not in pages[-1]["navigation"]

    updated = result["updated"]
    assert updated["status"] == 207
    assert [part["status"] for part in updated["parts"]] == [200, 200, 200]
    assert [part["body"]["readStatus"] for part in updated["parts"]] == ["Unread"] * 3

    assert result["deleteStatus"] == 204
    assert set(ids) <= set(result["afterDelete"])


def test_full_then_incremental_sync(
    server: RingletServer, account: ProvisionedAccount, spec_validator: SpecValidator
) -> None:
    bob = account.ext("102")
    config = {
        **app(server, account),
        "login": password_login(account, "102"),
        "sms": {"from": bob.number, "to": account.handset(4)},
    }
    result = run_flow("sync", config, spec_validator).result

    full = result["full"]
    assert full["syncInfo"]["syncType"] == "FSync"
    assert full["syncInfo"]["syncToken"]
    assert full["ids"] == [result["old"]]
    incremental = result["incremental"]
    assert incremental["syncInfo"]["syncType"] == "ISync"
    assert result["fresh"] in incremental["ids"]
    assert incremental["syncInfo"]["syncToken"] != full["syncInfo"]["syncToken"]
    assert result["again"]["syncInfo"]["syncType"] == "ISync"


# -- errors as the SDK shows them ------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One failing call, and what behaviour.md / the facts say the server answers."""

    request: dict[str, Any]
    status: int
    code: str  # errors[0].errorCode
    oauth_error: str | None = None  # `error` of an OAuth answer


def error_cases(account: ProvisionedAccount, other: ProvisionedAccount) -> dict[str, Case]:
    bob, carol = account.ext("102"), account.ext("103")

    def call(session: str, method: str, url: str, body: Any = None, **query: Any) -> dict[str, Any]:
        request: dict[str, Any] = {"session": session, "method": method, "url": url}
        if body is not None:
            request["body"] = body
        if query:
            request["query"] = query
        return request

    def sms(from_number: str, to: str, text: str = "hi") -> dict[str, Any]:
        return {"from": {"phoneNumber": from_number}, "to": [{"phoneNumber": to}], "text": text}

    def pager(*to: str) -> dict[str, Any]:
        return {"to": [{"extensionNumber": n} for n in to], "text": "hi"}

    handset = account.handset(7)
    return {
        "sms from another's number": Case(
            call("bob", "POST", f"{ME}/sms", sms(account.operator_ext.number, handset)),
            403,
            "MSG-304",
        ),
        "sms from the main number, not the operator": Case(
            call("bob", "POST", f"{ME}/sms", sms(account.main_number, handset)), 403, "MSG-304"
        ),
        "sms from a number without SmsSender": Case(
            call("carol", "POST", f"{ME}/sms", sms(carol.number, handset)), 403, "MSG-242"
        ),
        "sms text over 1000 units": Case(
            call("bob", "POST", f"{ME}/sms", sms(bob.number, handset, "x" * 1001)),
            400,
            "CMN-101",
        ),
        "sms to an extension number": Case(
            call("bob", "POST", f"{ME}/sms", sms(bob.number, "103")), 400, "MSG-246"
        ),
        "pager to a disabled extension": Case(
            call("bob", "POST", f"{ME}/company-pager", pager("104")), 400, "MSG-324"
        ),
        "pager to an unknown extension": Case(
            call("bob", "POST", f"{ME}/company-pager", pager("999")), 400, "MSG-316"
        ),
        "pager from a department": Case(
            call("queue", "POST", f"{ME}/company-pager", pager("102")), 403, "MSG-330"
        ),
        "unknown message": Case(
            call("bob", "GET", f"{STORE}/{account.new_id(999)}"), 404, "CMN-102"
        ),
        "update of a field other than readStatus": Case(
            call("bob", "PUT", f"{STORE}/{account.new_id(999)}", {"availability": "Deleted"}),
            400,
            "CMN-101",
        ),
        "bad list filter": Case(call("bob", "GET", STORE, readStatus="Maybe"), 400, "CMN-101"),
        "damaged sync token": Case(
            call("bob", "GET", f"{ME}/message-sync", syncType="ISync", syncToken="garbage"),
            400,
            "MSG-333",
        ),
        "another extension's store": Case(
            call(
                "bob",
                "GET",
                f"/restapi/v1.0/account/~/extension/{account.operator_ext.id}/message-store",
            ),
            403,
            "CMN-404",
        ),
        "another account's store": Case(
            call(
                "olivia",
                "GET",
                f"/restapi/v1.0/account/{other.id}/extension/{other.operator_ext.id}/message-store",
            ),
            404,
            "CMN-102",
        ),
        "unknown path": Case(call("bob", "GET", "/restapi/v1.0/account/~/nothing"), 404, "CMN-120"),
        "wrong method": Case(call("bob", "PATCH", f"{ME}/sms", {}), 405, "CMN-120"),
        "wrong password": Case(
            {"login": {**password_login(account, "102"), "password": "wrong"}},
            400,
            "OAU-140",
            "invalid_grant",
        ),
        "unknown jwt": Case({"login": {"jwt": "no-such-jwt"}}, 400, "OAU-140", "invalid_grant"),
        "wrong client secret": Case(
            {"login": password_login(account, "102"), "app": {"clientSecret": "wrong"}},
            400,
            "OAU-153",
            "invalid_client",
        ),
        "confidential app without its secret": Case(
            {"login": password_login(account, "102"), "app": {"clientSecret": None}},
            400,
            "OAU-123",
            "invalid_client",
        ),
    }


def test_errors_carry_message_status_and_code(
    server: RingletServer,
    account: ProvisionedAccount,
    new_account: Callable[..., ProvisionedAccount],
    spec_validator: SpecValidator,
) -> None:
    """The SDK's error message is the body's top-level `message` (`error_description` for
    OAuth), never a bare "400 Bad Request"; status and code are behaviour.md's."""
    other = new_account()
    cases = error_cases(account, other)
    config = {
        **app(server, account),
        "sessions": {
            "bob": password_login(account, "102"),
            "carol": password_login(account, "103"),
            "olivia": jwt_login(account, "101"),
            "queue": password_login(account, "201"),
        },
        "cases": [{"name": name, **case.request} for name, case in cases.items()],
    }
    results = run_flow("errors", config, spec_validator).result

    problems = []
    for name, case in cases.items():
        seen = results[name]
        body = seen.get("body") or {}
        errors = body.get("errors") or [{}]
        expected_message = (
            body.get("error_description") if case.oauth_error else body.get("message")
        )
        got = {
            "ok": seen["ok"],
            "status": seen.get("status"),
            "code": errors[0].get("errorCode"),
            "error": body.get("error"),
            "message is the body's": bool(expected_message) and seen["message"] == expected_message,
        }
        want = {
            "ok": False,
            "status": case.status,
            "code": case.code,
            "error": case.oauth_error,
            "message is the body's": True,
        }
        if got != want:
            problems.append(f"{name}: got {got}, want {want}; SDK message {seen.get('message')!r}")
        elif not case.oauth_error:
            assert body["errorCode"] == case.code, name  # the top level repeats errors[0]
            assert errors[0]["message"] == body["message"], name
    assert not problems, "\n".join(problems)


# -- rate limits -----------------------------------------------------------------------------
# Counts live in the server process's memory, whatever the database: these tests run once, on
# a SQLite server of their own started with the limits enforced.

LIGHT_LIMIT: Final = 3


# The retry test shortens the penalty (--rate-limit-penalty) rather than wait RingCentral's minute.
SHORT_PENALTY_S: Final = 3


@contextmanager
def _limited_server(tmp_path: Path, *more_args: str) -> Iterator[RingletServer]:
    with fresh_database("sqlite", tmp_path / "db") as url:
        srv = RingletServer(
            url,
            tmp_path / "server.log",
            extra_args=["--rate-limit", "--rate-limits", f"Light={LIGHT_LIMIT}", *more_args],
        )
        srv.start()
        try:
            yield srv
        finally:
            srv.stop()


@pytest.fixture
def limited_server(tmp_path: Path) -> Iterator[RingletServer]:
    with _limited_server(tmp_path) as srv:
        yield srv


@pytest.fixture
def quickly_limited_server(tmp_path: Path) -> Iterator[RingletServer]:
    with _limited_server(tmp_path, "--rate-limit-penalty", str(SHORT_PENALTY_S)) as srv:
        yield srv


def test_rate_limit_reaches_the_app(
    limited_server: RingletServer, spec_validator: SpecValidator
) -> None:
    """Without `handleRateLimit` the app gets the 429: the SDK's error shows the body's message
    and `retryAfter` from the Retry-After header, and `rateLimitError` fires."""
    account = provision(limited_server)
    config = {
        **app(limited_server, account),
        "login": password_login(account, "102"),
        "calls": LIGHT_LIMIT + 2,
        "handleRateLimit": False,
    }
    run = run_flow("rate_limit", config, spec_validator)
    calls = run.result["calls"]

    reads = run.to(ME)
    assert [entry["rateLimit"] for entry in reads[:LIGHT_LIMIT]] == [
        {"group": "light", "limit": str(LIGHT_LIMIT), "remaining": str(left), "window": "60"}
        for left in range(LIGHT_LIMIT - 1, -1, -1)
    ]
    assert [call["ok"] for call in calls] == [True] * LIGHT_LIMIT + [False, False]
    for refused, entry in zip(calls[LIGHT_LIMIT:], reads[LIGHT_LIMIT:], strict=True):
        assert refused["status"] == 429
        assert refused["body"]["errorCode"] == "CMN-301"
        assert refused["message"] == refused["body"]["message"]
        assert entry["retryAfter"] == "60"
        assert refused["retryAfter"] == 60_000  # ms, from Retry-After
    assert [e["status"] for e in run.result["rateLimitErrors"]] == [429, 429]
    assert len(reads) == LIGHT_LIMIT + 2  # the SDK did not retry on its own


def test_handle_rate_limit_waits_retry_after_and_retries(
    quickly_limited_server: RingletServer, spec_validator: SpecValidator
) -> None:
    """With `handleRateLimit: true` the SDK waits Retry-After (the penalty, shortened here) and
    retries once; the retry is let through."""
    account = provision(quickly_limited_server)
    config = {
        **app(quickly_limited_server, account),
        "login": password_login(account, "102"),
        "calls": LIGHT_LIMIT + 1,
        "handleRateLimit": True,
    }
    run = run_flow("rate_limit", config, spec_validator)
    calls = run.result["calls"]

    assert [call["ok"] for call in calls] == [True] * (LIGHT_LIMIT + 1)
    assert calls[-1]["body"]["id"] == account.ext("102").id
    assert calls[-1]["ms"] >= SHORT_PENALTY_S * 1000
    assert [entry["status"] for entry in run.to(ME)] == [200] * LIGHT_LIMIT + [429, 200]
    assert run.to(ME)[LIGHT_LIMIT]["retryAfter"] == str(SHORT_PENALTY_S)
    assert [e["retryAfter"] for e in run.result["rateLimitErrors"]] == [SHORT_PENALTY_S * 1000]
