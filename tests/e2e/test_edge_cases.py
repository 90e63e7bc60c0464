"""Edges found by probing (issue 9): an admin locking themself out, the earliest date a list
can name, and what a 405 tells the client."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.messaging import EXT, error_code

pytestmark = pytest.mark.usefixtures("server")

ACCOUNT = "/restapi/v1.0/account"


@pytest.mark.parametrize("status", ["Disabled", "Frozen", "NotActivated"])
def test_an_admin_cannot_change_their_own_status(account, client_for, status) -> None:
    olivia = client_for(account, "101")  # the account's only admin
    response = olivia.put(f"{ACCOUNT}/~/extension/~", json={"status": status})
    assert response.status_code == 400, response.text
    assert error_code(response) == "CMN-101"
    assert response.json()["parameterName"] == "status"
    assert "own status" in response.json()["message"]
    # Still Enabled, still logged in, still an admin who can manage the others.
    assert olivia.get(f"{ACCOUNT}/~/extension/~").json()["status"] == "Enabled"
    bob_id = account.ext("102").id
    frozen = olivia.put(f"{ACCOUNT}/~/extension/{bob_id}", json={"status": "Frozen"})
    assert frozen.status_code == 200, frozen.text
    assert frozen.json()["status"] == "Frozen"


def test_an_admin_may_restate_their_own_status(account, client_for) -> None:
    olivia = client_for(account, "101")
    response = olivia.put(f"{ACCOUNT}/~/extension/~", json={"status": "Enabled"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "query",
    [
        {"dateFrom": "0001-01-01"},
        {"dateTo": "0001-01-01T00:00:00Z"},
        {"dateFrom": "0001-01-01", "dateTo": "0001-01-02", "perPage": "1"},
    ],
    ids=["dateFrom", "dateTo-default-dateFrom", "both"],
)
def test_the_earliest_dates_echo_uris_the_server_accepts(account, client_for, query) -> None:
    bob = client_for(account, "102")
    response = bob.get(f"{EXT}/message-store", params=query)
    assert response.status_code == 200, response.text
    body = response.json()
    echoed = parse_qs(urlsplit(body["uri"]).query)
    assert echoed["dateFrom"][0].startswith("0001-01-0"), body["uri"]
    links = [body["uri"], *(link["uri"] for link in body["navigation"].values())]
    for link in links:
        again = bob.get(link.replace(bob.base_url, ""))
        assert again.status_code == 200, (link, again.text)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", f"{EXT}/sms", "OPTIONS, POST"),
        ("POST", f"{EXT}/message-store", "DELETE, GET, HEAD, OPTIONS"),
        ("POST", f"{EXT}/message-store/1", "DELETE, GET, HEAD, OPTIONS, PATCH, PUT"),
        ("DELETE", f"{ACCOUNT}/~/extension/~", "GET, HEAD, OPTIONS, PUT"),
    ],
    ids=["sms", "message-list", "message", "extension"],
)
def test_a_405_names_the_allowed_methods(account, client_for, method, path, allowed) -> None:
    bob = client_for(account, "102")
    response = bob.request(method, path)
    assert response.status_code == 405, response.text
    assert error_code(response) == "CMN-120"
    assert response.headers["Allow"] == allowed
