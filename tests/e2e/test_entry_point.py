"""The entry point's direct path (api/entry.py) answers as the full middleware stack does.

Each request is sent twice on a real server: as a client sends it, which the direct path serves,
and with one harmless header sent twice, which only the stack judges (the direct path hands any
repeated header to it). The two answers must agree: status, every header in the same order with
the same value (but the per-request ones), and the body, or for a send its shape. The answers
themselves are checked against RingCentral's API description by the client (`api`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.messaging import EXT
from tests.support.client import ApiClient
from tests.support.fixtures import ProvisionedAccount

pytestmark = pytest.mark.usefixtures("server")

# Differ from one answer to the next whatever path served them.
_PER_REQUEST = {b"date", b"rcrequestid", b"x-rate-limit-remaining", b"content-length"}
_HARMLESS = ("X-Client-Trace", "1")

Case = tuple[str, str, dict[str, Any] | None, bool]  # method, path, JSON body, logged in

CASES: list[Case] = [
    ("GET", EXT, None, True),
    ("GET", f"{EXT}/message-store?perPage=5", None, True),
    ("GET", f"{EXT}/message-store/999999999", None, True),  # 404 of the handler
    ("POST", f"{EXT}/sms", {"text": "no recipients"}, True),  # 400
    ("POST", f"{EXT}/company-pager", {"text": "hi", "to": [{"extensionNumber": "102"}]}, True),
    ("GET", EXT, None, False),  # 401
    ("GET", "/_ringlet/health", None, False),  # never waits for admission
    ("POST", "/restapi/oauth/token", None, False),  # a public operation, refused
]


def _exchange(
    client: ApiClient, method: str, path: str, body: dict[str, Any] | None, *, twice: bool
) -> httpx.Response:
    headers = [_HARMLESS, _HARMLESS] if twice else [_HARMLESS]
    return client.request(method, path, json=body, headers=headers)


def _steady(body: bytes) -> bytes:
    # A list's default `dateFrom` (in its uris) is 24 hours before the request.
    return re.sub(rb"dateFrom=[^&\"]*", b"", body)


def _steady_headers(response: httpx.Response) -> list[tuple[bytes, bytes]]:
    """Every header in order; of the per-request ones only the name."""
    named = ((k.lower(), v) for k, v in response.headers.raw)
    return [(k, b"" if k in _PER_REQUEST else v) for k, v in named]


@pytest.mark.parametrize(("method", "path", "body", "with_token"), CASES)
def test_the_direct_path_answers_as_the_stack(
    account: ProvisionedAccount,
    api: ApiClient,
    client_for: Callable[..., ApiClient],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    with_token: bool,
) -> None:
    client = client_for(account, "101") if with_token else api
    direct = _exchange(client, method, path, body, twice=False)
    stacked = _exchange(client, method, path, body, twice=True)
    assert direct.status_code == stacked.status_code, (direct.text, stacked.text)
    assert _steady_headers(direct) == _steady_headers(stacked)
    for answer in (direct, stacked):
        assert answer.headers["vary"] == "Origin"
        assert answer.headers["rcrequestid"]
    assert direct.headers["rcrequestid"] != stacked.headers["rcrequestid"]
    if method == "GET":
        assert _steady(direct.content) == _steady(stacked.content)
    else:
        assert sorted(direct.json()) == sorted(stacked.json())
