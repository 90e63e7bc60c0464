"""ringlet's own endpoints under /_ringlet/: health, and runtime provisioning.

POST /_ringlet/fixtures exists only when the server was given an admin token (Settings.
admin_token): otherwise it answers 404 like any unknown path, so that an ordinary server has
no provisioning surface at all. With a token, a request must present the same value in
X-Ringlet-Admin-Token (403 if it does not).
"""

from __future__ import annotations

import hmac

from starlette.responses import Response

from ringlet.api.body import check_nesting, read_body
from ringlet.api.context import Ctx
from ringlet.api.responses import json_response
from ringlet.domain.errors import Forbidden, InvalidUri, UnsupportedMediaType
from ringlet.services.provisioning import TextFormat

ADMIN_TOKEN_HEADER = "X-Ringlet-Admin-Token"
# Larger than an API request may be (Settings.max_body_bytes): a fixture can describe many
# accounts, and only the holder of the admin token can send one.
FIXTURE_MAX_BYTES = 16 << 20

_JSON_TYPES = frozenset({"application/json"})
# YAML, and two types a hand-typed request often carries by accident: curl's default for -d
# (form-urlencoded) and text/plain. Nobody posts a real form here, and YAML parses JSON too.
_YAML_TYPES = frozenset(
    {
        "application/yaml",
        "application/x-yaml",
        "text/yaml",
        "text/x-yaml",
        "application/x-www-form-urlencoded",
        "text/plain",
    }
)


async def health(ctx: Ctx) -> Response:
    await ctx.services.provisioning.ready()
    return json_response({"status": "ok"})


async def load_fixture(ctx: Ctx) -> Response:
    expected = ctx.services.settings.admin_token
    if not expected:
        raise InvalidUri()
    presented = ctx.request.headers.get(ADMIN_TOKEN_HEADER, "")
    # Constant time: the token is the only thing guarding this endpoint.
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise Forbidden(
            f"Header [{ADMIN_TOKEN_HEADER}] is missing or wrong", parameter_name=ADMIN_TOKEN_HEADER
        )
    text_format = _format_of(ctx.request.headers.get("content-type"))
    raw = await read_body(ctx.request, FIXTURE_MAX_BYTES)
    if text_format == "json":
        check_nesting(raw)  # the bound of every JSON body (api/body.py)
    report = await ctx.services.provisioning.load_text_async(raw, text_format)
    return json_response(
        {
            "accounts": [
                {"id": account_id, "mainNumber": main_number}
                for account_id, main_number in report.accounts
            ],
            "summary": report.summary(),
        }
    )


def _format_of(content_type: str | None) -> TextFormat:
    """JSON for JSON media types and for a body without one (as RingCentral does), YAML for
    the types above; anything else is refused (415)."""
    media = (content_type or "application/json").split(";", 1)[0].strip().lower()
    if media in _JSON_TYPES or media.endswith("+json"):
        return "json"
    if media in _YAML_TYPES:
        return "yaml"
    raise UnsupportedMediaType(content_type or "", "application/json or application/yaml")
