"""What browser and proxy clients need, end to end on a real server: CORS (preflights and the
headers of actual answers, errors included), method tunnelling (facts 1), `Accept`, the
`RCRequestId` header and the JSON media type.

A successful preflight (OPTIONS) is no operation of the spec and a tunnelled request is a POST
the spec does not have, so both go through a plain httpx client (`raw`); the tunnelled answers
are then validated as the method they were served as.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.messaging import EXT, error_code, records, send_pager
from tests.support.client import ApiClient
from tests.support.fixtures import MIN_SEED, ProvisionedAccount, build_account
from tests.support.server import RingletServer

pytestmark = pytest.mark.usefixtures("server")

ORIGIN = "http://app.example:3000"
JSON = "application/json; charset=UTF-8"
STORE = f"{EXT}/message-store"
VERSION = "/restapi/v1.0"
TOKEN = "/restapi/oauth/token"
HEALTH = "/_ringlet/health"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# What RingCentral's JS SDK puts on an API call (facts 7.4), as a browser lists them.
JS_SDK_HEADERS = "authorization,client-id,content-type,x-user-agent"
# Headers that scripts read from RingCentral's answers.
EXPOSED = (
    "X-Rate-Limit-Group",
    "X-Rate-Limit-Limit",
    "X-Rate-Limit-Remaining",
    "X-Rate-Limit-Window",
    "Retry-After",
    "RCRequestId",
    "Content-Range",
    "Location",
    "WWW-Authenticate",
)
PREFLIGHT_PATHS = (
    f"{STORE}/1",
    f"{EXT}/sms",
    TOKEN,
    "/restapi/v1.0/no-such-resource",
    HEALTH,
    "/_ringlet/fixtures",
)


@pytest.fixture
def raw(server: RingletServer) -> Iterator[httpx.Client]:
    """A client without the spec check (see the module doc)."""
    with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
        yield client


# -- helpers ---------------------------------------------------------------------------------


def preflight(
    client: httpx.Client,
    path: str,
    method: str,
    headers: str | None = JS_SDK_HEADERS,
    origin: str = ORIGIN,
    **extra: str,
) -> httpx.Response:
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method, **extra}
    if headers is not None:
        request_headers["Access-Control-Request-Headers"] = headers
    return client.options(path, headers=request_headers)


def tokens(value: str | None) -> set[str]:
    """A comma-separated header value as a set of lower-case items."""
    return {item.strip().lower() for item in (value or "").split(",") if item.strip()}


def vary(response: httpx.Response) -> set[str]:
    # Several Vary field lines read as one list (RFC 9110 5.3).
    return tokens(", ".join(response.headers.get_list("vary")))


def assert_cors_answer(response: httpx.Response, origin: str = "*") -> None:
    """The CORS headers of an actual (not preflight) answer to a cross-origin request."""
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    assert response.headers.get("access-control-allow-origin") == origin, where
    assert tokens(response.headers.get("access-control-expose-headers")) >= tokens(
        ",".join(EXPOSED)
    ), where
    assert "access-control-allow-credentials" not in response.headers, where
    assert "origin" in vary(response), where


def assert_error(
    response: httpx.Response, status: int, code: str, parameter: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert error_code(response) == code, response.text
    if parameter is not None:
        assert body["parameterName"] == parameter, response.text
        assert body["errors"][0]["parameterName"] == parameter, response.text
    return body


def request_id(response: httpx.Response) -> uuid.UUID:
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    raw_id = response.headers.get("rcrequestid")
    assert raw_id, f"no RCRequestId on {where}"
    parsed = uuid.UUID(raw_id)
    assert parsed.version == 4 and str(parsed) == raw_id, f"{raw_id!r} on {where}"
    return parsed


def unread_pager(account: ProvisionedAccount, client_for: Callable[..., ApiClient]) -> int:
    """The id of a fresh Unread Pager in 102's store (sent by 101)."""
    text = f"tunnel me {uuid.uuid4()}"
    sent = send_pager(client_for(account, "101"), ["102"], text)
    assert sent.status_code == 200, sent.text
    inbound = [m for m in records(client_for(account, "102")) if m["subject"] == text]
    assert len(inbound) == 1 and inbound[0]["readStatus"] == "Unread", inbound
    return int(inbound[0]["id"])


def tunnel(
    client: ApiClient,
    path: str,
    *,
    served_as: str | None,
    method: str = "POST",
    header: str | None = None,
    param: str | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """`method` (POST) with the override header and/or `?_method=`, sent unvalidated, then
    validated as the method it should have been served as (`served_as`, or as an error)."""
    headers = dict(client.http.headers)
    if header is not None:
        headers["X-HTTP-Method-Override"] = header
    params = {"_method": param} if param is not None else None
    with httpx.Client(base_url=client.base_url, headers=headers, timeout=30.0) as plain:
        response = plain.request(method, path, params=params, **kwargs)
    content_type = response.headers.get("content-type", "")
    if served_as is None:
        client.validator.validate_error(path, response.content, content_type)
    else:
        client.validator.validate(
            served_as, path, response.status_code, content_type, response.content
        )
    return response


def read_status(client: ApiClient, message_id: int) -> str:
    response = client.get(f"{STORE}/{message_id}")
    assert response.status_code == 200, response.text
    status: str = response.json()["readStatus"]
    return status


# -- CORS: preflights --------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_preflight_allows_every_method_and_the_js_sdk_headers(raw, method) -> None:
    for path in PREFLIGHT_PATHS:
        response = preflight(raw, path, method)
        where = f"preflight {method} {path}"
        assert response.status_code == 200, f"{where}: {response.text}"
        assert response.headers["access-control-allow-origin"] == "*", where
        allowed = tokens(response.headers["access-control-allow-methods"])
        assert allowed >= {m.lower() for m in (*METHODS, "OPTIONS")}, where
        assert tokens(response.headers["access-control-allow-headers"]) == tokens(JS_SDK_HEADERS), (
            where
        )
        assert int(response.headers["access-control-max-age"]) >= 600, where
        assert "origin" in vary(response), where
        # Bearer tokens are not credentials: "*" is enough, and must not come with this.
        assert "access-control-allow-credentials" not in response.headers, where
        request_id(response)


def test_preflight_allows_any_header_a_client_or_proxy_adds(raw) -> None:
    asked = (
        "accept,authorization,client-id,content-type,if-match,traceparent,"
        "x-http-method-override,x-ringcentral-custom,x-user-agent"
    )
    response = preflight(raw, f"{STORE}/1", "POST", headers=asked)
    assert response.status_code == 200, response.text
    assert tokens(response.headers["access-control-allow-headers"]) == tokens(asked)


def test_preflight_without_requested_headers(raw) -> None:
    response = preflight(raw, VERSION, "GET", headers=None)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"


def test_preflight_from_a_public_page_to_a_private_network(raw) -> None:
    response = preflight(
        raw, f"{EXT}/sms", "POST", **{"Access-Control-Request-Private-Network": "true"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-private-network"] == "true"


@pytest.mark.parametrize("path", [f"{STORE}/1", TOKEN])
def test_preflight_for_a_method_ringlet_does_not_offer(raw, spec_validator, path) -> None:
    response = preflight(raw, path, "TRACE")
    assert response.status_code == 400
    assert response.headers["content-type"] == JSON
    spec_validator.validate_error(path, response.content, response.headers["content-type"])
    body = response.json()
    item = body["errors"][0]
    assert item["errorCode"] == "CMN-101"
    assert item["parameterName"] == "Access-Control-Request-Method"
    request_id(response)


def test_options_without_preflight_headers_is_no_preflight(api) -> None:
    """An OPTIONS that is not a preflight goes to the API, which has no OPTIONS operation."""
    response = api.request("OPTIONS", VERSION, headers={"Origin": ORIGIN})
    assert_error(response, 405, "CMN-120")
    assert_cors_answer(response)


# -- CORS: actual answers --------------------------------------------------------------------


def test_cors_headers_on_successful_answers(api, account, client_for) -> None:
    browser = {"Origin": ORIGIN}
    bob = client_for(account, "102")
    listed = bob.get(STORE, headers=browser)
    assert listed.status_code == 200, listed.text
    assert_cors_answer(listed)
    posted = bob.post(
        f"{EXT}/company-pager",
        json={"to": [{"extensionNumber": "101"}], "text": "hi"},
        headers=browser,
    )
    assert posted.status_code == 200, posted.text
    assert_cors_answer(posted)
    # A browser app's login.
    token = api.post(
        TOKEN,
        data=api.login_form(account, "103", "password"),
        auth=(account.client_id, account.client_secret),
        headers=browser,
    )
    assert token.status_code == 200, token.text
    assert_cors_answer(token)


def test_cors_headers_on_errors(api, account, client_for) -> None:
    browser = {"Origin": ORIGIN}
    bob = client_for(account, "102")
    unauthenticated = api.get(STORE, headers=browser)
    assert_error(unauthenticated, 401, "AGW-401")
    assert "www-authenticate" in unauthenticated.headers
    assert_cors_answer(unauthenticated)
    missing = bob.get(f"{VERSION}/no-such-resource", headers=browser)
    assert missing.status_code == 404
    assert_cors_answer(missing)
    wrong_method = bob.delete(f"{EXT}/sms", headers=browser)
    assert_error(wrong_method, 405, "CMN-120")
    assert_cors_answer(wrong_method)
    bad_body = bob.post(
        f"{EXT}/company-pager",
        content=b"{oops",
        headers={**browser, "Content-Type": "application/json"},
    )
    assert_error(bad_body, 400, "CMN-103")
    assert_cors_answer(bad_body)
    bad_grant = api.post(
        TOKEN,
        data={"grant_type": "password", "username": account.main_number, "password": "wrong"},
        auth=(account.client_id, account.client_secret),
        headers=browser,
    )
    assert bad_grant.status_code == 400
    assert_cors_answer(bad_grant)


def test_no_cors_headers_without_origin_but_vary(account, client_for) -> None:
    response = client_for(account, "102").get(STORE)
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-expose-headers" not in response.headers
    # A cache must not hand this answer (without CORS headers) to a cross-origin page.
    assert "origin" in vary(response)


def test_cors_headers_on_429(server_factory, spec_validator) -> None:
    srv = server_factory(extra_args=["--rate-limit", "--rate-limits", "Light=1"])
    acct = build_account(MIN_SEED)
    srv.provision(acct.document)
    with (
        ApiClient(srv.base_url, validator=spec_validator) as api,
        api.login(acct, "102") as bob,
    ):
        first = bob.get(EXT, headers={"Origin": ORIGIN})
        assert first.status_code == 200, first.text
        assert_cors_answer(first)
        throttled = bob.get(EXT, headers={"Origin": ORIGIN})
    assert_error(throttled, 429, "CMN-301")
    assert int(throttled.headers["retry-after"]) > 0
    assert_cors_answer(throttled)
    request_id(throttled)


def test_restricted_origins(server_factory, spec_validator) -> None:
    srv = server_factory(
        extra_args=["--cors-origins", " http://allowed.example , HTTPS://Two.Example/ "]
    )
    allowed, other, stranger = (
        "http://allowed.example",
        "https://two.example",
        "http://evil.example",
    )
    with httpx.Client(base_url=srv.base_url, timeout=30.0) as raw:
        for origin in (allowed, other):
            ok = preflight(raw, f"{STORE}/1", "PUT", origin=origin)
            assert ok.status_code == 200, ok.text
            # Named origins are echoed, and the answer varies with the Origin.
            assert ok.headers["access-control-allow-origin"] == origin
            assert "origin" in vary(ok)
        refused = preflight(raw, f"{STORE}/1", "PUT", origin=stranger)
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        spec_validator.validate_error(
            f"{STORE}/1", refused.content, refused.headers["content-type"]
        )
        assert refused.json()["errors"][0]["parameterName"] == "Origin"
        assert refused.json()["errors"][0]["parameterValue"] == stranger
        request_id(refused)
    with ApiClient(srv.base_url, validator=spec_validator) as api:
        served = api.get(VERSION, headers={"Origin": allowed})
        assert served.status_code == 200
        assert_cors_answer(served, origin=allowed)
        # The server still answers a stranger (it cannot tell a browser from a script); only
        # the missing Allow-Origin stops a browser from handing the answer to the page.
        foreign = api.get(VERSION, headers={"Origin": stranger})
        assert foreign.status_code == 200
        assert "access-control-allow-origin" not in foreign.headers
        assert "origin" in vary(foreign)


# -- method tunnelling -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "param"),
    [("PUT", None), (None, "PUT"), ("put", None), (None, "Put"), ("PUT", "put")],
    ids=["header", "query", "header-lower-case", "query-mixed-case", "both-agreeing"],
)
def test_tunnelled_put_marks_a_message_read(account, client_for, header, param) -> None:
    bob = client_for(account, "102")
    message_id = unread_pager(account, client_for)
    response = tunnel(
        bob,
        f"{STORE}/{message_id}",
        served_as="PUT",
        header=header,
        param=param,
        json={"readStatus": "Read"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["readStatus"] == "Read"
    assert read_status(bob, message_id) == "Read"


def test_tunnelled_patch(account, client_for) -> None:
    bob = client_for(account, "102")
    message_id = unread_pager(account, client_for)
    response = tunnel(
        bob,
        f"{STORE}/{message_id}",
        served_as="PATCH",
        header="PATCH",
        json={"readStatus": "Read"},
    )
    assert response.status_code == 200, response.text
    assert read_status(bob, message_id) == "Read"


@pytest.mark.parametrize(
    ("header", "param"), [("DELETE", None), (None, "delete")], ids=["header", "query"]
)
def test_tunnelled_delete(account, client_for, header, param) -> None:
    bob = client_for(account, "102")
    message_id = unread_pager(account, client_for)
    response = tunnel(bob, f"{STORE}/{message_id}", served_as="DELETE", header=header, param=param)
    assert response.status_code == 204, response.text
    after = bob.get(f"{STORE}/{message_id}")
    assert after.status_code == 200
    assert after.json()["availability"] == "Deleted"  # R15


@pytest.mark.parametrize(
    ("method", "header", "param", "parameter"),
    [
        ("POST", "PUT", "DELETE", "_method"),
        ("POST", "DELETE", "PATCH", "_method"),
        ("POST", "GET", None, "X-HTTP-Method-Override"),
        ("POST", "POST", None, "X-HTTP-Method-Override"),
        ("POST", "TRACE", None, "X-HTTP-Method-Override"),
        ("POST", "", None, "X-HTTP-Method-Override"),
        ("POST", None, "GET", "_method"),
        ("POST", None, "", "_method"),
        ("PUT", "DELETE", None, "X-HTTP-Method-Override"),
        ("DELETE", None, "DELETE", "_method"),
        ("GET", None, "DELETE", "_method"),
        ("PATCH", "PUT", None, "X-HTTP-Method-Override"),
    ],
    ids=[
        "conflict-put-delete",
        "conflict-delete-patch",
        "to-get",
        "to-post",
        "to-trace",
        "empty-header",
        "query-to-get",
        "empty-query",
        "header-on-put",
        "query-on-delete",
        "query-on-get",
        "header-on-patch",
    ],
)
def test_bad_tunnelling_is_400_naming_it(
    account, client_for, method, header, param, parameter
) -> None:
    bob = client_for(account, "102")
    message_id = unread_pager(account, client_for)
    response = tunnel(
        bob,
        f"{STORE}/{message_id}",
        served_as=None,
        method=method,
        header=header,
        param=param,
        json={"readStatus": "Read"},
    )
    body = assert_error(response, 400, "CMN-101", parameter)
    assert response.headers["content-type"] == JSON
    assert parameter in body["message"]
    request_id(response)
    # Refused before anything ran: the message is neither read nor deleted.
    after = bob.get(f"{STORE}/{message_id}")
    assert after.json()["readStatus"] == "Unread"
    assert after.json()["availability"] == "Alive"


def test_tunnelling_to_a_method_the_path_lacks_is_405(account, client_for) -> None:
    bob = client_for(account, "102")
    response = tunnel(bob, f"{EXT}/sms", served_as=None, header="DELETE", json={})
    assert_error(response, 405, "CMN-120")


def test_bad_tunnelling_on_oauth_has_oauth_shape(api, account) -> None:
    response = tunnel(
        api,
        TOKEN,
        served_as=None,
        param="GET",
        data=api.login_form(account, "101", "password"),
        auth=(account.client_id, account.client_secret),
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request"
    assert body["errors"][0]["errorCode"] == "CMN-101"
    assert body["errors"][0]["parameterName"] == "_method"


def test_a_parameter_merely_ending_in_method_is_no_override(account, client_for) -> None:
    bob = client_for(account, "102")
    response = bob.get(STORE, params={"x_method": "DELETE", "perPage": 1})
    assert response.status_code == 200, response.text


# -- Accept and the media type ---------------------------------------------------------------


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "*/*",
        "application/json",
        "application/*",
        "application/json; charset=UTF-8",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        # Excluding JSON: disregarded (RFC 9110 12.5.1), never 406; see docs/behaviour.md.
        "text/html",
        "application/xml",
        "application/json;q=0, text/plain",
    ],
)
def test_every_accept_gets_json(account, client_for, accept) -> None:
    bob = client_for(account, "102")
    for path in (EXT, f"{VERSION}/no-such-resource"):
        request = bob.http.build_request("GET", path)
        if accept is None:
            del request.headers["accept"]
        else:
            request.headers["accept"] = accept
        response = bob.http.send(request)
        assert response.status_code in (200, 404), response.text
        assert response.headers["content-type"] == JSON, (path, accept)
        response.json()


def test_json_media_type_everywhere(api, raw, account, client_for) -> None:
    """`application/json; charset=UTF-8`, as RingCentral sends it, on every kind of answer."""
    bob = client_for(account, "102")
    login = bob.login_form(account, "101", "password")
    auth = (account.client_id, account.client_secret)
    answers = {
        "token": api.post(TOKEN, data=login, auth=auth),
        "oauth error": api.post(TOKEN, data={"grant_type": "password"}, auth=auth),
        "oauth 415": api.post(TOKEN, json={}, auth=auth),
        "api versions": api.get("/restapi"),
        "health": raw.get(HEALTH),
        "record": bob.get(EXT),
        "list": bob.get(STORE),
        "401": api.get(EXT),
        "404 unknown path": bob.get(f"{VERSION}/no-such-resource"),
        "404 unknown record": bob.get(f"{STORE}/1"),
        "405": bob.delete(f"{EXT}/sms"),
        "415": bob.post(f"{EXT}/company-pager", content=b"x", headers={"Content-Type": "text/x"}),
        "tunnelling refused": tunnel(bob, f"{STORE}/1", served_as=None, header="GET"),
        "preflight refused": preflight(raw, VERSION, "TRACE"),
    }
    for name, response in answers.items():
        assert response.headers.get("content-type") == JSON, f"{name}: {response.status_code}"


# -- RCRequestId -----------------------------------------------------------------------------


def test_every_answer_has_its_own_request_id(api, raw, account, client_for) -> None:
    bob = client_for(account, "102")
    answers = [
        bob.get(EXT),
        bob.get(EXT),
        bob.get(STORE),
        api.get(EXT),  # 401
        bob.get(f"{VERSION}/no-such-resource"),  # 404
        bob.delete(f"{EXT}/sms"),  # 405
        api.post(TOKEN, data={"grant_type": "password"}, auth=(account.client_id, "x")),
        raw.get(HEALTH),
        raw.get("/no/such/page"),
        preflight(raw, STORE, "GET"),
        preflight(raw, STORE, "TRACE"),
        tunnel(bob, f"{STORE}/1", served_as=None, header="GET"),
        send_pager(bob, ["101"]),
    ]
    ids = [request_id(response) for response in answers]
    assert len(set(ids)) == len(ids)


def test_forwarded_headers_are_not_read(
    account: ProvisionedAccount, client_for: Callable[..., ApiClient]
) -> None:
    """The uris keep the scheme the server was reached by, whatever a peer claims (a proxy in
    front gives the server --public-url instead)."""
    client = client_for(account, "101")
    claims = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": "203.0.113.9",
        "Forwarded": "proto=https",
    }
    answer = client.get(EXT, headers=claims)
    assert answer.status_code == 200, answer.text
    assert answer.json()["uri"].startswith(f"{client.base_url}/restapi/"), answer.json()["uri"]
