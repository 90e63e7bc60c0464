"""ApiClient against a mock transport: validation hook and the login requests it sends."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from tests.support.client import JWT_GRANT, ApiClient
from tests.support.fixtures import build_account

TOKEN = {
    "access_token": "AT-1",
    "token_type": "bearer",
    "expires_in": 3600,
    "refresh_token": "RT-1",
    "refresh_token_expires_in": 604800,
    "scope": "SMS",
    "owner_id": "2",
}


class FakeServer:
    """Records requests; answers with whatever `routes` maps (method, path) to."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], httpx.Response] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, request.url.path)
        if key in self.routes:
            return self.routes[key]
        return httpx.Response(
            404,
            json={
                "errorCode": "CMN-120",
                "message": "Invalid URI",
                "errors": [{"errorCode": "CMN-120", "message": "Invalid URI"}],
            },
        )


@pytest.fixture
def fake() -> FakeServer:
    server = FakeServer()
    server.routes[("POST", "/restapi/oauth/token")] = httpx.Response(200, json=TOKEN)
    return server


@pytest.fixture
def client(fake: FakeServer) -> ApiClient:
    return ApiClient("http://ringlet.test", transport=httpx.MockTransport(fake))


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def basic(request: httpx.Request) -> str:
    scheme, _, value = request.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    return base64.b64decode(value).decode()


def test_password_login(client: ApiClient, fake: FakeServer) -> None:
    acct = build_account(4)
    logged_in = client.login(acct, "102")
    request = fake.requests[-1]
    assert basic(request) == f"{acct.client_id}:{acct.client_secret}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form(request) == {
        "grant_type": "password",
        "username": acct.main_number,
        "extension": "102",
        "password": "Bob-102!",
    }
    assert logged_in.access_token == "AT-1"
    fake.routes[("GET", "/restapi/v1.0/account/~")] = httpx.Response(200, json={"id": 1})
    logged_in.get("/restapi/v1.0/account/~")
    assert fake.requests[-1].headers["authorization"] == "Bearer AT-1"
    assert "authorization" not in client.http.headers


def test_other_grants(client: ApiClient, fake: FakeServer) -> None:
    acct = build_account(4)
    client.login(acct, "101", grant="jwt")
    assert form(fake.requests[-1]) == {"grant_type": JWT_GRANT, "assertion": acct.jwt("101")}
    client.login(acct, "201", grant="password-star")
    assert form(fake.requests[-1])["username"] == f"{acct.main_number}*201"


def test_login_failure_reports_body(client: ApiClient, fake: FakeServer) -> None:
    fake.routes[("POST", "/restapi/oauth/token")] = httpx.Response(
        400,
        json={
            "error": "invalid_grant",
            "error_description": "Invalid resource owner credentials",
            "errors": [{"errorCode": "OAU-140", "message": "Invalid resource owner credentials"}],
        },
    )
    with pytest.raises(AssertionError, match="OAU-140"):
        client.login(build_account(4), "102")


def test_every_restapi_response_is_validated(client: ApiClient, fake: FakeServer) -> None:
    fake.routes[("GET", "/restapi/v1.0/account/~")] = httpx.Response(
        200, json={"id": 1, "statuss": "Confirmed"}
    )
    with pytest.raises(AssertionError, match=r"(?s)readAccountInfo.*\$\.statuss"):
        client.get("/restapi/v1.0/account/~")
    # also through the raw httpx client
    with pytest.raises(AssertionError, match="statuss"):
        client.http.get("/restapi/v1.0/account/~")
    # and error bodies
    fake.routes[("GET", "/restapi/v1.0/account/~")] = httpx.Response(
        404, json={"detail": "Not Found"}
    )
    with pytest.raises(AssertionError, match="error envelope"):
        client.get("/restapi/v1.0/account/~")


def test_ringlet_paths_are_not_validated(client: ApiClient, fake: FakeServer) -> None:
    fake.routes[("GET", "/_ringlet/health")] = httpx.Response(200, text="ok")
    assert client.get("/_ringlet/health").text == "ok"


def test_delete_with_body(client: ApiClient, fake: FakeServer) -> None:
    path = "/restapi/v1.0/account/~/extension/~/message-store/1,2"
    fake.routes[("DELETE", path)] = httpx.Response(204)
    payload: list[Any] = ["1", "2"]
    assert client.delete(path, json=payload).status_code == 204
    assert json.loads(fake.requests[-1].content) == payload
