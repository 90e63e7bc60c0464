"""Rate limits end to end (facts 6): RingCentral's throttling groups, the X-Rate-Limit-* headers
on every answer of a throttled operation, 429 CMN-301 with Retry-After, the penalty, and the
default of counting without refusing.

- Off (the default), on the shared `server`: headers with RingCentral's limits, never a 429.
- On (`--rate-limit --rate-limits Light=3,Medium=2,Heavy=1,Auth=3`), on a server of this module
  (`limited`, once per backend); every test provisions an account of its own, so its users and
  app start with full buckets.
- The penalty lasts a minute: the tests that wait it out run the app in this process on SQLite
  with a clock they advance (`clocked`), as test_oauth.py does for token lifetimes.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ringlet.config import Settings
from tests.support.client import ApiClient
from tests.support.fixtures import MIN_SEED, ProvisionedAccount, build_account
from tests.support.inprocess import START_MS, clocked_server, provision
from tests.support.openapi import SpecValidator
from tests.support.server import (
    RingletServer,
    fresh_database,
)

LIMITS = "Light=3,Medium=2,Heavy=1,Auth=3"
ACCOUNT = "/restapi/v1.0/account/~"
ME = f"{ACCOUNT}/extension/~"  # readExtension: Light
MESSAGES = f"{ME}/message-store"  # listMessages: Light
EXTENSIONS = f"{ACCOUNT}/extension"  # listExtensions: Medium
NUMBERS = f"{ACCOUNT}/phone-number"  # listAccountPhoneNumbers: Heavy
TOKEN = "/restapi/oauth/token"
REVOKE = "/restapi/oauth/revoke"
HEADERS = (
    "x-rate-limit-group",
    "x-rate-limit-limit",
    "x-rate-limit-remaining",
    "x-rate-limit-window",
)


# -- helpers ---------------------------------------------------------------------------------


def rate(response: httpx.Response) -> tuple[str, int, int, int]:
    """(group, limit, remaining, window) from the headers."""
    h = response.headers
    for name in HEADERS:
        where = f"{response.request.url.path} -> {response.status_code}"
        assert name in h, f"{name} missing on {where}"
    return (
        h["x-rate-limit-group"],
        int(h["x-rate-limit-limit"]),
        int(h["x-rate-limit-remaining"]),
        int(h["x-rate-limit-window"]),
    )


def remaining(response: httpx.Response) -> int:
    return rate(response)[2]


def assert_throttled(response: httpx.Response, group: str) -> dict[str, Any]:
    """A 429 of RingCentral's: CMN-301, Retry-After, the headers with nothing left."""
    assert response.status_code == 429, response.text
    assert response.headers["retry-after"] == "60"
    shown, _, left, window = rate(response)
    assert (shown, left, window) == (group, 0, 60)
    body: dict[str, Any] = response.json()
    assert body["errors"] == [{"errorCode": "CMN-301", "message": "Request rate exceeded"}]
    return body


def assert_api_throttled(response: httpx.Response, group: str) -> None:
    body = assert_throttled(response, group)
    assert body["errorCode"] == "CMN-301"
    assert body["message"] == "Request rate exceeded"


def assert_oauth_throttled(response: httpx.Response) -> None:
    body = assert_throttled(response, "auth")
    assert body["error_description"] == "Request rate exceeded"
    assert "errorCode" not in body  # OAuth's shape under /restapi/oauth/


def password_form(
    account: ProvisionedAccount, extension: str, *, js: bool = False
) -> dict[str, str]:
    form = {"grant_type": "password", "password": account.password(extension)}
    if js:  # the JS SDK glues the extension to the number
        return {**form, "username": f"{account.main_number}*{extension}"}
    return {**form, "username": account.main_number, "extension": extension}


def token_request(
    api: ApiClient,
    account: ProvisionedAccount,
    form: dict[str, str],
    app: tuple[str, str] | None = None,
) -> httpx.Response:
    client_id, secret = app or (account.client_id, account.client_secret)
    return api.token_request(form, client_id=client_id, client_secret=secret)


def second_app(doc: dict[str, Any]) -> None:
    """A fixture edit: a second app, to log the same extension in through two apps."""
    first = doc["apps"][0]
    doc["apps"].append(
        {"clientId": first["clientId"] + "-second", "clientSecret": "second-secret", "name": "Two"}
    )


# -- off by default ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [(ME, ("light", 50)), (EXTENSIONS, ("medium", 40)), (NUMBERS, ("heavy", 10))],
)
def test_off_by_default_headers_show_ringcentral_limits(
    account, client_for, path, expected
) -> None:
    bob = client_for(account, "102")
    first = bob.get(path)
    assert first.status_code == 200, first.text
    group, limit, left, window = rate(first)
    assert (group, limit) == expected
    assert (left, window) == (limit - 1, 60)
    assert remaining(bob.get(path)) == limit - 2


def test_off_by_default_counts_but_never_refuses(account, client_for) -> None:
    bob = client_for(account, "102")
    seen = []
    for _ in range(12):  # Heavy allows 10 a minute
        response = bob.get(NUMBERS)
        assert response.status_code == 200, response.text
        assert "retry-after" not in response.headers
        seen.append(remaining(response))
    # What RingCentral would have left: 0 from the 10th request on, where it would refuse.
    assert seen == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0]


def test_off_by_default_errors_carry_the_headers(account, client_for, api) -> None:
    bob = client_for(account, "102")
    unknown = bob.get(f"{MESSAGES}/1")
    assert unknown.status_code == 404
    assert rate(unknown) == ("light", 50, 49, 60)
    other = bob.get(f"{ACCOUNT}/extension/{account.ext('103').id}/message-store")
    assert other.status_code == 403
    assert remaining(other) == 48
    anonymous = api.get(ME)
    assert anonymous.status_code == 401
    assert rate(anonymous) == ("light", 50, 50, 60)  # no caller, nothing counted


def test_off_by_default_token_and_revoke_are_in_the_auth_group(account, api) -> None:
    issued = token_request(api, account, password_form(account, "102"))
    assert issued.status_code == 200, issued.text
    assert rate(issued) == ("auth", 5, 4, 60)
    wrong = token_request(api, account, {**password_form(account, "102"), "password": "nope"})
    assert wrong.status_code == 400
    assert rate(wrong) == ("auth", 5, 3, 60)
    revoked = api.post(
        REVOKE,
        data={"token": issued.json()["access_token"]},
        auth=(account.client_id, account.client_secret),
    )
    assert revoked.status_code == 200
    assert rate(revoked) == ("auth", 5, 4, 60)  # names no user: counted for the app alone


@pytest.mark.parametrize("path", ["/restapi", "/restapi/v1.0", "/_ringlet/health"])
def test_no_throttling_operations_carry_no_headers(api, path: str) -> None:
    for _ in range(3):
        response = api.get(path)
        assert response.status_code == 200
        assert not [name for name in response.headers if name.startswith("x-rate-limit")]


# -- on: a server of this module ---------------------------------------------------------------

_seeds: dict[str, Iterator[int]] = {}


@pytest.fixture(scope="module")
def limited(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RingletServer]:
    directory = tmp_path_factory.mktemp(f"limited-{backend}")
    with fresh_database(backend, directory / "db") as url:
        srv = RingletServer(
            url, directory / "server.log", extra_args=["--rate-limit", "--rate-limits", LIMITS]
        )
        srv.start()
        try:
            yield srv
        finally:
            srv.stop()


class _Api(ApiClient):
    """An ApiClient that closes the clients it logs in or makes when it is closed itself."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._made: list[ApiClient] = []

    def with_token(self, access_token: str) -> ApiClient:
        client = super().with_token(access_token)
        self._made.append(client)
        return client

    def close(self) -> None:
        for client in self._made:
            client.close()
        super().close()


@pytest.fixture
def limited_api(limited: RingletServer, spec_validator: SpecValidator) -> Iterator[ApiClient]:
    with _Api(limited.base_url, validator=spec_validator) as client:
        yield client


@pytest.fixture
def fresh(limited: RingletServer) -> Callable[..., ProvisionedAccount]:
    """Provision a new account on `limited`: its users and its app have full buckets."""

    def make(**kwargs: Any) -> ProvisionedAccount:
        seeds = _seeds.setdefault(limited.database_url, itertools.count(MIN_SEED))
        acct = build_account(next(seeds), **kwargs)
        limited.provision(acct.document)
        return acct

    return make


def test_limit_counts_down_then_429(fresh, limited_api) -> None:
    bob = limited_api.login(fresh(), "102")
    assert [remaining(bob.get(ME)) for _ in range(3)] == [2, 1, 0]
    assert_api_throttled(bob.get(ME), "light")
    # Every operation of the group shares the count.
    assert_api_throttled(bob.get(MESSAGES), "light")


def test_penalty_restarts_with_every_refusal(fresh, limited_api) -> None:
    bob = limited_api.login(fresh(), "102")
    for _ in range(3):
        bob.get(ME)
    assert_api_throttled(bob.get(ME), "light")
    time.sleep(1.1)
    # Not 59: the refusal a second ago started the penalty again (assert_throttled checks 60).
    assert_api_throttled(bob.get(ME), "light")


def test_groups_users_and_apps_count_apart(fresh, limited_api) -> None:
    account = fresh(edit=second_app)
    bob = limited_api.login(account, "102")
    for _ in range(3):
        bob.get(ME)
    assert_api_throttled(bob.get(ME), "light")
    # Other groups of the same user.
    listed = bob.get(EXTENSIONS)
    assert listed.status_code == 200
    assert rate(listed) == ("medium", 2, 1, 60)
    assert rate(bob.get(NUMBERS)) == ("heavy", 1, 0, 60)
    assert_api_throttled(bob.get(NUMBERS), "heavy")
    # Another user of the same app.
    carol = limited_api.login(account, "103")
    assert remaining(carol.get(ME)) == 2
    # The same user through another app.
    app = account.document["apps"][1]
    response = token_request(
        limited_api, account, password_form(account, "102"), (app["clientId"], app["clientSecret"])
    )
    assert response.status_code == 200, response.text
    bob_elsewhere = limited_api.with_token(response.json()["access_token"])
    assert remaining(bob_elsewhere.get(ME)) == 2


def test_errors_count_and_carry_the_headers(fresh, limited_api) -> None:
    account = fresh()
    bob = limited_api.login(account, "102")
    unknown = bob.get(f"{MESSAGES}/1")
    assert unknown.status_code == 404
    assert rate(unknown) == ("light", 3, 2, 60)
    other = bob.get(f"{ACCOUNT}/extension/{account.ext('103').id}/message-store")
    assert other.status_code == 403
    assert remaining(other) == 1
    bad = bob.get(MESSAGES, params={"perPage": "many"})
    assert bad.status_code == 400
    assert remaining(bad) == 0
    assert_api_throttled(bob.get(ME), "light")


def test_unauthenticated_requests_are_not_counted(fresh, limited_api) -> None:
    account = fresh()
    for _ in range(5):
        refused = limited_api.get(ME, headers={"Authorization": "Bearer nonsense"})
        assert refused.status_code == 401
        assert rate(refused) == ("light", 3, 3, 60)
    bob = limited_api.login(account, "102")
    assert remaining(bob.get(ME)) == 2


def test_token_endpoint_is_limited_per_user_and_app(fresh, limited_api) -> None:
    account = fresh()
    api = limited_api
    first = token_request(api, account, password_form(account, "102"))
    assert rate(first) == ("auth", 3, 2, 60)
    # The JS SDK's spelling names the same user; a wrong password counts too.
    assert remaining(token_request(api, account, password_form(account, "102", js=True))) == 1
    wrong = token_request(api, account, {**password_form(account, "102"), "password": "guess"})
    assert wrong.status_code == 400
    assert remaining(wrong) == 0
    assert_oauth_throttled(token_request(api, account, password_form(account, "102")))
    # Another user of the same app still logs in, and Bob's access token still works.
    assert token_request(api, account, password_form(account, "103")).status_code == 200
    assert api.with_token(first.json()["access_token"]).get(ME).status_code == 200


def test_refresh_counts_per_app(fresh, limited_api) -> None:
    account = fresh()
    token = token_request(limited_api, account, password_form(account, "102")).json()
    for left in (2, 1, 0):
        form = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
        response = token_request(limited_api, account, form)
        assert response.status_code == 200, response.text
        assert remaining(response) == left
        token = response.json()
    form = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    assert_oauth_throttled(token_request(limited_api, account, form))


# -- settings through the command line and the environment ------------------------------------


def test_limits_without_enforcing(server_factory, spec_validator) -> None:
    srv = server_factory(extra_args=["--rate-limits", "Heavy=1"])
    account = build_account(MIN_SEED)
    srv.provision(account.document)
    with _Api(srv.base_url, validator=spec_validator) as api:
        bob = api.login(account, "102")
        for _ in range(3):
            response = bob.get(NUMBERS)
            assert response.status_code == 200
            assert rate(response) == ("heavy", 1, 0, 60)
        assert rate(bob.get(ME)) == ("light", 50, 49, 60)


def test_enforcing_from_the_environment(server_factory, spec_validator) -> None:
    srv = server_factory(env={"RINGLET_RATE_LIMIT": "1", "RINGLET_RATE_LIMITS": "Heavy=1"})
    account = build_account(MIN_SEED)
    srv.provision(account.document)
    with _Api(srv.base_url, validator=spec_validator) as api:
        bob = api.login(account, "102")
        assert rate(bob.get(NUMBERS)) == ("heavy", 1, 0, 60)
        assert_api_throttled(bob.get(NUMBERS), "heavy")


def test_bad_limits_stop_the_server_at_start_up(server_factory) -> None:
    srv = server_factory(extra_args=["--rate-limits", "Light=50,Extreme=1"], start=False)
    with pytest.raises(RuntimeError, match="exited with code"):
        srv.start()
    assert "unknown throttling group 'Extreme'" in srv.log_text()


# -- the penalty in time: in process, with a clock the test controls ----------------------------


@dataclass
class Clocked:
    api: ApiClient
    account: ProvisionedAccount
    now_ms: list[int]

    def advance(self, seconds: float) -> None:
        self.now_ms[0] += int(seconds * 1000)


@pytest.fixture
def clocked(tmp_path: Path, spec_validator: SpecValidator) -> Iterator[Clocked]:
    now_ms = [START_MS]
    admin_token = "test-admin-token"
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'ringlet.db'}",
        admin_token=admin_token,
        rate_limit=True,
        rate_limits=LIMITS,
    )
    with clocked_server(settings, now_ms) as base_url:
        account = build_account(MIN_SEED)
        provision(base_url, account.document, admin_token)
        with _Api(base_url, validator=spec_validator) as api:
            yield Clocked(api, account, now_ms)


def test_penalty_ends_a_minute_after_the_last_refusal(clocked) -> None:
    bob = clocked.api.login(clocked.account, "102")
    for _ in range(3):
        bob.get(ME)
    assert_api_throttled(bob.get(ME), "light")
    clocked.advance(59)
    assert_api_throttled(bob.get(ME), "light")  # and the penalty starts again
    clocked.advance(59)
    assert_api_throttled(bob.get(ME), "light")
    clocked.advance(60)
    response = bob.get(ME)
    assert response.status_code == 200
    assert rate(response) == ("light", 3, 2, 60)  # a new window


def test_window_slides_without_a_penalty(clocked) -> None:
    bob = clocked.api.login(clocked.account, "102")
    bob.get(ME)  # t = 0
    clocked.advance(30)
    bob.get(ME)  # t = 30
    assert remaining(bob.get(ME)) == 0  # t = 30
    clocked.advance(30)
    assert remaining(bob.get(ME)) == 0  # t = 60: the first request has left the window
    assert_api_throttled(bob.get(ME), "light")


def test_token_endpoint_penalty_ends(clocked) -> None:
    api, account = clocked.api, clocked.account
    for _ in range(3):
        assert token_request(api, account, password_form(account, "102")).status_code == 200
    assert_oauth_throttled(token_request(api, account, password_form(account, "102")))
    clocked.advance(60)
    assert token_request(api, account, password_form(account, "102")).status_code == 200
