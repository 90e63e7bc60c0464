"""readAPIVersions and readAPIVersion: what `GET /restapi` tells a client."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ringlet import __version__
from ringlet.api.context import Ctx
from ringlet.api.responses import json_response
from ringlet.domain.errors import ResourceNotFound

_VERSION = "v1.0"
_VERSION_STRING = "1.0.48"  # the API description ringlet follows
_RELEASE_DATE = "2022-09-02T00:00:00.000Z"


def _version(base: str) -> dict[str, Any]:
    return {
        "uri": f"{base}/restapi/{_VERSION}",
        "versionString": _VERSION_STRING,
        "releaseDate": _RELEASE_DATE,
        "uriString": _VERSION,
    }


async def read_api_versions(ctx: Ctx) -> Response:
    return json_response(
        {
            "uri": f"{ctx.base_url}/restapi/",
            "apiVersions": [_version(ctx.base_url)],
            "serverVersion": f"ringlet {__version__}",
            "serverRevision": __version__,
        }
    )


async def read_api_version(ctx: Ctx) -> Response:
    requested = ctx.path("apiVersion")
    if requested not in (_VERSION, "v1"):
        raise ResourceNotFound("apiVersion", requested)
    return json_response(_version(ctx.base_url))
