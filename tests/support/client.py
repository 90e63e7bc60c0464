"""HTTP client for end-to-end tests: every answer under /restapi is checked against the spec.

The check sits in an httpx response hook, so it also covers requests made through `.http`
directly; a test cannot get a RingCentral response without it being validated.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Final, Literal

import httpx

from tests.support.fixtures import ProvisionedAccount
from tests.support.openapi import SpecValidator

TOKEN_PATH: Final = "/restapi/oauth/token"
JWT_GRANT: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"

Grant = Literal["password", "password-star", "jwt"]


class ApiClient:
    """A thin wrapper of httpx.Client(base_url) with spec validation and login helpers."""

    def __init__(
        self,
        base_url: str,
        *,
        validator: SpecValidator | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url
        self.validator = validator or SpecValidator.default()
        self.token: dict[str, Any] | None = None
        self._timeout = timeout
        self._transport = transport
        self.http = httpx.Client(
            base_url=base_url,
            headers=dict(headers or {}),
            timeout=timeout,
            transport=transport,
            event_hooks={"response": [self._validate]},
        )

    def _validate(self, response: httpx.Response) -> None:
        request = response.request
        if not request.url.path.startswith("/restapi"):
            return
        response.read()  # hooks run before the body is read
        self.validator.validate(
            request.method,
            request.url.path,
            response.status_code,
            response.headers.get("content-type", ""),
            response.content,
        )

    # -- plain requests ----------------------------------------------------------------------

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        # httpx.Client.delete takes no body; bulk deletes may send one.
        return self.request("DELETE", url, **kwargs)

    # -- OAuth -------------------------------------------------------------------------------

    def token_request(
        self, form: Mapping[str, str], *, client_id: str, client_secret: str
    ) -> httpx.Response:
        """POST /restapi/oauth/token with HTTP Basic client authentication (as the SDKs do)."""
        return self.post(TOKEN_PATH, data=dict(form), auth=(client_id, client_secret))

    @staticmethod
    def login_form(
        account: ProvisionedAccount, extension_number: str, grant: Grant
    ) -> dict[str, str]:
        """The form an SDK sends: Python's (`extension` field), JS's (`number*ext`), or JWT."""
        if grant == "jwt":
            return {"grant_type": JWT_GRANT, "assertion": account.jwt(extension_number)}
        password = account.password(extension_number)
        if grant == "password-star":
            return {
                "grant_type": "password",
                "password": password,
                "username": f"{account.main_number}*{extension_number}",
            }
        return {
            "grant_type": "password",
            "username": account.main_number,
            "extension": extension_number,
            "password": password,
        }

    def login(
        self,
        account: ProvisionedAccount,
        extension_number: str = "101",
        *,
        grant: Grant = "password",
    ) -> ApiClient:
        """A new client, logged in as `extension_number` of `account` (Bearer header set)."""
        response = self.token_request(
            self.login_form(account, extension_number, grant),
            client_id=account.client_id,
            client_secret=account.client_secret,
        )
        if response.status_code != 200:
            raise AssertionError(
                f"login as {extension_number} ({grant}) failed: "
                f"HTTP {response.status_code} {response.text[:2000]}"
            )
        token: dict[str, Any] = response.json()
        client = self.with_token(str(token["access_token"]))
        client.token = token
        return client

    def with_token(self, access_token: str) -> ApiClient:
        """A new client on the same server sending `Authorization: Bearer <access_token>`.

        It gets its own connection pool unless this client was built on an explicit transport,
        which is then shared (closing either client closes it).
        """
        headers = httpx.Headers(self.http.headers)
        headers["Authorization"] = f"Bearer {access_token}"
        return ApiClient(
            self.base_url,
            validator=self.validator,
            headers=headers,
            timeout=self._timeout,
            transport=self._transport,
        )

    @property
    def access_token(self) -> str:
        if self.token is None:
            raise LookupError("this client did not log in")
        return str(self.token["access_token"])

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
