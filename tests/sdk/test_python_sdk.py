"""RingCentral's official Python SDK (`ringcentral` from PyPI) against a real ringlet.

Every test drives the SDK exactly as an application written for RingCentral does,
`SDK(client_id, client_secret, server.base_url).platform()`, with nothing changed but the server
URL. What the SDK puts on the wire (facts 7.4, 15), and what ringlet must therefore accept:

- token requests with HTTP Basic client authentication; the password grant with a separate
  `extension` field and `access_token_ttl=3600&refresh_token_ttl=604800`; the JWT grant; the
  refresh grant, sent on its own once `expires_in` has run out (it never retries on a 401);
  revoke with `token=<access token>`;
- `Authorization: bearer <token>` (the `token_type` as returned), `User-Agent` and
  `X-User-Agent`, and `Content-Type: application/json` on every request, GET and DELETE
  without a body included;
- query strings built by hand WITHOUT URL-encoding, so a `+` in a phone number or in a time
  zone offset arrives as a space;
- MMS and fax through its `MultipartBuilder`: `multipart/form-data` (or, switched, `multipart/mixed`
  with the same form-data part headers), the request in a part named `json`, files in parts named
  `attachment`;
- and it reads: JSON with `Content-Type: application/json`, several messages at once through its
  own `ApiResponse.multipart()` (`multipart/mixed`, a leading `{"response": [...]}` part), and
  errors as `ApiException("HTTP <status> <raw body> (request details...)")`.

Every /restapi answer the SDK receives is also validated against the OpenAPI description (the
`_spec_checked` fixture watches the SDK's HTTP client without changing what it sends or sees).
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final
from urllib.parse import urlsplit

import pytest
import requests
from ringcentral import SDK
from ringcentral.http.api_exception import ApiException
from ringcentral.http.api_response import ApiResponse
from ringcentral.http.client import Client
from ringcentral.http.multipart_builder import MultipartBuilder
from ringcentral.platform.events import Events
from ringcentral.platform.platform import Platform

from tests.support.client import JWT_GRANT, ApiClient
from tests.support.fixtures import MIN_SEED, ProvisionedAccount, build_account
from tests.support.openapi import SpecValidator
from tests.support.server import RingletServer

EXT: Final = "/restapi/v1.0/account/~/extension/~"
STORE: Final = f"{EXT}/message-store"
_PASSWORD_WARNING: Final = "username-password login will soon be deprecated"

LoginAs = Callable[..., Platform]


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _spec_checked(monkeypatch: pytest.MonkeyPatch, spec_validator: SpecValidator) -> Iterator[None]:
    """Validate every answer the SDK's HTTP client receives against the spec.

    The check is recorded, not raised inside the SDK (its `Client.send` would turn an
    AssertionError into an ApiException without the text), and reported when the test ends.
    """
    problems: list[str] = []
    original = Client.load_response

    def load_response(self: Client, request: requests.PreparedRequest) -> ApiResponse:
        response: ApiResponse = original(self, request)
        raw = response.response()
        try:
            spec_validator.validate(
                str(request.method),
                urlsplit(str(request.url)).path,
                raw.status_code,
                raw.headers.get("Content-Type", ""),
                raw.content,
            )
        except AssertionError as exc:
            problems.append(str(exc))
        return response

    monkeypatch.setattr(Client, "load_response", load_response)
    yield
    assert not problems, "answers that do not conform to the spec:\n" + "\n".join(problems)


def new_platform(server: RingletServer, account: ProvisionedAccount) -> Platform:
    """What an application does: the SDK pointed at ringlet instead of RingCentral."""
    platform: Platform = SDK(account.client_id, account.client_secret, server.base_url).platform()
    return platform


def password_login(platform: Platform, account: ProvisionedAccount, extension: str) -> ApiResponse:
    """`platform.login(username, extension, password)`; the SDK's deprecation warning (it
    recommends JWT) is expected and silenced here (the first test checks that it is raised)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PASSWORD_WARNING, category=UserWarning)
        response: ApiResponse = platform.login(
            username=account.main_number,
            extension=extension,
            password=account.password(extension),
        )
    return response


@pytest.fixture
def login_as(server: RingletServer) -> LoginAs:
    """`login_as(account, "102")`: a platform logged in with the password grant (or, with
    `jwt=True`, the JWT grant) as that extension."""

    def login(
        account: ProvisionedAccount, extension: str = "101", *, jwt: bool = False
    ) -> Platform:
        platform = new_platform(server, account)
        if jwt:
            platform.login(jwt=account.jwt(extension))
        else:
            password_login(platform, account, extension)
        return platform

    return login


# -- helpers ---------------------------------------------------------------------------------


def body(response: ApiResponse) -> Any:
    """The JSON body, the way applications read it (`json_dict()` insists on a JSON type)."""
    return response.json_dict()


def api_error(call: Callable[[], object], status: int, code: str) -> dict[str, Any]:
    """Run `call`, which must fail the way the SDK reports failures: an ApiException whose text
    is `HTTP <status> <raw body>`. Check the status, the error code (top level and errors[0])
    and that the text the application sees carries ringlet's `message`; return the body."""
    with pytest.raises(ApiException) as caught:
        call()
    exc = caught.value
    raw = exc.api_response().response()
    assert raw is not None, f"no HTTP answer: {exc}"
    assert raw.status_code == status, raw.text
    text = str(exc)
    assert text.startswith(f"HTTP {status} "), text
    error: dict[str, Any] = json.loads(raw.text)
    assert error["errors"][0]["errorCode"] == code, error
    if "error" in error:  # OAuth's envelope: error, error_description, errors[]
        assert error["error_description"] in text
    else:
        assert error["errorCode"] == code, error
        assert error["message"] and error["message"] in text
    return error


def send_sms(platform: Platform, from_number: str, to_number: str, text: str) -> dict[str, Any]:
    response = platform.post(
        f"{EXT}/sms",
        {"from": {"phoneNumber": from_number}, "to": [{"phoneNumber": to_number}], "text": text},
    )
    assert response.response().status_code == 200
    record: dict[str, Any] = body(response)
    return record


def send_pager(platform: Platform, to: list[str], text: str) -> dict[str, Any]:
    response = platform.post(
        f"{EXT}/company-pager", {"to": [{"extensionNumber": n} for n in to], "text": text}
    )
    assert response.response().status_code == 200
    record: dict[str, Any] = body(response)
    return record


def listed(platform: Platform, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    query = {"perPage": 1000, **(params or {})}
    records: list[dict[str, Any]] = body(platform.get(STORE, query))["records"]
    return records


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def iso_with_offset(moment: datetime, hours: int, minutes: int = 0) -> str:
    """`moment` written in another time zone, e.g. `2024-05-01T17:30:00.000+05:30`."""
    local = moment.astimezone(timezone(timedelta(hours=hours, minutes=minutes)))
    return local.isoformat(timespec="milliseconds")


# -- OAuth -----------------------------------------------------------------------------------


def test_password_login_with_a_separate_extension_field(
    server: RingletServer, account: ProvisionedAccount
) -> None:
    platform = new_platform(server, account)
    with pytest.warns(UserWarning, match=_PASSWORD_WARNING):
        response = platform.login(
            username=account.main_number, extension="102", password=account.password("102")
        )

    sent = response.request().body
    assert "extension=102" in sent and "access_token_ttl=3600" in sent  # what the SDK sends
    token = platform.auth().data()
    assert token["token_type"] == "bearer"
    assert token["owner_id"] == str(account.ext("102").id)
    assert token["expires_in"] == 3600 and token["refresh_token_expires_in"] == 604800
    assert platform.logged_in()
    me = body(platform.get(EXT))
    assert (me["id"], me["extensionNumber"]) == (account.ext("102").id, "102")


Username = Callable[[ProvisionedAccount], str]


@pytest.mark.parametrize(
    ("username", "extension", "who"),
    [
        pytest.param(lambda a: a.main_number, "", "101", id="main-number-is-the-operator"),
        pytest.param(lambda a: a.main_number.lstrip("+"), "103", "103", id="digits-without-plus"),
        pytest.param(lambda a: f"{a.main_number}*102", "", "102", id="number-star-extension"),
        pytest.param(lambda a: a.ext("102").number, "", "102", id="direct-number"),
        pytest.param(lambda a: a.ext("101").email or "", "", "101", id="email"),
    ],
)
def test_password_login_identifiers(
    server: RingletServer,
    account: ProvisionedAccount,
    username: Username,
    extension: str,
    who: str,
) -> None:
    platform = new_platform(server, account)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PASSWORD_WARNING, category=UserWarning)
        platform.login(
            username=username(account), extension=extension, password=account.password(who)
        )
    assert platform.auth().data()["owner_id"] == str(account.ext(who).id)


def test_jwt_login(server: RingletServer, account: ProvisionedAccount) -> None:
    platform = new_platform(server, account)
    platform.login(jwt=account.jwt("101"))

    assert platform.auth().data()["owner_id"] == str(account.ext("101").id)
    # A path without /restapi gets /restapi/v1.0 from the SDK.
    assert body(platform.get("/account/~"))["id"] == account.id
    assert body(platform.get(EXT))["extensionNumber"] == "101"


def test_wrong_password_is_an_oauth_error(
    server: RingletServer, account: ProvisionedAccount
) -> None:
    platform = new_platform(server, account)
    seen: list[object] = []
    platform.on(Events.loginError, seen.append)

    def login() -> None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_PASSWORD_WARNING, category=UserWarning)
            platform.login(username=account.main_number, extension="102", password="wrong")

    error = api_error(login, 400, "OAU-140")
    assert error["error"] == "invalid_grant"
    assert len(seen) == 1 and not platform.auth().access_token()


def test_logout_revokes_the_session(server: RingletServer, account: ProvisionedAccount) -> None:
    platform = new_platform(server, account)
    platform.login(jwt=account.jwt("101"))
    saved = platform.auth().data()  # what an application persists between runs

    response = platform.logout()
    assert response.response().status_code == 200
    assert platform.auth().access_token() == ""
    assert not platform.logged_in()  # no token left, and no refresh token to get one

    # The application restores its saved tokens: the server refuses both.
    platform.auth().set_data(saved)
    api_error(lambda: platform.get(EXT), 401, "OAU-213")
    error = api_error(platform.refresh, 400, "OAU-213")
    assert error["error"] == "invalid_grant"


def test_the_sdk_refreshes_an_expired_access_token_on_its_own(
    server_factory: Callable[..., RingletServer], spec_validator: SpecValidator
) -> None:
    # The SDK always asks for access_token_ttl=3600 and offers no way to ask for less, so the
    # short-lived session is opened by hand and handed to the SDK the way applications restore
    # a saved session (`auth().set_data`). From then on everything is the SDK's own doing.
    srv = server_factory(extra_args=["--min-access-token-ttl", "1"])
    ttl = 2  # seconds: short to wait for, long enough for the first call to beat it
    account = build_account(MIN_SEED)  # the server has a database of its own
    srv.provision(account.document)
    with ApiClient(srv.base_url, validator=spec_validator) as api:
        opened = api.token_request(
            {
                "grant_type": JWT_GRANT,
                "assertion": account.jwt("101"),
                "access_token_ttl": str(ttl),
            },
            client_id=account.client_id,
            client_secret=account.client_secret,
        )
    assert opened.status_code == 200, opened.text
    session = opened.json()
    assert session["expires_in"] == ttl

    platform = new_platform(srv, account)
    platform.auth().set_data(session)
    refreshed: list[object] = []
    platform.on(Events.refreshSuccess, refreshed.append)
    old = session["access_token"]

    def with_token(token: str) -> ApiResponse:
        # skip_auth_check: the SDK sends the request as is, with this Authorization header.
        response: ApiResponse = platform.get(
            EXT, headers={"Authorization": f"bearer {token}"}, skip_auth_check=True
        )
        return response

    assert body(platform.get(EXT))["id"] == account.ext("101").id  # still fresh: no refresh
    assert refreshed == []
    # Past the token's lifetime as the SDK counts it, which starts after the server's.
    time.sleep(platform.auth().data()["expire_time"] - time.time() + 0.5)
    api_error(lambda: with_token(old), 401, "OAU-128")  # the server has expired it

    assert body(platform.get(EXT))["id"] == account.ext("101").id
    assert len(refreshed) == 1  # the SDK saw `expires_in` run out and refreshed first
    new = platform.auth().access_token()
    assert new != old and platform.auth().data()["expires_in"] == 3600
    assert body(with_token(new))["id"] == account.ext("101").id
    api_error(lambda: with_token(old), 401, "OAU-213")  # superseded by the refresh


# -- sending, reading, updating, deleting ------------------------------------------------------


def test_send_sms_and_pager(login_as: LoginAs, account: ProvisionedAccount) -> None:
    bob = login_as(account, "102")
    olivia = login_as(account, "101", jwt=True)

    # An application picks its `from` among its numbers with the SmsSender feature.
    numbers = body(bob.get(f"{EXT}/phone-number"))["records"]
    senders = [n["phoneNumber"] for n in numbers if "SmsSender" in n.get("features", [])]
    assert senders == [account.ext("102").number]

    sms = send_sms(bob, senders[0], account.handset(1), "Hi from the Python SDK")
    assert (sms["type"], sms["direction"], sms["messageStatus"]) == ("SMS", "Outbound", "Sent")
    assert sms["from"]["phoneNumber"] == account.ext("102").number
    assert sms["to"] == [{"phoneNumber": account.handset(1)}]

    # SMS to a number on this server lands in its holder's store.
    to_olivia = send_sms(bob, account.ext("102").number, account.ext("101").number, "Lunch?")
    pager = send_pager(bob, ["101", "103"], "Stand-up in 5")
    assert (pager["type"], pager["messageStatus"]) == ("Pager", "Sent")
    assert sorted(r["extensionNumber"] for r in pager["to"]) == ["101", "102", "103"]

    inbox = {r["subject"]: r for r in listed(olivia, {"direction": "Inbound"})}
    assert inbox["Lunch?"]["conversationId"] == to_olivia["conversationId"]
    assert inbox["Lunch?"]["readStatus"] == "Unread"
    assert inbox["Stand-up in 5"]["type"] == "Pager"
    assert inbox["Stand-up in 5"]["from"]["extensionNumber"] == "102"


def test_text_length_counts_utf16_units(login_as: LoginAs, account: ProvisionedAccount) -> None:
    """The SDK writes JSON with `json.dumps`: an emoji travels as a `\\ud83d\\udc4b` pair."""
    bob = login_as(account, "102")
    mine = account.ext("102").number
    assert send_sms(bob, mine, account.handset(1), "👋" * 500)["subject"] == "👋" * 500

    def too_long() -> None:
        send_sms(bob, mine, account.handset(1), "👋" * 500 + "x")

    error = api_error(too_long, 400, "CMN-101")
    assert error["parameterName"] == "text"
    assert send_pager(bob, ["101"], "👋" * 512)["subject"] == "👋" * 512
    error = api_error(lambda: send_pager(bob, ["101"], "👋" * 513), 400, "CMN-101")
    assert error["parameterName"] == "text"


def test_list_filters_sent_unencoded(login_as: LoginAs, account: ProvisionedAccount) -> None:
    """The SDK writes query values as they are: `phoneNumber=+1650...` and
    `dateFrom=...+05:30` reach the server with a space where the `+` was."""
    bob = login_as(account, "102")
    mine = account.ext("102").number
    first = send_sms(bob, mine, account.handset(1), "to handset 1")
    send_sms(bob, mine, account.handset(2), "to handset 2")
    send_pager(bob, ["101"], "a pager message")

    response = bob.get(STORE, {"phoneNumber": account.handset(1)})
    assert f"phoneNumber={account.handset(1)}" in response.request().url  # sent with a raw +
    assert [r["id"] for r in body(response)["records"]] == [first["id"]]

    created = parse_time(first["creationTime"])
    before = iso_with_offset(created - timedelta(minutes=1), 5, 30)
    after = iso_with_offset(created + timedelta(minutes=1), 5, 30)
    assert "+05:30" in before
    assert len(listed(bob, {"dateFrom": before})) == 3
    assert listed(bob, {"dateFrom": after}) == []
    assert len(listed(bob, {"dateFrom": before, "dateTo": after})) == 3
    assert listed(bob, {"dateFrom": iso_with_offset(created, -8), "dateTo": before}) == []
    # Read with the offset, not as UTC: the list's uri echoes the instant in UTC.
    echoed = body(bob.get(STORE, {"dateFrom": before}))["uri"]
    utc = (created - timedelta(minutes=1)).astimezone(UTC).isoformat(timespec="milliseconds")
    assert f"dateFrom={utc.replace('+00:00', 'Z')}" in echoed

    # Python applications' idioms: isoformat() (microseconds, `+00:00`) and strftime's `%z`
    # (`+0530`, no colon), which must work with the `+` read back from a space as well.
    since = (created - timedelta(seconds=1)).astimezone(UTC).isoformat()
    assert since.endswith("+00:00") and len(listed(bob, {"dateFrom": since})) == 3
    india = timezone(timedelta(hours=5, minutes=30))
    for moment, expected in (
        (created - timedelta(minutes=1), 3),
        (created + timedelta(minutes=1), 0),
    ):
        stamp = moment.astimezone(india).strftime("%Y-%m-%dT%H:%M:%S%z")
        assert stamp.endswith("+0530")
        assert len(listed(bob, {"dateFrom": stamp})) == expected, stamp

    # Repeated keys for a list, as the SDK writes a Python list.
    pagers = listed(bob, {"messageType": ["Pager"], "direction": ["Outbound", "Inbound"]})
    assert [r["subject"] for r in pagers] == ["a pager message"]
    both = listed(bob, {"messageType": ["SMS", "Pager"], "phoneNumber": account.handset(2)})
    assert [r["subject"] for r in both] == ["to handset 2"]


def test_pages_followed_through_navigation_uris(
    login_as: LoginAs, account: ProvisionedAccount
) -> None:
    """Applications page by handing `navigation.nextPage.uri` back to the SDK as it is."""
    bob = login_as(account, "102")
    mine = account.ext("102").number
    sent = [send_sms(bob, mine, account.handset(3), f"page test {i}")["id"] for i in range(3)]

    seen: list[int] = []
    page = body(bob.get(STORE, {"phoneNumber": account.handset(3), "perPage": 2}))
    while True:
        seen += [r["id"] for r in page["records"]]
        if "nextPage" not in page["navigation"]:
            break
        page = body(bob.get(page["navigation"]["nextPage"]["uri"]))
    assert sorted(seen) == sorted(sent)
    assert page["paging"]["page"] == 2 and page["paging"]["totalElements"] == 3


def test_read_mark_read_and_delete(login_as: LoginAs, account: ProvisionedAccount) -> None:
    bob = login_as(account, "102")
    olivia = login_as(account, "101", jwt=True)
    send_pager(bob, ["101"], "please read me")
    (copy,) = listed(olivia, {"readStatus": "Unread"})
    url = f"{STORE}/{copy['id']}"

    got = olivia.get(url)
    assert got.request().headers["Content-Type"] == "application/json"  # on a GET, no body
    assert body(got)["subject"] == "please read me"
    # The attachment's uri is absolute: the SDK uses it as it is.
    content = olivia.get(body(got)["attachments"][0]["uri"])
    assert content.text() == "please read me"
    assert content.response().headers["Content-Type"].startswith("text/plain")

    updated = body(olivia.put(url, {"readStatus": "Read"}))
    assert (updated["id"], updated["readStatus"]) == (copy["id"], "Read")
    assert listed(olivia, {"readStatus": "Unread"}) == []

    deleted = olivia.delete(url)  # Content-Type: application/json and no body
    assert deleted.response().status_code == 204
    assert body(olivia.get(url))["availability"] == "Deleted"
    assert listed(olivia) == []
    # A Python bool in the query arrives as `purge=True`.
    assert olivia.delete(url, query_params={"purge": True}).response().status_code == 204
    assert body(olivia.get(url))["availability"] == "Purged"


def test_several_messages_at_once_through_the_sdks_multipart(
    login_as: LoginAs, account: ProvisionedAccount
) -> None:
    bob = login_as(account, "102")
    olivia = login_as(account, "101", jwt=True)
    texts = {"one", "zwei — Grüße 👋"}  # the SDK decodes parts with requests' charset guess
    for text in sorted(texts):
        send_pager(bob, ["101"], text)
    ids = sorted(r["id"] for r in listed(olivia))
    missing = max(ids) + 1_000_000

    parts = olivia.get(f"{STORE}/{ids[0]},{ids[1]},{missing}").multipart()
    assert [p.response().status_code for p in parts] == [200, 200, 404]
    assert [body(p)["id"] for p in parts[:2]] == ids
    assert {body(p)["subject"] for p in parts[:2]} == texts
    assert body(parts[2])["errorCode"] == "CMN-102"

    # Asked for the JSON form, the SDK reads it with json() (json_dict() wants application/json).
    array = olivia.get(
        f"{STORE}/{ids[0]},{missing}",
        headers={"Accept": "application/vnd.ringcentral.multipart+json"},
    )
    assert [(i["resourceId"], i["status"]) for i in array.response().json()] == [
        (str(ids[0]), 200),
        (str(missing), 404),
    ]

    # The same for an update: one body for every id.
    updated = olivia.put(f"{STORE}/{ids[0]},{ids[1]}", {"readStatus": "Read"})
    assert updated.response().status_code == 207
    assert [body(p)["readStatus"] for p in updated.multipart()] == ["Read", "Read"]

    # A bulk delete that partly fails answers 207, its 204 part without content.
    deleted = olivia.delete(f"{STORE}/{ids[0]},{missing}")
    assert deleted.response().status_code == 207
    parts = deleted.multipart()
    assert [p.response().status_code for p in parts] == [204, 404]
    assert parts[0].body() == b"" and body(parts[1])["errorCode"] == "CMN-102"
    # One where every id succeeds answers 204.
    assert olivia.delete(f"{STORE}/{ids[0]},{ids[1]}").response().status_code == 204
    assert listed(olivia) == []


def test_message_sync_full_then_incremental(login_as: LoginAs, account: ProvisionedAccount) -> None:
    bob = login_as(account, "102")
    olivia = login_as(account, "101", jwt=True)
    send_pager(bob, ["101"], "before the full sync")

    full = body(olivia.get(f"{EXT}/message-sync", {"syncType": "FSync"}))
    assert full["syncInfo"]["syncType"] == "FSync"
    assert [r["subject"] for r in full["records"]] == ["before the full sync"]
    token = full["syncInfo"]["syncToken"]
    (first,) = full["records"]

    send_pager(bob, ["101"], "after the full sync")
    olivia.put(f"{STORE}/{first['id']}", {"readStatus": "Read"})
    incremental = body(olivia.get(f"{EXT}/message-sync", {"syncType": "ISync", "syncToken": token}))
    assert incremental["syncInfo"]["syncType"] == "ISync"
    assert incremental["syncInfo"]["syncToken"] not in ("", token)
    changed = {r["subject"]: r for r in incremental["records"]}
    assert set(changed) == {"before the full sync", "after the full sync"}
    assert changed["before the full sync"]["readStatus"] == "Read"

    # The new token goes on: a deleted message comes back with its new availability.
    olivia.delete(f"{STORE}/{first['id']}")
    again = body(
        olivia.get(
            f"{EXT}/message-sync",
            {"syncType": "ISync", "syncToken": incremental["syncInfo"]["syncToken"]},
        )
    )
    deleted = [r for r in again["records"] if r["id"] == first["id"]]
    assert [r["availability"] for r in deleted] == ["Deleted"]


def _multipart_send(
    platform: Platform, body: dict[str, Any], *, mixed: bool = False, files: int = 0
) -> ApiResponse:
    """What an application does to send an MMS with the SDK (its demo posts to `.../sms`)."""
    builder = MultipartBuilder(platform).set_body(body).set_multipart_mixed(mixed)
    for n in range(files):
        builder.add((f"photo{n}.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "image/png"))
    response: ApiResponse = platform.send_request(builder.request(f"{EXT}/sms"))
    return response


@pytest.mark.parametrize("mixed", [False, True], ids=["form-data", "mixed"])
def test_sms_through_the_multipart_builder(
    login_as: LoginAs, account: ProvisionedAccount, mixed: bool
) -> None:
    bob = login_as(account, "102")
    olivia = login_as(account, "101", jwt=True)
    request = {
        "from": {"phoneNumber": account.ext("102").number},
        "to": [{"phoneNumber": account.ext("101").number}],
        "text": "sent as parts",
    }
    response = _multipart_send(bob, request, mixed=mixed)

    sent_type = response.request().headers["Content-Type"]
    assert sent_type.startswith("multipart/mixed;" if mixed else "multipart/form-data;")
    assert response.response().status_code == 200
    sms = body(response)
    assert (sms["type"], sms["direction"], sms["subject"]) == ("SMS", "Outbound", "sent as parts")
    assert [r["id"] for r in listed(bob)] == [sms["id"]]
    (inbound,) = listed(olivia)
    assert (inbound["subject"], inbound["conversationId"]) == (
        "sent as parts",
        sms["conversationId"],
    )


def test_mms_through_the_multipart_builder_is_refused(
    login_as: LoginAs, account: ProvisionedAccount
) -> None:
    bob = login_as(account, "102")
    olivia = login_as(account, "101", jwt=True)
    request = {
        "from": {"phoneNumber": account.ext("102").number},
        "to": [{"phoneNumber": account.ext("101").number}],
        "text": "with a photo",
    }

    error = api_error(lambda: _multipart_send(bob, request, files=1), 403, "BIL-103")
    assert error["message"] == "Feature [MMS] is not available for current account"
    assert listed(bob) == [] and listed(olivia) == []


# -- errors as the SDK reports them ----------------------------------------------------------


def test_errors_carry_the_message(login_as: LoginAs, account: ProvisionedAccount) -> None:
    bob = login_as(account, "102")
    dept = login_as(account, "201")
    mine = send_pager(bob, ["101"], "mine")

    error = api_error(lambda: bob.get(f"{STORE}/999999999999"), 404, "CMN-102")
    assert error["parameterName"] == "messageId"
    error = api_error(lambda: bob.get(STORE, {"readStatus": "Bogus"}), 400, "CMN-101")
    assert error["parameterName"] == "readStatus" and "readStatus" in error["message"]
    error = api_error(lambda: bob.get(STORE, {"dateFrom": "yesterday"}), 400, "CMN-101")
    assert error["parameterName"] == "dateFrom"

    def from_main_number() -> None:
        send_sms(bob, account.main_number, account.handset(1), "not my number")

    api_error(from_main_number, 403, "MSG-304")
    api_error(lambda: send_pager(dept, ["102"], "from a queue"), 403, "MSG-330")
    edit = f"{STORE}/{mine['id']}"
    error = api_error(lambda: bob.put(edit, {"subject": "edited"}), 400, "CMN-101")
    assert error["parameterName"] == "subject"
    api_error(lambda: bob.get("/restapi/v1.0/no-such-thing"), 404, "CMN-120")


def test_sdk_headers_are_accepted(login_as: LoginAs, account: ProvisionedAccount) -> None:
    olivia = login_as(account, "101", jwt=True)
    response = olivia.get(EXT)
    sent = response.request().headers
    assert sent["Authorization"].startswith("bearer ")
    assert "RCPYTHONSDK" in sent["User-Agent"] and sent["X-User-Agent"] == sent["User-Agent"]
    assert sent["Content-Type"] == "application/json" and response.request().body is None
    assert body(response)["extensionNumber"] == "101"


def test_signed_url_with_the_access_token_in_the_query(
    login_as: LoginAs, account: ProvisionedAccount
) -> None:
    """`create_url(add_token=True)` is how the SDK hands media URLs to players and browsers."""
    bob = login_as(account, "102")
    record = send_pager(bob, ["101"], "read me without a header")
    url = bob.create_url(record["attachments"][0]["uri"], add_token=True)
    assert "access_token=" in url
    fetched = requests.get(url, timeout=30)
    assert fetched.status_code == 200 and fetched.text == "read me without a header"


# -- rate limits -----------------------------------------------------------------------------


def test_rate_limits_as_the_sdk_reports_them(
    server_factory: Callable[..., RingletServer],
) -> None:
    """The Python SDK has no rate-limit handling: the application gets an ApiException with
    RingCentral's 429 and reads `Retry-After` and the X-Rate-Limit-* headers from it."""
    srv = server_factory(extra_args=["--rate-limit", "--rate-limits", "Light=3,Auth=2"])
    account = build_account(MIN_SEED)
    srv.provision(account.document)
    platform = new_platform(srv, account)
    platform.login(jwt=account.jwt("101"))  # Auth: 1 of 2

    for left in (2, 1, 0):
        headers = platform.get(EXT).response().headers
        shown = tuple(headers[f"X-Rate-Limit-{name}"] for name in ("Group", "Limit", "Window"))
        assert shown == ("light", "3", "60")
        assert headers["X-Rate-Limit-Remaining"] == str(left)
    with pytest.raises(ApiException) as caught:
        platform.get(EXT)
    refused = caught.value.api_response().response()
    assert (refused.headers["Retry-After"], refused.headers["X-Rate-Limit-Remaining"]) == (
        "60",
        "0",
    )
    api_error(lambda: platform.get(STORE), 429, "CMN-301")  # the whole group is refused
    # Another group of the same user is counted apart.
    assert send_pager(platform, ["102"], "still allowed")["type"] == "Pager"

    # The token endpoint (Auth group) answers in OAuth's shape.
    new_platform(srv, account).login(jwt=account.jwt("101"))  # Auth: 2 of 2
    error = api_error(
        lambda: new_platform(srv, account).login(jwt=account.jwt("101")), 429, "CMN-301"
    )
    assert error["error_description"] == "Request rate exceeded"
