"""Schemas the test harness adds to the vendored OpenAPI file, each with its source.

- ALLOWED_EXTRA_FIELDS / SUPPLEMENTARY_OPERATIONS: what the 2025 spec (S25) added and a faithful
  server may therefore send or serve;
- ERROR_ENVELOPE / OAUTH_ERROR_ENVELOPE: error bodies, which the 2022 spec does not declare;
- MULTIPART_STATUS_PART: the first part of a multipart/mixed 207 answer;
- MULTI_STATUS_ITEMS / MULTI_STATUS_RESPONSE: a 207 answer in either representation, judged item
  by item (it replaces the 2022 spec's GetMessageMultiResponse);
- PARTIAL_CONTENT_RESPONSE / RANGE_NOT_SATISFIABLE_RESPONSE: readMessageContent's Range answers;
- RESPONSE_OVERRIDES: which operation answers with which of these.

Sources are cited as in the project's fact sheet on RingCentral's messaging API ("facts N").
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
                # 207: MULTI_STATUS_RESPONSE, see RESPONSE_OVERRIDES.
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
                    "status": {"type": "integer", "minimum": 200, "maximum": 599},
                    "responseDescription": _STRING,
                },
            },
        },
    },
}

# -- 207 Multi-Status (facts 3) -----------------------------------------------------------------
#
# A bulk request (several ids in the path) is answered 207 in one of two representations:
# - `multipart/mixed`: MULTIPART_STATUS_PART, then one part per id (default, `Accept` absent,
#   `*/*` or `application/json`; DGC:basics/batch-request-get-1.txt);
# - `application/vnd.ringcentral.multipart+json`: a JSON array of MULTI_STATUS_ITEM (with that
#   `Accept`; DGC:basics/batch-request-get-2.txt; S25:readMessage, updateMessage).
# Each part/item is judged by its own status, as the single-id answer would be (openapi.py,
# SpecValidator._check_item):
# - 204: no body: no `body` key in the item form, an empty part in multipart/mixed (a bulk
#   DELETE's deleted ids; the single-id answer is S22:deleteMessage's 204 without content, and a
#   204 has no content by definition, RFC 9110 15.3.5);
# - other 2xx: the operation's own 200 schema (GetMessageInfoResponse for the message store); an
#   operation without a 200 answer (deleteMessage) may not have such items;
# - >= 300: ERROR_ENVELOPE (the single-id error body; facts 3 shows a 404 item with CMN-102).
# The 2022 spec instead describes the item form as GetMessageMultiResponse = array of
# GetMessageInfoMultiResponse{resourceId, status, body: MessageBody}, where MessageBody has a
# string `id` and lacks `extensionId`, `to`, `from`...: the real sample (batch-request-get-2.txt:
# integer ids, full records, error bodies in failed items) and S25 (body: GetMessageInfoResponse;
# resourceId, status and body required) disagree with it, so it is not used.
# It also declares the 207 as `application/json`, which the real service never sends (a client
# asking for JSON gets multipart/mixed, and the SDKs parse nothing else): a JSON 207 must say
# the vnd media type.

MULTIPART_JSON: Final = "application/vnd.ringcentral.multipart+json"

MULTI_STATUS_ITEM: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["resourceId", "status"],  # `body` too, except for a 204 (see above)
    "properties": {
        "resourceId": {"type": "string", "minLength": 1},
        "status": {"type": "integer", "minimum": 200, "maximum": 599},
        "body": {},  # checked by the item's status, not here
    },
}

MULTI_STATUS_ITEMS: Final[dict[str, Any]] = {
    "type": "array",
    "minItems": 1,  # a bulk request names at least one id
    "items": MULTI_STATUS_ITEM,
}

# `x-ringlet-multi-status` tells openapi.py to judge the parts/items (above) after the schema.
MULTI_STATUS_RESPONSE: Final[dict[str, Any]] = {
    "description": "Multi-Status",
    "x-ringlet-multi-status": True,
    "content": {
        "multipart/mixed": {},  # parsed and checked part by part by openapi.py
        MULTIPART_JSON: {"schema": MULTI_STATUS_ITEMS},
    },
}

_BINARY: Final[dict[str, Any]] = {"schema": {"type": "string", "format": "binary"}}

# readMessageContent with a satisfiable `Range` header: 206 with the requested bytes (facts 8.4:
# S22 lists the `Range` header parameter but declares only 200; MSG18). Any media type of the
# attachment; never a JSON body.
PARTIAL_CONTENT_RESPONSE: Final[dict[str, Any]] = {
    "description": "Partial Content",
    "content": {"text/plain": _BINARY, "image/tiff": _BINARY},
}

# ... and with an unsatisfiable one: 416 CMN-107 in the usual error body (facts 5.2, MSG18).
RANGE_NOT_SATISFIABLE_RESPONSE: Final[dict[str, Any]] = {
    "description": "Range Not Satisfiable",
    "content": {"application/json": {"schema": ERROR_ENVELOPE}},
}

# Responses set on operations of the spec (after SUPPLEMENTARY_OPERATIONS are added), replacing a
# declared one of the same status. Keys: path template, method, status.
RESPONSE_OVERRIDES: Final[Mapping[str, Mapping[str, Mapping[str, Mapping[str, Any]]]]] = {
    _MESSAGE_PATH: {
        # readMessage / updateMessage: replaces GetMessageMultiResponse (see above).
        "get": {"207": MULTI_STATUS_RESPONSE},
        "put": {"207": MULTI_STATUS_RESPONSE},
        # S25:patchMessage answers 207 like updateMessage.
        "patch": {"207": MULTI_STATUS_RESPONSE},
        # deleteMessage: S22 declares only 204, but a bulk DELETE with a failed id answers 207
        # (facts 3, DG:basics/batch-requests); its items are 204s and errors.
        "delete": {"207": MULTI_STATUS_RESPONSE},
    },
    _MESSAGE_PATH + "/content/{attachmentId}": {
        "get": {"206": PARTIAL_CONTENT_RESPONSE, "416": RANGE_NOT_SATISFIABLE_RESPONSE},
    },
}

# Values the 2025 description (S25) adds to an enum of the 2022 file: (schema, property) -> values.
# NotificationDeliveryMode.transportType: S25 lists WebHook and WebSocket (facts 13.1).
ENUM_ADDITIONS: Final[Mapping[tuple[str, str], tuple[str, ...]]] = {
    ("NotificationDeliveryMode", "transportType"): ("WebSocket",),
}
