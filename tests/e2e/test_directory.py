"""The directory end to end: account, extensions, phone numbers (R5-R7), departments, and who
may see or change them (R14), through the HTTP API on a real server.

Every response is validated against the OpenAPI description by the client; these tests check
what the schema cannot: which records, which features, which error code and parameter.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.client import ApiClient

pytestmark = pytest.mark.usefixtures("server")

ACCOUNT = "/restapi/v1.0/account/~"
EXTENSIONS = f"{ACCOUNT}/extension"
NUMBERS = f"{ACCOUNT}/phone-number"
BULK_ASSIGN = f"{ACCOUNT}/department/bulk-assign"


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _error(response: Any, status: int, code: str, parameter: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["errorCode"] == code, body
    assert "records" not in body  # R14: an error never carries the data
    if parameter is not None:
        assert body["errors"][0]["parameterName"] == parameter, body
    return body


def _numbers_of(client: ApiClient, extension: str | int = "~", **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = _ok(client.get(f"{EXTENSIONS}/{extension}/phone-number", params=params))
    return body


def _by_number(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["phoneNumber"]: r for r in records}


def _members(client: ApiClient, account) -> list[str]:
    department = account.ext("201").id
    body = _ok(client.get(f"{ACCOUNT}/department/{department}/members"))
    return [m["extensionNumber"] for m in body["records"]]


def _assign(client: ApiClient, *items: dict[str, Any]) -> Any:
    return client.post(BULK_ASSIGN, json={"items": list(items)})


def _walk(client: ApiClient, url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every record of a list, following navigation.nextPage as an SDK would."""
    body = _ok(client.get(url, params=params))
    found: list[dict[str, Any]] = list(body["records"])
    while "nextPage" in body["navigation"]:
        body = _ok(client.get(body["navigation"]["nextPage"]["uri"]))
        found += body["records"]
    return found


# -- account -------------------------------------------------------------------------------


def test_read_account_info(account, client_for) -> None:
    bob = client_for(account, "102")
    info = _ok(bob.get(ACCOUNT))
    assert info["id"] == account.id
    assert info["uri"].endswith(f"/restapi/v1.0/account/{account.id}")  # real id, never ~
    assert info["mainNumber"] == account.main_number
    assert info["status"] == "Confirmed"
    operator = account.operator_ext
    assert info["operator"]["id"] == operator.id
    assert info["operator"]["extensionNumber"] == operator.extension_number
    assert _ok(bob.get(f"/restapi/v1.0/account/{account.id}")) == info


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/extension",
        "/phone-number",
        "/extension/{ext}",
        "/extension/{ext}/phone-number",
        "/department/{dept}/members",
    ],
)
def test_r14_another_account_is_not_found(account, new_account, client_for, path: str) -> None:
    other = new_account()
    olivia = client_for(account, "101")  # an admin, still confined to her own account
    url = f"/restapi/v1.0/account/{other.id}" + path.format(
        ext=other.ext("102").id, dept=other.ext("201").id
    )
    _error(olivia.get(url), 404, "CMN-102", "accountId")


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/extension/{ext}", "extensionId"),
        ("/extension/{ext}/phone-number", "extensionId"),
        ("/phone-number/{num}", "phoneNumberId"),
        ("/department/{dept}/members", "departmentId"),
    ],
)
def test_r14_another_accounts_ids_under_own_account_are_not_found(
    account, new_account, client_for, path: str, parameter: str
) -> None:
    other = new_account()
    olivia = client_for(account, "101")
    url = ACCOUNT + path.format(
        ext=other.ext("102").id,
        num=other.ext("102").phone_numbers[0].id,
        dept=other.ext("201").id,
    )
    _error(olivia.get(url), 404, "CMN-102", parameter)


# -- extensions ----------------------------------------------------------------------------


def test_list_extensions(account, client_for) -> None:
    body = _ok(client_for(account, "102").get(EXTENSIONS))
    records = {r["extensionNumber"]: r for r in body["records"]}
    assert set(records) == set(account.extensions)
    assert body["paging"]["totalElements"] == len(account.extensions)
    olivia = records["101"]
    assert olivia["id"] == account.ext("101").id
    assert olivia["type"] == "User"
    assert olivia["status"] == "Enabled"
    assert olivia["name"] == account.ext("101").name
    assert olivia["contact"]["email"] == account.ext("101").email
    assert olivia["permissions"]["admin"]["enabled"] is True
    assert records["102"]["permissions"]["admin"]["enabled"] is False
    assert records["201"]["type"] == "Department"
    assert records["301"]["type"] == "Voicemail"
    assert records["104"]["status"] == "Disabled"
    assert records["105"]["status"] == "Frozen"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"extensionNumber": "103"}, {"103"}),
        ({"extensionNumber": "999"}, set()),
        ({"status": ["Disabled", "Frozen"]}, {"104", "105"}),
        ({"status": "Enabled", "type": "User"}, {"101", "102", "103"}),
        ({"type": ["Department", "Voicemail"]}, {"201", "301"}),
        ({"type": "Announcement"}, {"401"}),
    ],
    ids=["number", "no-such-number", "statuses", "status-and-type", "types", "announcement"],
)
def test_list_extensions_filters(account, client_for, params, expected) -> None:
    body = _ok(client_for(account, "102").get(EXTENSIONS, params=params))
    assert {r["extensionNumber"] for r in body["records"]} == expected
    assert body["paging"]["totalElements"] == len(expected)


def test_list_extensions_by_email_ignores_case(account, client_for) -> None:
    email = account.ext("101").email
    body = _ok(client_for(account, "102").get(EXTENSIONS, params={"email": email.upper()}))
    assert [r["extensionNumber"] for r in body["records"]] == ["101"]


def test_list_extensions_paging_and_navigation(account, client_for) -> None:
    bob = client_for(account, "102")
    total = len(account.extensions)
    first = _ok(bob.get(EXTENSIONS, params={"perPage": 3, "type": "User"}))
    users = [e for e in account.extensions.values() if e.type == "User"]
    pages = -(-len(users) // 3)
    assert first["paging"] == {
        "page": 1,
        "perPage": 3,
        "pageStart": 0,
        "pageEnd": 2,
        "totalPages": pages,
        "totalElements": len(users),
    }
    navigation = first["navigation"]
    assert set(navigation) == {"firstPage", "nextPage", "lastPage"}
    assert "type=User" in navigation["nextPage"]["uri"]  # filters are echoed in every uri
    assert "page=2" in navigation["nextPage"]["uri"]
    assert "type=User" in first["uri"]

    second = _ok(bob.get(navigation["nextPage"]["uri"]))
    assert second["paging"]["page"] == 2
    assert "previousPage" in second["navigation"]

    walked = _walk(bob, EXTENSIONS, {"perPage": 2})
    assert sorted(r["extensionNumber"] for r in walked) == sorted(account.extensions)
    assert len(walked) == total

    beyond = _ok(bob.get(EXTENSIONS, params={"page": 99}))
    assert beyond["records"] == []
    assert beyond["paging"]["totalElements"] == total

    capped = _ok(bob.get(EXTENSIONS, params={"perPage": 5000}))
    assert capped["paging"]["perPage"] == 1000


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"status": "Sleeping"}, "status"),
        ({"status": ["Enabled", "Sleeping"]}, "status"),
        ({"type": "Robot"}, "type"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"perPage": "0"}, "perPage"),
        ({"perPage": "-5"}, "perPage"),
    ],
    ids=["status", "one-bad-status", "type", "page-0", "page-text", "perPage-0", "perPage-neg"],
)
def test_list_extensions_bad_query(account, client_for, params, parameter) -> None:
    response = client_for(account, "102").get(EXTENSIONS, params=params)
    _error(response, 400, "CMN-101", parameter)


def test_read_own_extension(account, client_for) -> None:
    bob = client_for(account, "102")
    record = _ok(bob.get(f"{EXTENSIONS}/~"))
    assert record["id"] == account.ext("102").id
    assert record["uri"].endswith(f"/account/{account.id}/extension/{account.ext('102').id}")
    assert record["extensionNumber"] == "102"
    assert record["account"]["id"] == str(account.id)
    department = account.ext("201")
    assert record["departments"] == [
        {"id": str(department.id), "uri": record["departments"][0]["uri"], "extensionNumber": "201"}
    ]
    features = {f["featureName"]: f["enabled"] for f in record["serviceFeatures"]}
    assert features == {"SMS": True, "SMSReceiving": True, "Pager": True, "PagerReceiving": True}
    assert _ok(bob.get(f"{EXTENSIONS}/{account.ext('102').id}")) == record


def test_r2_r7_department_service_features(account, client_for) -> None:
    """A Department sends SMS (R7) but not Pager, and receives Pager but not SMS (R2)."""
    record = _ok(client_for(account, "201").get(f"{EXTENSIONS}/~"))
    features = {f["featureName"]: f["enabled"] for f in record["serviceFeatures"]}
    assert features == {"SMS": True, "SMSReceiving": False, "Pager": False, "PagerReceiving": True}


def test_read_another_extension_of_the_account(account, client_for) -> None:
    """Directory reads reach the whole account; serviceFeatures are the owner's only."""
    bob = client_for(account, "102")
    record = _ok(bob.get(f"{EXTENSIONS}/{account.ext('201').id}"))
    assert record["type"] == "Department"
    assert "serviceFeatures" not in record
    assert "departments" not in record
    carol = _ok(bob.get(f"{EXTENSIONS}/{account.ext('103').id}"))
    assert [d["extensionNumber"] for d in carol["departments"]] == ["201"]


@pytest.mark.parametrize("ref", ["1", "abc"], ids=["unknown", "not-a-number"])
def test_read_unknown_extension(account, client_for, ref: str) -> None:
    response = client_for(account, "101").get(f"{EXTENSIONS}/{ref}")
    _error(response, 404, "CMN-102", "extensionId")


# -- updateExtension -----------------------------------------------------------------------


def _status(client: ApiClient, account, number: str) -> str:
    record = _ok(client.get(f"{EXTENSIONS}/{account.ext(number).id}"))
    status: str = record["status"]
    return status


@pytest.mark.parametrize("status", ["Disabled", "Frozen", "NotActivated"])
def test_admin_changes_an_extension_status(account, client_for, status: str) -> None:
    olivia = client_for(account, "101")
    carol = account.ext("103")
    updated = _ok(olivia.put(f"{EXTENSIONS}/{carol.id}", json={"status": status}))
    assert updated["status"] == status
    assert updated["id"] == carol.id
    assert _status(olivia, account, "103") == status
    listed = _ok(olivia.get(EXTENSIONS, params={"extensionNumber": "103"}))
    assert listed["records"][0]["status"] == status
    again = _ok(olivia.put(f"{EXTENSIONS}/{carol.id}", json={"status": "Enabled"}))
    assert again["status"] == "Enabled"


def test_admin_reenables_a_disabled_extension(account, client_for) -> None:
    olivia = client_for(account, "101")
    dan = account.ext("104")
    assert _ok(olivia.put(f"{EXTENSIONS}/{dan.id}", json={"status": "Enabled"}))["status"] == (
        "Enabled"
    )


def test_r14_non_admin_cannot_update_another_extension(account, client_for) -> None:
    bob = client_for(account, "102")
    response = bob.put(f"{EXTENSIONS}/{account.ext('103').id}", json={"status": "Disabled"})
    _error(response, 403, "CMN-404")
    assert _status(bob, account, "103") == "Enabled"


def test_non_admin_cannot_change_own_status(account, client_for) -> None:
    bob = client_for(account, "102")
    body = _error(bob.put(f"{EXTENSIONS}/~", json={"status": "Disabled"}), 403, "CMN-408")
    assert body["errors"][0]["permissionName"] == "EditUserInfo"
    assert _status(bob, account, "102") == "Enabled"


def test_non_admin_updates_own_contact(account, client_for) -> None:
    bob = client_for(account, "102")
    updated = _ok(
        bob.put(
            f"{EXTENSIONS}/~",
            # status unchanged is not a change; unknown fields are ignored
            json={"status": "Enabled", "contact": {"firstName": "Robert"}, "ivrPin": "1234"},
        )
    )
    assert updated["contact"]["firstName"] == "Robert"
    assert updated["name"] == "Robert " + account.ext("102").name.split(" ", 1)[1]


def test_update_email_must_be_free(account, client_for) -> None:
    olivia = client_for(account, "101")
    response = olivia.put(
        f"{EXTENSIONS}/{account.ext('103').id}",
        json={"contact": {"email": account.ext("101").email}},
    )
    _error(response, 400, "CMN-101", "contact.email")


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"status": "Sleeping"}, "status"),
        ({"status": "Unassigned"}, "status"),
        ({"status": 3}, "status"),
        ({"contact": "Bob"}, "contact"),
        ({"contact": {"email": "not-an-email"}}, "contact.email"),
        ({"contact": {"firstName": 7}}, "contact.firstName"),
    ],
    ids=[
        "unknown-status",
        "unassigned",
        "status-int",
        "contact-string",
        "bad-email",
        "firstName-int",
    ],
)
def test_update_extension_bad_body(account, client_for, body, parameter) -> None:
    olivia = client_for(account, "101")
    carol = account.ext("103")
    response = olivia.put(f"{EXTENSIONS}/{carol.id}", json=body)
    _error(response, 400, "CMN-101", parameter)
    assert _status(olivia, account, "103") == "Enabled"


def test_update_extension_unparsable_body(account, client_for) -> None:
    olivia = client_for(account, "101")
    response = olivia.put(
        f"{EXTENSIONS}/{account.ext('103').id}",
        content=b"{status: Disabled",
        headers={"Content-Type": "application/json"},
    )
    _error(response, 400, "CMN-103")


def test_update_unknown_extension(account, client_for) -> None:
    response = client_for(account, "101").put(f"{EXTENSIONS}/1", json={"status": "Enabled"})
    _error(response, 404, "CMN-102", "extensionId")


# -- extension phone numbers (R5-R7) -------------------------------------------------------


def test_r5_extension_lists_its_numbers_with_features(account, client_for) -> None:
    bob = _numbers_of(client_for(account, "102"))
    records = _by_number(bob["records"])
    assert set(records) == {account.ext("102").number}
    (record,) = records.values()
    assert "SmsSender" in record["features"]
    assert record["usageType"] == "DirectNumber"
    assert record["extension"]["id"] == account.ext("102").id
    assert account.main_number not in records  # R6: only the operator holds it

    carol = _by_number(_numbers_of(client_for(account, "103"))["records"])
    (carols,) = carol.values()
    assert carols["features"] == ["CallerId"]  # R5: held, but not an SMS sender


def test_r6_operator_lists_the_main_number_as_sms_sender(account, client_for) -> None:
    body = _numbers_of(client_for(account, account.operator))
    records = _by_number(body["records"])
    assert set(records) == {account.main_number, account.operator_ext.number}
    main = records[account.main_number]
    assert main["usageType"] == "MainCompanyNumber"
    assert "SmsSender" in main["features"]
    assert "SmsSender" in records[account.operator_ext.number]["features"]


def test_r7_department_lists_its_direct_numbers_as_sms_senders(account, client_for) -> None:
    body = _numbers_of(client_for(account, "201"))
    records = _by_number(body["records"])
    department = account.ext("201")
    assert set(records) == {p.phone_number for p in department.phone_numbers}
    for record in records.values():
        assert record["usageType"] == "DirectNumber"
        assert "SmsSender" in record["features"]
        assert record["extension"]["type"] == "Department"


def test_r14_non_admin_cannot_read_another_extensions_numbers(account, client_for) -> None:
    bob = client_for(account, "102")
    for other in ("101", "103", "201"):
        response = bob.get(f"{EXTENSIONS}/{account.ext(other).id}/phone-number")
        _error(response, 403, "CMN-404")


def test_r14_admin_reads_another_extensions_numbers(account, client_for) -> None:
    """Features are those the number has for *that* extension: no main number for 102."""
    olivia = client_for(account, "101")
    body = _numbers_of(olivia, account.ext("102").id)
    assert set(_by_number(body["records"])) == {account.ext("102").number}
    assert (
        body["uri"]
        .split("?")[0]
        .endswith(f"/account/{account.id}/extension/{account.ext('102').id}/phone-number")
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"usageType": "MainCompanyNumber"}, "main"),
        ({"usageType": "DirectNumber"}, "direct"),
        ({"usageType": ["DirectNumber", "MainCompanyNumber"]}, "both"),
        ({"usageType": "CompanyFaxNumber"}, "none"),
        ({"status": "Normal"}, "both"),
        ({"status": "Pending"}, "none"),
    ],
)
def test_extension_numbers_filters(account, client_for, params, expected) -> None:
    main, direct = account.main_number, account.operator_ext.number
    wanted = {"main": {main}, "direct": {direct}, "both": {main, direct}, "none": set()}[expected]
    body = _numbers_of(client_for(account, account.operator), **params)
    assert set(_by_number(body["records"])) == wanted
    assert body["paging"]["totalElements"] == len(wanted)


def test_extension_numbers_paging(account, client_for) -> None:
    olivia = client_for(account, account.operator)
    first = _numbers_of(olivia, perPage=1)
    assert first["paging"]["totalPages"] == 2
    assert set(first["navigation"]) == {"firstPage", "nextPage", "lastPage"}
    walked = _walk(olivia, f"{EXTENSIONS}/~/phone-number", {"perPage": 1})
    assert {r["phoneNumber"] for r in walked} == {account.main_number, account.operator_ext.number}


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"usageType": "Landline"}, "usageType"),
        ({"usageType": "MeetingsNumber"}, "usageType"),  # not in this operation's enum
        ({"status": "Lost"}, "status"),
        ({"page": "-1"}, "page"),
    ],
)
def test_extension_numbers_bad_query(account, client_for, params, parameter) -> None:
    response = client_for(account, "102").get(f"{EXTENSIONS}/~/phone-number", params=params)
    _error(response, 400, "CMN-101", parameter)


# -- account phone numbers -----------------------------------------------------------------


def _all_fixture_numbers(account) -> set[str]:
    held = {p.phone_number for e in account.extensions.values() for p in e.phone_numbers}
    return held | {account.main_number}


@pytest.mark.parametrize("who", ["101", "102"], ids=["admin", "user"])
def test_list_account_numbers(account, client_for, who: str) -> None:
    """The fixture holds only direct numbers and the main number, which everyone sees."""
    body = _ok(client_for(account, who).get(NUMBERS))
    records = _by_number(body["records"])
    assert set(records) == _all_fixture_numbers(account)
    assert all("features" not in r for r in records.values())  # facts §11
    main = records[account.main_number]
    assert main["usageType"] == "MainCompanyNumber"
    assert "extension" not in main
    bobs = records[account.ext("102").number]
    assert bobs["usageType"] == "DirectNumber"
    assert bobs["extension"] == {
        "id": str(account.ext("102").id),
        "uri": bobs["extension"]["uri"],
        "extensionNumber": "102",
        "name": account.ext("102").name,
    }
    assert bobs["uri"].endswith(f"/account/{account.id}/phone-number/{bobs['id']}")


def test_list_account_numbers_filters_and_paging(account, client_for) -> None:
    olivia = client_for(account, "101")
    main = _ok(olivia.get(NUMBERS, params={"usageType": "MainCompanyNumber"}))
    assert [r["phoneNumber"] for r in main["records"]] == [account.main_number]
    assert _ok(olivia.get(NUMBERS, params={"status": "Temporary"}))["records"] == []
    direct = _walk(olivia, NUMBERS, {"usageType": "DirectNumber", "perPage": 2})
    assert {r["phoneNumber"] for r in direct} == _all_fixture_numbers(account) - {
        account.main_number
    }


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"usageType": "Landline"}, "usageType"),
        ({"status": "Lost"}, "status"),
        ({"perPage": "many"}, "perPage"),
    ],
)
def test_list_account_numbers_bad_query(account, client_for, params, parameter) -> None:
    _error(client_for(account, "101").get(NUMBERS, params=params), 400, "CMN-101", parameter)


def test_read_account_number(account, client_for) -> None:
    bob = client_for(account, "102")
    listed = _by_number(_ok(bob.get(NUMBERS))["records"])
    for number in (account.main_number, account.ext("103").number):
        record = _ok(bob.get(f"{NUMBERS}/{listed[number]['id']}"))
        assert record == listed[number]


@pytest.mark.parametrize("ref", ["1", "abc"], ids=["unknown", "not-a-number"])
def test_read_unknown_account_number(account, client_for, ref: str) -> None:
    _error(client_for(account, "101").get(f"{NUMBERS}/{ref}"), 404, "CMN-102", "phoneNumberId")


# -- departments ---------------------------------------------------------------------------


def test_list_department_members(account, client_for) -> None:
    bob = client_for(account, "102")  # any extension of the account may read the directory
    department = account.ext("201")
    body = _ok(bob.get(f"{ACCOUNT}/department/{department.id}/members"))
    assert [m["extensionNumber"] for m in body["records"]] == sorted(department.members)
    first = body["records"][0]
    assert first["id"] == str(account.ext(first["extensionNumber"]).id)  # a string here
    assert first["name"] == account.ext(first["extensionNumber"]).name
    assert body["uri"].split("?")[0].endswith(f"/department/{department.id}/members")

    paged = _ok(bob.get(f"{ACCOUNT}/department/{department.id}/members", params={"perPage": 2}))
    assert paged["paging"]["totalElements"] == len(department.members)
    assert len(paged["records"]) == 2
    walked = _walk(bob, f"{ACCOUNT}/department/{department.id}/members", {"perPage": 2})
    assert sorted(m["extensionNumber"] for m in walked) == sorted(department.members)


@pytest.mark.parametrize("which", ["user", "unknown", "text"])
def test_department_members_of_a_non_department(account, client_for, which: str) -> None:
    ref = {"user": str(account.ext("102").id), "unknown": "1", "text": "queue"}[which]
    response = client_for(account, "101").get(f"{ACCOUNT}/department/{ref}/members")
    _error(response, 404, "CMN-102", "departmentId")


def test_bulk_assign_adds_and_removes_members(account, client_for) -> None:
    olivia = client_for(account, "101")
    department = account.ext("201")
    response = _assign(
        olivia,
        {
            "departmentId": str(department.id),
            "addedExtensionIds": [str(account.ext("105").id), str(account.ext("301").id)],
            "removedExtensionIds": [str(account.ext("104").id)],
        },
    )
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert _members(olivia, account) == ["102", "103", "105", "301"]
    fay = _ok(olivia.get(f"{EXTENSIONS}/{account.ext('105').id}"))
    assert [d["id"] for d in fay["departments"]] == [str(department.id)]
    dan = _ok(olivia.get(f"{EXTENSIONS}/{account.ext('104').id}"))
    assert "departments" not in dan


def test_bulk_assign_is_idempotent_and_accepts_numeric_ids(account, client_for) -> None:
    olivia = client_for(account, "101")
    item = {"departmentId": account.ext("201").id, "addedExtensionIds": [account.ext("102").id]}
    for _ in range(2):
        assert _assign(olivia, item).status_code == 204
    assert _members(olivia, account) == ["102", "103", "104"]
    assert olivia.post(BULK_ASSIGN).status_code == 204  # the body is optional
    assert _assign(olivia).status_code == 204


def _bad_items(account, other) -> dict[str, tuple[dict[str, Any], int, str, str]]:
    """A broken second item, and the status, code and parameter it must be refused with."""
    dept = str(account.ext("201").id)
    return {
        "unknown-member": (
            {"departmentId": dept, "addedExtensionIds": ["1"]},
            404,
            "CMN-102",
            "items.addedExtensionIds",
        ),
        "other-account-member": (
            {"departmentId": dept, "addedExtensionIds": [str(other.ext("102").id)]},
            404,
            "CMN-102",
            "items.addedExtensionIds",
        ),
        "unknown-removed": (
            {"departmentId": dept, "removedExtensionIds": ["1"]},
            404,
            "CMN-102",
            "items.removedExtensionIds",
        ),
        "not-a-department": (
            {"departmentId": str(account.ext("103").id)},
            404,
            "CMN-102",
            "items.departmentId",
        ),
        "other-account-department": (
            {"departmentId": str(other.ext("201").id)},
            404,
            "CMN-102",
            "items.departmentId",
        ),
        "malformed-department": ({"departmentId": "queue"}, 400, "CMN-101", "items.departmentId"),
        "missing-department": ({"addedExtensionIds": []}, 400, "CMN-101", "items.departmentId"),
        "malformed-member": (
            {"departmentId": dept, "addedExtensionIds": ["x"]},
            400,
            "CMN-101",
            "items.addedExtensionIds",
        ),
        "member-not-a-list": (
            {"departmentId": dept, "addedExtensionIds": "102"},
            400,
            "CMN-101",
            "items.addedExtensionIds",
        ),
        "department-as-member": (
            {"departmentId": dept, "addedExtensionIds": [dept]},
            400,
            "CMN-101",
            "items.addedExtensionIds",
        ),
        "added-and-removed": (
            {
                "departmentId": dept,
                "addedExtensionIds": [str(account.ext("105").id)],
                "removedExtensionIds": [str(account.ext("105").id)],
            },
            400,
            "CMN-101",
            "items.removedExtensionIds",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "unknown-member",
        "other-account-member",
        "unknown-removed",
        "not-a-department",
        "other-account-department",
        "malformed-department",
        "missing-department",
        "malformed-member",
        "member-not-a-list",
        "department-as-member",
        "added-and-removed",
    ],
)
def test_bulk_assign_is_all_or_nothing(account, new_account, client_for, case: str) -> None:
    olivia = client_for(account, "101")
    bad, status, code, parameter = _bad_items(account, new_account())[case]
    good = {
        "departmentId": str(account.ext("201").id),
        "addedExtensionIds": [str(account.ext("105").id)],
        "removedExtensionIds": [str(account.ext("102").id)],
    }
    _error(_assign(olivia, good, bad), status, code, parameter)
    assert _members(olivia, account) == ["102", "103", "104"]  # the good item was not applied


def test_bulk_assign_needs_an_admin(account, client_for) -> None:
    bob = client_for(account, "102")
    response = _assign(
        bob,
        {
            "departmentId": str(account.ext("201").id),
            "removedExtensionIds": [str(account.ext("103").id)],
        },
    )
    body = _error(response, 403, "CMN-408")
    assert body["errors"][0]["permissionName"] == "UserGroups"
    assert _members(bob, account) == ["102", "103", "104"]


def test_bulk_assign_bad_json(account, client_for) -> None:
    olivia = client_for(account, "101")
    response = olivia.post(
        BULK_ASSIGN, content=b"{items:", headers={"Content-Type": "application/json"}
    )
    _error(response, 400, "CMN-103")
    _error(_assign(olivia, "not an object"), 400, "CMN-101")  # type: ignore[arg-type]
