"""createSMSMessage with a multipart body (multipart/form-data or multipart/mixed), as the Python
SDK's MultipartBuilder sends it: the request in a part named `json`, files in parts named
`attachment` (facts 7.4). Without files it is an SMS like a JSON send; with files it is an MMS,
which ringlet does not have (403 BIL-103)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

import httpx
import pytest

from tests.e2e.messaging import EXT, error_code, records
from tests.support.client import ApiClient
from tests.support.fixtures import ProvisionedAccount

pytestmark = pytest.mark.usefixtures("server")

BOUNDARY: Final = "ringlet-multipart-test"
JSON_HEADERS: Final = {
    "Content-Disposition": 'form-data; name="json"; filename="request.json"',
    "Content-Type": "application/json",
}
PNG_HEADERS: Final = {
    "Content-Disposition": 'form-data; name="attachment"; filename="photo.png"',
    "Content-Type": "image/png",
}
PNG: Final = b"\x89PNG\r\n\x1a\n" + bytes(range(256))  # binary, CR LF and all

Part = tuple[Mapping[str, str], bytes]


def _request(account: ProvisionedAccount, text: str = "Hello Bob") -> dict[str, Any]:
    """Olivia (101) to Bob (102): both have a store the SMS lands in."""
    return {
        "from": {"phoneNumber": account.ext("101").number},
        "to": [{"phoneNumber": account.ext("102").number}],
        "text": text,
    }


def _json(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def _multipart(parts: Sequence[Part], boundary: str = BOUNDARY) -> bytes:
    chunks = []
    for headers, content in parts:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        chunks.append(f"--{boundary}\r\n{head}\r\n".encode() + content + b"\r\n")
    return b"".join(chunks) + f"--{boundary}--\r\n".encode()


def _post(
    client: ApiClient, parts: Sequence[Part], media_type: str = "multipart/form-data"
) -> httpx.Response:
    return client.post(
        f"{EXT}/sms",
        content=_multipart(parts),
        headers={"Content-Type": f"{media_type}; boundary={BOUNDARY}"},
    )


def _nothing_stored(account: ProvisionedAccount, olivia: ApiClient, bob: ApiClient) -> None:
    assert records(olivia) == []
    assert records(bob) == []
    assert records(olivia, account.ext("102").id) == []  # an admin's view of Bob's store


@pytest.mark.parametrize(
    "media_type", ["multipart/form-data", "multipart/mixed", "Multipart/MIXED"]
)
def test_multipart_without_files_is_an_sms(account, client_for, media_type: str) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    response = _post(olivia, [(JSON_HEADERS, _json(_request(account, "Grüße 👋")))], media_type)
    assert response.status_code == 200, response.text
    sent = response.json()
    assert (sent["type"], sent["direction"], sent["messageStatus"]) == ("SMS", "Outbound", "Sent")
    assert sent["subject"] == "Grüße 👋"
    assert sent["from"]["phoneNumber"] == account.ext("101").number
    assert sent["attachments"] == [
        {"id": 1, "uri": sent["uri"] + "/content/1", "type": "Text", "contentType": "text/plain"}
    ]
    assert [m["id"] for m in records(olivia)] == [sent["id"]]
    (inbound,) = records(bob)
    assert (inbound["direction"], inbound["subject"]) == ("Inbound", "Grüße 👋")
    assert inbound["conversationId"] == sent["conversationId"]


def test_multipart_answers_as_the_json_send_does(account, client_for) -> None:
    olivia = client_for(account, "101")
    by_json = olivia.post(f"{EXT}/sms", json=_request(account, "same")).json()
    by_parts = _post(olivia, [(JSON_HEADERS, _json(_request(account, "same")))]).json()
    varying = {"id", "uri", "attachments", "creationTime", "lastModifiedTime"}
    assert {k: v for k, v in by_json.items() if k not in varying} == {
        k: v for k, v in by_parts.items() if k not in varying
    }


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json; charset=UTF-8"},
        {},  # neither name nor type: read as JSON, like a body without a Content-Type
        {
            "Content-Disposition": 'form-data; name="request"',
            "Content-Type": "application/vnd.api+json",
        },
    ],
    ids=["json-type", "no-headers", "plus-json"],
)
def test_without_a_part_named_json_the_first_json_part_is_the_request(
    account, client_for, headers: dict[str, str]
) -> None:
    olivia = client_for(account, "101")
    # An empty part before it is skipped, not taken for the request.
    parts: list[Part] = [({}, b""), (headers, _json(_request(account)))]
    response = _post(olivia, parts, "multipart/mixed")
    assert response.status_code == 200, response.text
    assert [m["subject"] for m in records(olivia)] == ["Hello Bob"]


def test_the_part_named_json_wins_and_empty_parts_are_ignored(account, client_for) -> None:
    olivia = client_for(account, "101")
    parts: list[Part] = [
        (PNG_HEADERS, b""),  # an empty file field, as a browser form sends it
        (
            {"Content-Disposition": 'form-data; name="json"', "Content-Type": "text/plain"},
            _json(_request(account, "named")),
        ),
    ]
    response = _post(olivia, parts)
    assert response.status_code == 200, response.text
    assert response.json()["subject"] == "named"


@pytest.mark.parametrize("media_type", ["multipart/form-data", "multipart/mixed"])
def test_files_make_an_mms_which_is_refused(account, client_for, media_type: str) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    parts: list[Part] = [(JSON_HEADERS, _json(_request(account))), (PNG_HEADERS, PNG)]
    response = _post(olivia, parts, media_type)
    assert response.status_code == 403, response.text
    assert error_code(response) == "BIL-103"
    assert response.json()["message"] == "Feature [MMS] is not available for current account"
    _nothing_stored(account, olivia, bob)


def test_a_second_json_part_is_an_attachment_too(account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    document = _json(_request(account))
    response = _post(
        olivia, [(JSON_HEADERS, document), ({"Content-Type": "application/json"}, document)]
    )
    assert response.status_code == 403, response.text
    assert error_code(response) == "BIL-103"
    _nothing_stored(account, olivia, bob)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (_multipart([(PNG_HEADERS, PNG)]), f"multipart/form-data; boundary={BOUNDARY}"),
        (_multipart([]), f"multipart/form-data; boundary={BOUNDARY}"),
        (b"not a multipart body", f"multipart/form-data; boundary={BOUNDARY}"),
        (_multipart([(JSON_HEADERS, b"{}")]), "multipart/form-data"),  # no boundary
    ],
    ids=["only-a-file", "no-parts", "garbage", "no-boundary"],
)
def test_a_multipart_body_without_a_json_part_names_json(
    account, client_for, body: bytes, content_type: str
) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    response = olivia.post(f"{EXT}/sms", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 400, response.text
    assert error_code(response) == "CMN-101"
    assert response.json()["parameterName"] == "json"
    _nothing_stored(account, olivia, bob)


@pytest.mark.parametrize("content", [b"{not json", b""], ids=["broken", "empty"])
def test_broken_json_in_the_json_part(account, client_for, content: bytes) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    # Broken JSON is a 400 even when files come with it: the request is judged first.
    response = _post(olivia, [(JSON_HEADERS, content), (PNG_HEADERS, PNG)])
    assert response.status_code == 400, response.text
    assert error_code(response) == "CMN-103"
    _nothing_stored(account, olivia, bob)


def test_fields_of_the_json_part_are_checked_like_a_json_body(account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    request = _request(account)
    request["to"] = [{"phoneNumber": 16505550100}]
    response = _post(olivia, [(JSON_HEADERS, _json(request))])
    assert response.status_code == 400, response.text
    assert error_code(response) == "CMN-101"
    assert response.json()["parameterName"] == "to.phoneNumber"
    response = _post(olivia, [(JSON_HEADERS, _json(_request(account) | {"text": "x" * 1001}))])
    assert response.status_code == 400, response.text
    assert response.json()["parameterName"] == "text"
    _nothing_stored(account, olivia, bob)


def test_a_multipart_body_has_the_json_bound(account, client_for) -> None:
    olivia, bob = client_for(account, "101"), client_for(account, "102")
    response = _post(olivia, [(JSON_HEADERS, _json(_request(account))), (PNG_HEADERS, PNG * 5000)])
    assert response.status_code == 413, response.text
    assert error_code(response) == "CMN-104"
    _nothing_stored(account, olivia, bob)


def test_other_multipart_types_and_the_pager_stay_json_only(account, client_for) -> None:
    olivia = client_for(account, "101")
    parts: list[Part] = [(JSON_HEADERS, _json(_request(account)))]
    related = _post(olivia, parts, "multipart/related")
    assert related.status_code == 415, related.text
    assert error_code(related) == "CMN-104"
    pager = {"to": [{"extensionNumber": "102"}], "text": "hi"}
    response = olivia.post(
        f"{EXT}/company-pager",
        content=_multipart([(JSON_HEADERS, _json(pager))]),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert response.status_code == 415, response.text
    assert records(olivia) == []
