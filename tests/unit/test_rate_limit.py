"""The rate limiter on a clock the test controls (api/rate_limit.py; facts 6): the window, the
penalty that every refused request restarts, counting without enforcing, the limits setting,
and the Auth group's key read from a token request."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from urllib.parse import urlencode

import pytest
from starlette.requests import Request

from ringlet.api.body import read_body
from ringlet.api.rate_limit import (
    DEFAULT_LIMITS,
    GroupLimiter,
    InvalidRateLimits,
    RateLimiter,
    auth_key,
    parse_limits,
)
from ringlet.domain.errors import RateLimited

T0 = 1_800_000_000_000
ALICE = (1, 7)  # (extension id, app id)
BOB = (2, 7)


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1000)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def limiter(clock: FakeClock, limit: int = 3, *, enforce: bool = True) -> GroupLimiter:
    return GroupLimiter("Light", limit, clock, enforce=enforce)


def refused(group: GroupLimiter, key: object = ALICE) -> int:
    with pytest.raises(RateLimited) as caught:
        group.take(key)
    assert caught.value.error_code == "CMN-301"
    assert caught.value.message == "Request rate exceeded"
    return caught.value.retry_after


# -- enforcing --------------------------------------------------------------------------------


def test_counts_down_then_refuses(clock: FakeClock) -> None:
    light = limiter(clock)
    assert [light.take(ALICE) for _ in range(3)] == [2, 1, 0]
    assert refused(light) == 60


def test_a_penalty_shorter_than_the_window_ends_with_the_whole_limit(clock: FakeClock) -> None:
    limits = RateLimiter.from_settings(True, "Light=3", clock, penalty_s=3)
    light = limits.group("Light")
    assert light is not None
    assert [light.take(ALICE) for _ in range(3)] == [2, 1, 0]
    assert refused(light) == 3  # Retry-After follows the setting
    clock.advance(2.999)
    refused(light)
    clock.advance(3)
    assert [light.take(ALICE) for _ in range(3)] == [2, 1, 0]  # afresh, 6 s into the window
    assert refused(light) == 3


def test_every_refusal_restarts_the_penalty(clock: FakeClock) -> None:
    light = limiter(clock)
    for _ in range(3):
        light.take(ALICE)
    refused(light)
    clock.advance(59)
    refused(light)  # still within the penalty, which starts again now
    clock.advance(59)
    refused(light)
    clock.advance(59.999)
    refused(light)
    clock.advance(60)
    assert light.take(ALICE) == 2  # the penalty is over and the window is empty


def test_the_penalty_ends_sixty_seconds_after_the_last_refusal(clock: FakeClock) -> None:
    light = limiter(clock)
    for _ in range(3):
        light.take(ALICE)
    refused(light)
    clock.advance(60)
    assert light.take(ALICE) == 2


def test_the_window_slides(clock: FakeClock) -> None:
    light = limiter(clock)
    light.take(ALICE)  # t = 0
    clock.advance(10)
    light.take(ALICE)  # t = 10
    clock.advance(10)
    assert light.take(ALICE) == 0  # t = 20
    clock.advance(40)
    assert light.take(ALICE) == 0  # t = 60: the request of t = 0 has left the window
    clock.advance(10)
    assert light.take(ALICE) == 0  # t = 70: so has the one of t = 10
    refused(light)  # t = 70: 20, 60 and 70 are within the window


def test_users_and_groups_count_apart(clock: FakeClock) -> None:
    limits = RateLimiter({"Light": 2, "Medium": 1}, clock, enforce=True)
    light, medium = limits.groups["Light"], limits.groups["Medium"]
    light.take(ALICE)
    light.take(ALICE)
    refused(light)
    assert light.take(BOB) == 1  # another user
    assert light.take((1, 8)) == 1  # the same extension through another app
    assert medium.take(ALICE) == 0  # another group


def test_no_throttling_has_no_limiter(clock: FakeClock) -> None:
    limits = RateLimiter(DEFAULT_LIMITS, clock, enforce=True)
    assert limits.group("NoThrottling") is None
    assert limits.group("Heavy") is limits.groups["Heavy"]
    with pytest.raises(KeyError):
        limits.group("Extreme")


# -- not enforcing ----------------------------------------------------------------------------


def test_off_counts_but_never_refuses(clock: FakeClock) -> None:
    light = limiter(clock, enforce=False)
    assert [light.take(ALICE) for _ in range(10)] == [2, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    clock.advance(59)
    assert light.take(ALICE) == 0  # what RingCentral would have answered with a 429
    clock.advance(60)
    assert light.take(ALICE) == 2  # no penalty: a minute later the window is empty again


def test_off_remaining_follows_the_window(clock: FakeClock) -> None:
    light = limiter(clock, enforce=False)
    for _ in range(5):
        light.take(ALICE)  # t = 0
    clock.advance(30)
    assert light.take(ALICE) == 0  # t = 30
    clock.advance(30)
    assert light.take(ALICE) == 1  # t = 60: only t = 30 and t = 60 are in the window


# -- headers and housekeeping -----------------------------------------------------------------


def test_headers(clock: FakeClock) -> None:
    heavy = GroupLimiter("Heavy", 10, clock, enforce=True)
    assert dict(heavy.headers(7)) == {
        b"x-rate-limit-group": b"heavy",
        b"x-rate-limit-limit": b"10",
        b"x-rate-limit-remaining": b"7",
        b"x-rate-limit-window": b"60",
    }


def test_idle_buckets_are_dropped_but_penalties_are_kept(clock: FakeClock) -> None:
    light = limiter(clock, limit=1)
    light.take(ALICE)
    refused(light)
    light.take(BOB)
    for n in range(100):
        light.take(("someone", n))
    assert len(light) == 102
    clock.advance(59)
    refused(light)  # Alice's penalty now lasts until t = 119
    clock.advance(1)
    assert light.take(BOB) == 0  # t = 60: the sweep ran first and dropped all but Alice
    assert len(light) == 2
    refused(light)


# -- the limits setting -----------------------------------------------------------------------


def test_parse_limits_defaults() -> None:
    assert parse_limits(None) == {"Light": 50, "Medium": 40, "Heavy": 10, "Auth": 5}
    assert parse_limits("  ") == dict(DEFAULT_LIMITS)


def test_parse_limits_overrides_some_groups() -> None:
    assert parse_limits("Light=3,Medium=2,Heavy=1,Auth=5") == {
        "Light": 3,
        "Medium": 2,
        "Heavy": 1,
        "Auth": 5,
    }
    assert parse_limits(" heavy = 100 , ") == {**DEFAULT_LIMITS, "Heavy": 100}


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Light=50,Extreme=1", "'Extreme'"),
        ("Light=fifty", "Light"),
        ("Light=0", "at least 1"),
        ("Light=-1", "Light"),
        ("Light=1.5", "Light"),
        ("Light", "GROUP=REQUESTS"),
        ("Light=5,light=6", "twice"),
    ],
)
def test_parse_limits_refuses_what_it_cannot_read(text: str, names: str) -> None:
    with pytest.raises(InvalidRateLimits) as caught:
        parse_limits(text)
    assert names in str(caught.value)
    assert text in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_from_settings(clock: FakeClock) -> None:
    limits = RateLimiter.from_settings(True, "Auth=2", clock)
    assert limits.enforce
    assert limits.groups["Auth"].limit == 2
    assert limits.groups["Light"].limit == 50
    with pytest.raises(InvalidRateLimits):
        RateLimiter.from_settings(False, "Auth=", clock)


# -- the Auth group's key ---------------------------------------------------------------------

FORM = "application/x-www-form-urlencoded"


def _request(
    form: Mapping[str, str] | None = None,
    *,
    basic: tuple[str, str] | None = None,
    content_type: str = FORM,
    body: bytes | None = None,
) -> Request:
    raw = body if body is not None else urlencode(dict(form or {})).encode()
    headers = [(b"content-type", content_type.encode()), (b"content-length", b"%d" % len(raw))]
    if basic is not None:
        token = base64.b64encode(f"{basic[0]}:{basic[1]}".encode())
        headers.append((b"authorization", b"Basic " + token))
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/restapi/oauth/token",
        "headers": headers,
        "query_string": b"",
    }
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return Request(scope, receive)


def _key(request: Request, limit: int = 1 << 20) -> tuple[str, str]:
    return asyncio.run(auth_key(request, limit))


def test_auth_key_python_and_js_forms_name_the_same_user() -> None:
    python = _request(
        {"grant_type": "password", "username": "16509100000", "extension": "102", "password": "x"},
        basic=("app", "secret"),
    )
    js = _request(
        {"grant_type": "password", "username": "+16509100000*102", "password": "y"},
        basic=("app", ""),
    )
    form_client = _request(
        {"username": "+1 (650) 910-0000", "extension": "102", "client_id": "app"}
    )
    assert _key(python) == _key(js) == _key(form_client) == ("app", "+16509100000*102")


def test_auth_key_distinguishes_users_and_apps() -> None:
    keys = {
        _key(_request({"username": "+16509100000", "extension": ext}, basic=(app, "s")))
        for app in ("app", "other-app")
        for ext in ("101", "102", "")
    }
    assert len(keys) == 6


def test_auth_key_of_an_email_ignores_case() -> None:
    upper = _request({"username": "Bob@Acme.example"}, basic=("app", "s"))
    lower = _request({"username": "bob@acme.example"}, basic=("app", "s"))
    assert _key(upper) == _key(lower) == ("app", "bob@acme.example*")


def test_auth_key_of_a_jwt_grant_hides_the_credential() -> None:
    jwt = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "jwt-bob"}
    client, user = _key(_request(jwt, basic=("app", "s")))
    assert client == "app"
    assert user.startswith("jwt:")
    assert "jwt-bob" not in user


@pytest.mark.parametrize(
    "form",
    [
        {"grant_type": "refresh_token", "refresh_token": "r"},  # names no user
        {"token": "t"},  # revoke
    ],
)
def test_auth_key_without_a_user_is_the_client(form: dict[str, str]) -> None:
    assert _key(_request(form, basic=("app", "s"))) == ("app", "")


def test_auth_key_leaves_the_body_to_the_handler() -> None:
    form = {"grant_type": "password", "username": "+16509100000", "password": "p"}
    request = _request(form, basic=("app", "s"))

    async def key_then_handler() -> tuple[tuple[str, str], bytes]:
        return await auth_key(request, 1 << 20), await read_body(request, 1 << 20)

    key, body = asyncio.run(key_then_handler())
    assert key == ("app", "+16509100000*")
    assert body == urlencode(form).encode()


@pytest.mark.parametrize(
    ("content_type", "limit"),
    [("application/json", 1 << 20), (FORM, 10)],  # not a form; over the size limit
)
def test_auth_key_reads_only_small_forms(content_type: str, limit: int) -> None:
    request = _request({"username": "+16509100000"}, basic=("app", "s"), content_type=content_type)
    assert _key(request, limit) == ("app", "")


def test_auth_key_of_malformed_client_authentication_is_empty() -> None:
    request = _request({"username": "+16509100000"})
    request.scope["headers"].append((b"authorization", b"Basic !!!"))
    assert _key(request) == ("", "+16509100000*")
