"""Schemas the test harness adds to the vendored OpenAPI file, each with its source.

- ALLOWED_EXTRA_FIELDS / SUPPLEMENTARY_OPERATIONS: what the 2025 spec (S25) added and a faithful
  server may therefore send or serve;
- ERROR_ENVELOPE / OAUTH_ERROR_ENVELOPE: error bodies, which the 2022 spec does not declare;
- MULTIPART_STATUS_PART: the first part of a multipart/mixed 207 answer.

Sources are cited as in /work/shared/reference/messaging-api-facts.md ("facts N").
Object schemas here are made strict (additionalProperties: false) by openapi.strictify.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

# Extra fields that the 2025 RingCentral spec (S25 in messaging-api-facts.md) added to a schema of
# this 2022 spec and that a faithful server may therefore send. Keys: component schema names;
# values: property names allowed there in addition to the declared ones (any value).
# Keep this list short and sourced: everything else that is not in the spec is a test failure.
ALLOWED_EXTRA_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    # S25:ASGErrorResponse adds `errors[]` (facts 5.1, "A2P (ASG) errors").
    "ASGErrorResponse": frozenset({"errors"}),
}

# Operations of the 2025 spec that the 2022 extract lacks (facts 2, "S25 deltas"). They are added
# to the operation table so that responses to them are validated rather than rejected as unknown.
_MESSAGE_PATH: Final = (
    "/restapi/v1.0/account/{accountId}/extension/{extensionId}/message-store/{messageId}"
)
SUPPLEMENTARY_OPERATIONS: Final[Mapping[str, Mapping[str, Any]]] = {
    _MESSAGE_PATH: {
        # S25:patchMessage: same answers as updateMessage.
        "patch": {
            "operationId": "patchMessage",
            "responses": {
                "200": {
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/GetMessageInfoResponse"}
                        }
                    }
                },
                "207": {
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/GetMessageMultiResponse"}
                        }
                    }
                },
            },
        },
    },
    "/restapi/oauth/wstoken": {
        # S25:authWsToken -> WsTokenResponse (facts 7.5).
        "post": {
            "operationId": "authWsToken",
            "responses": {
                "200": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["ws_access_token", "uri", "expires_in"],
                                "properties": {
                                    "ws_access_token": {"type": "string"},
                                    "uri": {"type": "string"},
                                    "expires_in": {"type": "integer"},
                                },
                            }
                        }
                    }
                },
            },
        },
    },
}

_STRING: Final[dict[str, Any]] = {"type": "string"}

_ERROR_ITEM: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["errorCode", "message"],
    "properties": {
        "errorCode": {"type": "string", "minLength": 1},
        "message": _STRING,
        "parameterName": _STRING,
        "parameterValue": _STRING,
        "permissionName": _STRING,
    },
}

# RingCentral's error body as servers emit it (facts 5.1): the first error repeated at top level.
ERROR_ENVELOPE: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["errorCode", "message", "errors"],
    "properties": {
        "errorCode": {"type": "string", "minLength": 1},
        "message": _STRING,
        "errors": {"type": "array", "minItems": 1, "items": _ERROR_ITEM},
        "parameterName": _STRING,
        "parameterValue": _STRING,
        "permissionName": _STRING,
    },
}

# RFC 6749 (5.2 token endpoint, 4.1.2.1 authorization endpoint), RFC 6750 (bearer token) and the
# codes the 2025 spec lists in responses/OauthInvalidRequest (facts 5.1).
OAUTH_ERROR_CODES: Final = (
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "access_denied",
    "unsupported_response_type",
    "server_error",
    "temporarily_unavailable",
    "invalid_token",
    "insufficient_scope",
    "invalid_request_uri",
    "request_not_supported",
    "request_uri_not_supported",
    "expired_token",
)

OAUTH_ERROR_ENVELOPE: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["error", "error_description", "errors"],
    "properties": {
        "error": {"type": "string", "enum": list(OAUTH_ERROR_CODES)},
        "error_description": _STRING,
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {
                **_ERROR_ITEM,
                "properties": {
                    **_ERROR_ITEM["properties"],
                    # OAU-153 answers carry `parameters: [{parameterName, parameterValue}]`
                    # (facts 5.1, OAuth endpoints).
                    "parameters": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"parameterName": _STRING, "parameterValue": _STRING},
                        },
                    },
                },
            },
        },
    },
}

# First part of a multipart/mixed 207 answer (facts 3).
MULTIPART_STATUS_PART: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["response"],
    "properties": {
        "response": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["href", "status", "responseDescription"],
                "properties": {
                    "href": _STRING,
                    "status": {"type": "integer"},
                    "responseDescription": _STRING,
                },
            },
        },
    },
}
