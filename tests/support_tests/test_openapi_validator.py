"""The spec validator: operation lookup, strictness, error envelopes, multipart 207 answers."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.support import openapi
from tests.support.openapi import SpecValidator, json_path, load_spec
from tests.support.schemas import MULTIPART_JSON

LIST = "/restapi/v1.0/account/~/extension/~/message-store"
MSG_URI = "https://platform.ringcentral.com/restapi/v1.0/account/1/extension/2/message-store/3"
JSON = "application/json; charset=UTF-8"


@pytest.fixture(scope="module")
def v() -> SpecValidator:
    return SpecValidator.default()


def message(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": 3,
        "uri": MSG_URI,
        "extensionId": "2",
        "type": "Pager",
        "direction": "Outbound",
        "availability": "Alive",
        "messageStatus": "Sent",
        "readStatus": "Read",
        "priority": "Normal",
        "subject": "hello",
        "conversationId": 4178398077955743750,
        "conversation": {"id": "4178398077955743750"},
        "creationTime": "2016-03-10T18:07:52.534Z",
        "lastModifiedTime": "2016-03-10T18:07:52.534Z",
        "from": {"extensionNumber": "101"},
        "to": [{"extensionNumber": "102"}],
        "attachments": [
            {"id": 1, "uri": MSG_URI + "/content/1", "type": "Text", "contentType": "text/plain"}
        ],
    }
    record.update(overrides)
    return record


def message_list(*records: dict[str, Any]) -> dict[str, Any]:
    return {
        "uri": "https://platform.ringcentral.com" + LIST + "?page=1&perPage=100",
        "records": list(records),
        "paging": {
            "page": 1,
            "totalPages": 1,
            "perPage": 100,
            "totalElements": len(records),
            "pageStart": 0,
            "pageEnd": max(len(records) - 1, 0),
        },
        "navigation": {"firstPage": {"uri": "https://x/first"}, "lastPage": {"uri": "https://x/l"}},
    }


def body(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def check(
    v: SpecValidator,
    doc: Any,
    *,
    method: str = "GET",
    path: str = LIST,
    status: int = 200,
    content_type: str = JSON,
) -> None:
    v.validate(method, path, status, content_type, body(doc))


# -- operation lookup ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "operation_id"),
    [
        ("GET", "/restapi/v1.0/account/1/extension/2/message-store/3,4", "readMessage"),
        ("PUT", "/restapi/v1.0/account/~/extension/~/message-store/3", "updateMessage"),
        ("DELETE", "/restapi/v1.0/account/~/extension/~/message-store/3", "deleteMessage"),
        ("DELETE", LIST, "deleteMessageByFilter"),
        ("GET", LIST, "listMessages"),
        ("GET", LIST + "/3/content/1", "readMessageContent"),
        ("GET", "/restapi/v1.0/account/~/extension", "listExtensions"),
        ("GET", "/restapi/v1.0/account/~/extension/~", "readExtension"),
        ("GET", "/restapi/v1.0/account/~", "readAccountInfo"),
        ("GET", "/restapi/v1.0/account/~/extension/~/phone-number", "listExtensionPhoneNumbers"),
        ("GET", "/restapi/v1.0/account/~/phone-number/55", "readAccountPhoneNumber"),
        ("POST", "/restapi/v1.0/account/~/extension/~/sms", "createSMSMessage"),
        ("POST", "/restapi/v1.0/account/~/extension/~/company-pager", "createInternalTextMessage"),
        ("GET", "/restapi/v1.0/account/~/extension/~/message-sync", "syncMessages"),
        ("GET", "/restapi/v1.0/account/~/department/7/members", "listDepartmentMembers"),
        (
            "POST",
            "/restapi/v1.0/account/~/department/bulk-assign",
            "assignMultipleDepartmentMembers",
        ),
        ("GET", "/restapi/v1.0/subscription", "listSubscriptions"),
        ("POST", "/restapi/v1.0/subscription/abc/renew", "renewSubscription"),
        ("POST", "/restapi/oauth/token", "getToken"),
        ("POST", "/restapi/oauth/revoke", "revokeToken"),
        ("GET", "/restapi", "readAPIVersions"),
        ("GET", "/restapi/v1.0", "readAPIVersion"),
        ("GET", "/restapi/v1.0?x=1", "readAPIVersion"),
        # added from the 2025 spec
        ("PATCH", "/restapi/v1.0/account/~/extension/~/message-store/3", "patchMessage"),
        ("POST", "/restapi/oauth/wstoken", "authWsToken"),
    ],
)
def test_finds_operation(v: SpecValidator, method: str, path: str, operation_id: str) -> None:
    op = v.find_operation(method, path)
    assert op is not None
    assert op.operation_id == operation_id


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/restapi/v1.0/account/~/extension/~/nonsense"),
        ("GET", "/restapi/v1.0/account//extension"),  # an empty segment fills no parameter
        ("POST", "/restapi/v1.0/account/~/extension"),  # path known, method not
    ],
)
def test_unknown_operation(v: SpecValidator, method: str, path: str) -> None:
    assert v.find_operation(method, path) is None


def test_literal_segments_win(v: SpecValidator) -> None:
    assert v.match_template("/restapi/v1.0/account/~/department/bulk-assign") == (
        "/restapi/v1.0/account/{accountId}/department/bulk-assign"
    )


# -- success bodies ------------------------------------------------------------------------------


def test_accepts_message_list(v: SpecValidator) -> None:
    check(
        v,
        message_list(
            message(),
            message(id=4, direction="Inbound", readStatus="Unread", messageStatus="Received"),
        ),
    )


def test_accepts_empty_list_without_paging_details(v: SpecValidator) -> None:
    doc = message_list()
    doc["paging"] = {"perPage": 100}
    check(v, doc)


def test_rejects_misspelt_field(v: SpecValidator) -> None:
    with pytest.raises(AssertionError) as err:
        check(v, message_list(message(readStatuss="Read")))
    text = str(err.value)
    assert "listMessages" in text and "200" in text
    assert "$.records[0].readStatuss" in text


def test_rejects_invented_nested_field(v: SpecValidator) -> None:
    doc = message_list(message())
    doc["paging"]["hasMore"] = True
    with pytest.raises(AssertionError, match=r"\$\.paging\.hasMore"):
        check(v, doc)


def test_rejects_wrong_enum(v: SpecValidator) -> None:
    with pytest.raises(AssertionError) as err:
        check(v, message_list(message(direction="Outgoing")))
    assert "$.records[0].direction" in str(err.value)
    assert '"Outgoing"' in str(err.value)


def test_rejects_missing_paging(v: SpecValidator) -> None:
    doc = message_list(message())
    del doc["paging"]
    with pytest.raises(AssertionError, match="'paging' is a required property"):
        check(v, doc)


def test_rejects_wrong_types(v: SpecValidator) -> None:
    with pytest.raises(AssertionError, match=r"\$\.records\[0\]\.id"):
        check(v, message_list(message(id="3")))  # ids are JSON integers
    with pytest.raises(AssertionError, match=r"\$\.records\[0\]\.creationTime"):
        check(v, message_list(message(creationTime="yesterday")))
    with pytest.raises(AssertionError, match=r"\$\.records\[0\]\.subject"):
        check(v, message_list(message(subject=None)))  # not nullable


def test_default_response_used_for_200(v: SpecValidator) -> None:
    account = {"id": 1, "uri": "https://x", "mainNumber": "+16509100000", "status": "Confirmed"}
    check(v, account, path="/restapi/v1.0/account/~")
    with pytest.raises(AssertionError, match="readAccountInfo"):
        check(v, {**account, "status": "Active"}, path="/restapi/v1.0/account/~")


def test_token_info(v: SpecValidator) -> None:
    token = {
        "access_token": "a",
        "token_type": "bearer",
        "expires_in": 3600,
        "refresh_token": "r",
        "refresh_token_expires_in": 604800,
        "scope": "SMS",
        "owner_id": "2",
        "endpoint_id": "e",
    }
    check(v, token, method="POST", path="/restapi/oauth/token")
    with pytest.raises(AssertionError, match="'scope' is a required property"):
        check(
            v,
            {k: x for k, x in token.items() if k != "scope"},
            method="POST",
            path="/restapi/oauth/token",
        )


def test_unknown_path_with_success_raises(v: SpecValidator) -> None:
    with pytest.raises(AssertionError, match="no operation of the spec matches"):
        check(v, {}, path="/restapi/v1.0/account/~/extension/~/nonsense")


def test_undeclared_status_raises(v: SpecValidator) -> None:
    with pytest.raises(AssertionError, match="status 201 is not declared"):
        check(v, message(), path=LIST + "/3", status=201)


def test_json_expected(v: SpecValidator) -> None:
    with pytest.raises(AssertionError, match="expected a JSON body"):
        v.validate("GET", LIST, 200, "text/html", b"<html></html>")
    with pytest.raises(AssertionError, match="not valid JSON"):
        v.validate("GET", LIST, 200, JSON, b"{")


def test_no_body_answers(v: SpecValidator) -> None:
    v.validate("DELETE", LIST + "/3", 204, "", b"")
    with pytest.raises(AssertionError, match="must have no body"):
        v.validate("DELETE", LIST + "/3", 204, JSON, b"{}")
    v.validate("GET", LIST + "/3/content/1", 200, "text/plain;charset=utf-8", b"hello")
    v.validate("POST", "/restapi/oauth/revoke", 200, "", b"")


def test_outside_restapi_not_validated(v: SpecValidator) -> None:
    v.validate("GET", "/_ringlet/health", 200, "text/plain", b"ok")
    v.validate("POST", "/_ringlet/fixtures", 200, JSON, b'{"anything": 1}')


def test_allowlisted_extra_field(v: SpecValidator) -> None:
    # S25 adds errors[] to ASGErrorResponse (ALLOWED_EXTRA_FIELDS)
    doc = {
        "errorCode": "CMN-101",
        "message": "bad",
        "errors": [{"errorCode": "CMN-101", "message": "bad"}],
    }
    check(v, doc, path="/restapi/v1.0/account/~/a2p-sms/batches/1", status=400)
    with pytest.raises(AssertionError, match=r"\$\.other"):
        check(v, {**doc, "other": 1}, path="/restapi/v1.0/account/~/a2p-sms/batches/1", status=400)


# -- error envelopes -----------------------------------------------------------------------------

ERROR: dict[str, Any] = {
    "errorCode": "CMN-102",
    "message": "Resource for parameter [messageId] is not found",
    "errors": [
        {
            "errorCode": "CMN-102",
            "message": "Resource for parameter [messageId] is not found",
            "parameterName": "messageId",
        }
    ],
    "parameterName": "messageId",
}


def test_error_envelope_accepted(v: SpecValidator) -> None:
    check(v, ERROR, path=LIST + "/999", status=404)
    permission = {
        "errorCode": "CMN-401",
        "message": "needs [SMS]",
        "permissionName": "SMS",
        "errors": [{"errorCode": "CMN-401", "message": "needs [SMS]", "permissionName": "SMS"}],
    }
    check(v, permission, method="POST", path="/restapi/v1.0/account/~/extension/~/sms", status=403)


def test_unknown_uri_error_is_validated(v: SpecValidator) -> None:
    doc = {
        "errorCode": "CMN-120",
        "message": "Invalid URI",
        "errors": [{"errorCode": "CMN-120", "message": "Invalid URI"}],
    }
    check(v, doc, path="/restapi/v1.0/nothing/here", status=404)
    with pytest.raises(AssertionError, match="error envelope"):
        check(v, {"detail": "Not Found"}, path="/restapi/v1.0/nothing/here", status=404)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("errors"),
        lambda d: d.__setitem__("errors", []),
        lambda d: d.pop("errorCode"),
        lambda d: d.__setitem__("message", None),
        lambda d: d.__setitem__("detail", "x"),
        lambda d: d["errors"][0].pop("message"),
        lambda d: d["errors"][0].__setitem__("parameterName", 5),
        lambda d: d["errors"][0].__setitem__("code", "x"),
    ],
)
def test_error_envelope_rejected(v: SpecValidator, mutate: Any) -> None:
    doc = copy.deepcopy(ERROR)
    mutate(doc)
    with pytest.raises(AssertionError, match="error envelope"):
        check(v, doc, path=LIST + "/999", status=404)


def test_error_must_be_json(v: SpecValidator) -> None:
    with pytest.raises(AssertionError, match="expected a JSON body"):
        v.validate("GET", LIST, 405, "text/plain", b"Method Not Allowed")


OAUTH_ERROR: dict[str, Any] = {
    "error": "invalid_grant",
    "error_description": "Invalid resource owner credentials",
    "errors": [{"errorCode": "OAU-140", "message": "Invalid resource owner credentials"}],
}


def test_oauth_error_envelope(v: SpecValidator) -> None:
    check(v, OAUTH_ERROR, method="POST", path="/restapi/oauth/token", status=400)
    with_params = copy.deepcopy(OAUTH_ERROR)
    with_params["errors"][0]["parameters"] = [{"parameterName": "client_id", "parameterValue": ""}]
    check(v, with_params, method="POST", path="/restapi/oauth/token", status=400)
    with pytest.raises(AssertionError, match=r"\$\.error\b"):
        check(
            v,
            {**OAUTH_ERROR, "error": "bad_password"},
            method="POST",
            path="/restapi/oauth/token",
            status=400,
        )
    with pytest.raises(AssertionError, match="OAuth error envelope"):
        check(v, ERROR, method="POST", path="/restapi/oauth/token", status=400)


# -- multipart 207 -------------------------------------------------------------------------------


def multipart(parts: list[Any], boundary: str = "Boundary_1_2_3") -> tuple[str, bytes]:
    """A multipart/mixed body; a None part is empty and has no headers (as ringlet sends a 204)."""
    chunks = []
    for part in parts:
        if part is None:
            chunks.append(f"--{boundary}\r\n\r\n\r\n")
            continue
        chunks.append(
            f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(part)}\r\n"
        )
    chunks.append(f"--{boundary}--\r\n")
    return f"multipart/mixed; boundary={boundary}", "".join(chunks).encode()


def statuses(*codes: int) -> dict[str, Any]:
    return {"response": [{"href": MSG_URI, "status": c, "responseDescription": "x"} for c in codes]}


def test_multipart_accepted(v: SpecValidator) -> None:
    ctype, data = multipart([statuses(200, 404), message(), ERROR])
    v.validate("GET", LIST + "/3,999", 207, ctype, data)
    v.validate("PUT", LIST + "/3,999", 207, ctype, data)


def test_multipart_part_is_validated(v: SpecValidator) -> None:
    ctype, data = multipart([statuses(200, 200), message(), message(direction="Sideways")])
    with pytest.raises(AssertionError, match=r"(?s)part 2 .*\$\.direction"):
        v.validate("GET", LIST + "/3,4", 207, ctype, data)
    ctype, data = multipart([statuses(200, 404), message(), {"oops": 1}])
    with pytest.raises(AssertionError, match="part 2"):
        v.validate("GET", LIST + "/3,4", 207, ctype, data)


def test_multipart_counts_must_agree(v: SpecValidator) -> None:
    ctype, data = multipart([statuses(200, 200), message()])
    with pytest.raises(AssertionError, match="lists 2 statuses but 1 parts follow"):
        v.validate("GET", LIST + "/3,4", 207, ctype, data)


def test_multipart_head_is_validated(v: SpecValidator) -> None:
    ctype, data = multipart([{"response": [{"href": MSG_URI, "status": 200}]}, message()])
    with pytest.raises(AssertionError, match="responseDescription"):
        v.validate("GET", LIST + "/3,4", 207, ctype, data)


def test_multipart_needs_a_declared_207(v: SpecValidator) -> None:
    ctype, data = multipart([statuses(200), message()])
    with pytest.raises(AssertionError, match="status 207 is not declared"):
        v.validate("GET", LIST, 207, ctype, data)


# -- 207 in the vnd.ringcentral.multipart+json form (schemas.MULTI_STATUS_RESPONSE) -------------

VND = MULTIPART_JSON + "; charset=UTF-8"
BULK = LIST + "/3,999"


def item(status: int, doc: Any = None, resource_id: str = "3") -> dict[str, Any]:
    out: dict[str, Any] = {"resourceId": resource_id, "status": status}
    if doc is not None:
        out["body"] = doc
    return out


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH"])
def test_vnd_207_accepted(v: SpecValidator, method: str) -> None:
    # DGC:basics/batch-request-get-2.txt: full records and error bodies, item by item
    doc = [item(200, message()), item(404, ERROR, "999"), item(200, message(id=4), "4")]
    check(v, doc, method=method, path=BULK, status=207, content_type=VND)


@pytest.mark.parametrize(
    ("items", "problem"),
    [
        # the 2022 spec's MessageBody (string id) is not what the service sends
        ([item(200, {"id": "3", "uri": MSG_URI})], r"item 0 \(status 200\).*\$\.id"),
        ([item(200, message(direction="Sideways"))], r"item 0 .*\$\.direction"),
        ([item(200, message(), "3"), item(200, message(extra=1))], r"item 1 .*\$\.extra"),
        ([item(404, {"errorCode": "CMN-102"}, "999")], r"item 0 \(status 404\).*error envelope"),
        ([item(404, message(), "999")], "error envelope"),
        ([item(200)], "a 200 item must have a body"),
        ([item(404, None, "999")], "a 404 item must have a body"),
        ([item(204, message())], "a 204 item must have no body"),
        ([{"status": 200, "body": message()}], "'resourceId' is a required property"),
        ([{"resourceId": "3", "body": message()}], "'status' is a required property"),
        ([{**item(200, message()), "href": MSG_URI}], r"\$\[0\]\.href"),
        ([{"resourceId": 3, "status": 200, "body": message()}], r"\$\[0\]\.resourceId"),
        ([item(99, message())], r"\$\[0\]\.status"),
        ([], "should be non-empty"),
    ],
)
def test_vnd_207_rejected(v: SpecValidator, items: list[Any], problem: str) -> None:
    with pytest.raises(AssertionError, match=f"(?s){problem}"):
        check(v, items, path=BULK, status=207, content_type=VND)


def test_vnd_207_must_be_an_array(v: SpecValidator) -> None:
    with pytest.raises(AssertionError, match="is not of type 'array'"):
        check(v, item(200, message()), path=BULK, status=207, content_type=VND)


def test_207_json_must_say_the_vnd_media_type(v: SpecValidator) -> None:
    # The 2022 spec declares application/json; the real service sends multipart/mixed instead.
    with pytest.raises(AssertionError, match="got Content-Type 'application/json"):
        check(v, [item(200, message())], path=BULK, status=207, content_type=JSON)


# -- deleteMessage answering 207 (undeclared in 2022; RESPONSE_OVERRIDES) ---------------------


def test_delete_207_accepted(v: SpecValidator) -> None:
    doc = [item(204), item(404, ERROR, "999")]
    check(v, doc, method="DELETE", path=BULK, status=207, content_type=VND)
    ctype, data = multipart([statuses(204, 404), None, ERROR])
    v.validate("DELETE", BULK, 207, ctype, data)


@pytest.mark.parametrize(
    ("items", "problem"),
    [
        ([item(200, message())], "deleteMessage has no 200 answer"),
        ([item(204, {})], "a 204 item must have no body"),
        ([item(204), item(404, {"detail": "gone"}, "999")], r"item 1 .*error envelope"),
    ],
)
def test_delete_207_rejected(v: SpecValidator, items: list[Any], problem: str) -> None:
    with pytest.raises(AssertionError, match=f"(?s){problem}"):
        check(v, items, method="DELETE", path=BULK, status=207, content_type=VND)


@pytest.mark.parametrize(
    ("parts", "problem"),
    [
        ([statuses(204, 404), message(), ERROR], r"part 1 \(status 204\): .*must have no body"),
        ([statuses(204, 404), None, None], r"part 2 \(status 404\): .*must have a body"),
        ([statuses(200, 404), message(), ERROR], "deleteMessage has no 200 answer"),
        ([statuses(204, 404), None, {"oops": 1}], r"part 2 .*error envelope"),
    ],
)
def test_delete_207_multipart_rejected(v: SpecValidator, parts: list[Any], problem: str) -> None:
    ctype, data = multipart(parts)
    with pytest.raises(AssertionError, match=f"(?s){problem}"):
        v.validate("DELETE", BULK, 207, ctype, data)


def test_delete_207_in_another_media_type_rejected(v: SpecValidator) -> None:
    with pytest.raises(AssertionError, match="a 207 answer is multipart/mixed or"):
        v.validate("DELETE", BULK, 207, "text/plain", b"partly")


# -- readMessageContent answering 206 / 416 (Range; RESPONSE_OVERRIDES) -----------------------

CONTENT = LIST + "/3/content/1"


def test_partial_content_accepted(v: SpecValidator) -> None:
    v.validate("GET", CONTENT, 206, "text/plain; charset=UTF-8", b"234")
    v.validate("GET", CONTENT, 206, "image/png", bytes(range(16)))


def test_partial_content_is_never_json(v: SpecValidator) -> None:
    with pytest.raises(AssertionError, match="declares no JSON body for 206"):
        v.validate("GET", CONTENT, 206, JSON, body(message()))


def test_partial_content_only_for_message_content(v: SpecValidator) -> None:
    with pytest.raises(AssertionError, match="status 206 is not declared"):
        v.validate("GET", LIST + "/3", 206, "text/plain", b"234")


def test_range_not_satisfiable(v: SpecValidator) -> None:
    error = {
        "errorCode": "CMN-107",
        "message": "Requested range is not satisfiable",
        "errors": [{"errorCode": "CMN-107", "message": "Requested range is not satisfiable"}],
    }
    check(v, error, path=CONTENT, status=416)
    with pytest.raises(AssertionError, match=r"(?s)readMessageContent .*416.*\$\.range"):
        check(v, {**error, "range": "bytes */10"}, path=CONTENT, status=416)
    with pytest.raises(AssertionError, match="'errors' is a required property"):
        check(v, {"errorCode": "CMN-107", "message": "x"}, path=CONTENT, status=416)


# -- the overrides themselves ----------------------------------------------------------------


def test_overrides_name_existing_operations(monkeypatch: pytest.MonkeyPatch) -> None:
    assert SpecValidator(load_spec()).find_operation("DELETE", BULK) is not None
    monkeypatch.setattr(
        openapi, "RESPONSE_OVERRIDES", {"/restapi/v1.0/nowhere": {"get": {"207": {}}}}
    )
    with pytest.raises(ValueError, match=r"no operation GET /restapi/v1\.0/nowhere"):
        SpecValidator(load_spec())


def test_json_path_format() -> None:
    assert json_path([]) == "$"
    assert json_path(["records", 0, "from", "phone-number"]) == "$.records[0].from['phone-number']"
