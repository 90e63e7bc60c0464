"""The pure rules of the token endpoint (domain/oauth.py) and its client checks: lifetimes,
usernames, clients."""

from __future__ import annotations

import pytest

from ringlet.domain.enums import AppPermission
from ringlet.domain.errors import (
    ClientAuthenticationRequired,
    InvalidResourceOwnerCredentials,
    UnknownClient,
)
from ringlet.domain.model import App
from ringlet.domain.oauth import scope_of, seconds, split_username, token_lifetimes
from ringlet.services.oauth import ClientCredentials, OAuthService


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("3600", 3600),
        (" 1200 ", 1200),
        ("1200.9", 1200),
        ("NaN", None),  # JS: parseInt(undefined)
        ("-1", None),  # JS after a 401
        ("0", None),
        ("inf", None),
        ("1e400", None),
        ("abc", None),
        ("9" * 5000, None),  # beyond int()'s digit limit and float's range
    ],
)
def test_seconds(raw: str | None, expected: int | None) -> None:
    assert seconds(raw) == expected


@pytest.mark.parametrize(
    ("access", "refresh", "expected"),
    [
        (None, None, (3600, 604800)),
        ("3600", "604800", (3600, 604800)),
        ("600", "600", (600, 600)),
        ("100", "10", (600, 600)),  # clamped up; refresh never shorter than access
        ("1800", "60", (1800, 1800)),
        ("99999", "99999999", (3600, 604800)),  # clamped down
        ("NaN", "NaN", (3600, 604800)),
        ("-1", "-1", (3600, 604800)),
        ("garbage", "", (3600, 604800)),
        ("2000", "86400", (2000, 86400)),
    ],
)
def test_token_lifetimes(
    access: str | None, refresh: str | None, expected: tuple[int, int]
) -> None:
    assert token_lifetimes(access, refresh) == expected


def test_token_lifetimes_with_a_lowered_floor() -> None:
    assert token_lifetimes("2", "3", min_access=1) == (2, 3)
    assert token_lifetimes("2", "1", min_access=1) == (2, 2)
    assert token_lifetimes(None, None, min_access=1) == (3600, 604800)


def test_min_access_token_ttl_is_checked() -> None:
    for bad in (0, -5, 3601):
        with pytest.raises(ValueError):
            OAuthService(None, lambda: 0, min_access_token_ttl=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("username", "extension", "expected"),
    [
        ("+16509100000", None, ("+16509100000", None)),
        ("+16509100000", "102", ("+16509100000", "102")),
        ("+16509100000*102", None, ("+16509100000", "102")),  # the JS SDK's form
        ("16509100000*102", "102", ("16509100000", "102")),  # both, agreeing
        (" 16509100000 ", " ", (" 16509100000".strip(), None)),
        ("olivia@acme.example", None, ("olivia@acme.example", None)),
        ("we*ird@acme.example", None, ("we*ird@acme.example", None)),  # not a `*<digits>` end
        ("+16509100000*", None, ("+16509100000*", None)),
    ],
)
def test_split_username(
    username: str, extension: str | None, expected: tuple[str, str | None]
) -> None:
    assert split_username(username, extension) == expected


def test_split_username_refuses_two_different_extensions() -> None:
    with pytest.raises(InvalidResourceOwnerCredentials):
        split_username("+16509100000*102", "103")


def test_client_basic() -> None:
    assert ClientCredentials(basic=("app", "secret")).claimed() == ("app", "secret")
    assert ClientCredentials(basic=("app", "")).claimed() == ("app", "")  # Python SDK, no secret


def test_client_form() -> None:
    assert ClientCredentials(form_client_id="app").claimed() == ("app", None)  # JS, no secret
    assert ClientCredentials(form_client_id="app", form_client_secret="s").claimed() == (
        "app",
        "s",
    )


def test_client_basic_and_form_must_agree() -> None:
    # @rc-ex/core sends both
    both = ClientCredentials(basic=("app", "s"), form_client_id="app")
    assert both.claimed() == ("app", "s")
    with pytest.raises(UnknownClient):
        ClientCredentials(basic=("app", "s"), form_client_id="other").claimed()
    with pytest.raises(UnknownClient):
        ClientCredentials(basic=("app", "s"), form_client_secret="t").claimed()


def test_client_missing() -> None:
    with pytest.raises(ClientAuthenticationRequired):
        ClientCredentials().claimed()
    with pytest.raises(ClientAuthenticationRequired):
        ClientCredentials(form_client_secret="s").claimed()


def test_scope_lists_app_permissions_in_a_stable_order() -> None:
    app = App(
        id=1,
        client_id="app",
        name="App",
        permissions=frozenset({AppPermission.READ_MESSAGES, AppPermission.SMS}),
    )
    assert scope_of(app) == "SMS ReadMessages"
