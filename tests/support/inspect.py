"""A client of ringlet's inspection endpoints (/_ringlet/handsets, carrier rules, reset), with
the server's admin token, checking every error body against RingCentral's error envelope."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from tests.support.openapi import SpecValidator
from tests.support.server import ADMIN_HEADER, RingletServer

HANDSETS = "/_ringlet/handsets"
RULES = "/_ringlet/carrier/rules"
RESET = "/_ringlet/reset"
FINAL = ("Delivered", "DeliveryFailed", "SendingFailed")


def handset_path(number: str) -> str:
    return f"{HANDSETS}/{quote(number, safe='')}/messages"


class InspectClient:
    def __init__(
        self, server: RingletServer, validator: SpecValidator, *, token: str | None = None
    ) -> None:
        headers = {}
        if server.with_admin_token:
            headers[ADMIN_HEADER] = token if token is not None else server.admin_token
        self.validator = validator
        self.http = httpx.Client(
            base_url=server.base_url,
            headers=headers,
            timeout=60.0,
            event_hooks={"response": [self._check_error]},
        )

    def _check_error(self, response: httpx.Response) -> None:
        if response.status_code >= 400:
            response.read()
            self.validator.validate_error(
                response.request.url.path,
                response.content,
                response.headers.get("content-type", ""),
            )

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.http.post(url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.http.delete(url, **kwargs)

    # -- helpers --------------------------------------------------------------------------

    def handset_records(self, number: str, **params: Any) -> list[dict[str, Any]]:
        response = self.get(handset_path(number), params=params)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["records"]
        return found

    def wait_for_handset(self, number: str, since: int = 0) -> list[dict[str, Any]]:
        """The handset's records after `since`, waiting (up to 30 s) for one to come."""
        found = self.handset_records(number, since=since, wait=30)
        assert found, f"{number} received nothing within 30 s"
        return found

    def text_from(self, handset: str, to: str, text: str) -> httpx.Response:
        return self.post(handset_path(handset), json={"to": to, "text": text})

    def add_rule(self, **body: Any) -> httpx.Response:
        return self.post(RULES, json=body)

    def rules(self) -> list[dict[str, Any]]:
        response = self.get(RULES)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["records"]
        return found

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> InspectClient:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()


def wait_for_final_status(read: Any, url: str, timeout_s: float = 30.0) -> dict[str, Any]:
    """Read a message (GET `url` with `read`, an ApiClient's get) until its status is final."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = read(url)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["messageStatus"] in FINAL or time.monotonic() > deadline:
            return body
        time.sleep(0.05)
