"""The fixture format: parsing and validation (ringlet.fixtures), the demo account, reports.

Every kind of bad value must be refused with a message that names it by its path in the file,
so that whoever wrote the file can find it.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ringlet.demo import demo_fixture
from ringlet.demo.intro import DemoIntro, DemoStatus
from ringlet.domain.enums import (
    AppPermission,
    ExtensionStatus,
    ExtensionType,
    PhoneNumberFeature,
    UsageType,
)
from ringlet.domain.errors import InvalidInput, UnparsableRequest
from ringlet.fixtures import from_document, parse_json, parse_yaml, read_path
from ringlet.fixtures.ids import derived_id
from ringlet.fixtures.validate import MAX_ID
from ringlet.services.provisioning import LoadReport
from ringlet.store.provisioning import Kind, Outcome

REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "fixture.yaml"

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def reference() -> Doc:
    doc: Doc = yaml.safe_load(REFERENCE.read_text())
    return doc


def _refused(doc: object) -> str:
    with pytest.raises(InvalidInput) as caught:
        from_document(doc)
    return caught.value.message


def _ext(doc: Doc, i: int) -> Doc:
    ext: Doc = doc["accounts"][0]["extensions"][i]
    return ext


# -- what a good file gives -------------------------------------------------------------------


def test_reference_fixture_parses_into_typed_definitions() -> None:
    fixture = read_path(REFERENCE)
    (app,) = fixture.apps
    assert (app.client_id, app.client_secret, app.name) == ("demo-app", "demo-secret", "Demo app")
    assert app.permissions == frozenset(AppPermission)
    (acct,) = fixture.accounts
    assert (acct.id, acct.main_number, acct.operator) == (1346632010, "+16509100000", "101")
    assert [e.extension_number for e in acct.extensions] == [
        "101",
        "102",
        "103",
        "104",
        "105",
        "201",
        "301",
        "401",
    ]
    olivia, *_, dept, box, _ = acct.extensions
    assert olivia.admin and olivia.password == "Operator-101!" and olivia.jwt == "jwt-olivia-101"
    assert olivia.phone_numbers[0].features == {
        PhoneNumberFeature.SMS_SENDER,
        PhoneNumberFeature.CALLER_ID,
    }
    assert dept.type is ExtensionType.DEPARTMENT and dept.members == ("102", "103", "104")
    assert box.type is ExtensionType.VOICEMAIL
    assert acct.extensions[3].status is ExtensionStatus.DISABLED
    assert acct.extensions[4].status is ExtensionStatus.FROZEN
    assert (fixture.extension_count, fixture.phone_number_count) == (8, 7)


def test_defaults_for_fields_left_out() -> None:
    fixture = from_document(
        {
            "apps": [{"clientId": "c", "clientSecret": "s"}],
            "accounts": [
                {
                    "mainNumber": "+16505550100",
                    "name": "A",
                    "extensions": [
                        {
                            "extensionNumber": "101",
                            "name": "Op",
                            "phoneNumbers": [{"phoneNumber": "+16505550101"}],
                        }
                    ],
                }
            ],
        }
    )
    app = fixture.apps[0]
    assert app.name == "c" and app.permissions == frozenset(AppPermission)  # all of them
    acct = fixture.accounts[0]
    assert acct.id is None and acct.operator == "101"
    ext = acct.extensions[0]
    assert (ext.id, ext.type, ext.status, ext.admin) == (
        None,
        ExtensionType.USER,
        ExtensionStatus.ENABLED,
        False,
    )
    assert (ext.password, ext.jwt, ext.email, ext.members) == (None, None, None, ())
    number = ext.phone_numbers[0]
    assert (number.id, number.usage_type, number.features) == (
        None,
        UsageType.DIRECT_NUMBER,
        frozenset(),
    )


def test_empty_permissions_mean_none_and_public_clients_have_no_secret() -> None:
    fixture = from_document({"apps": [{"clientId": "js", "permissions": []}]})
    assert fixture.apps[0].permissions == frozenset()
    assert fixture.apps[0].client_secret is None


def test_yaml_integers_are_accepted_as_extension_numbers() -> None:
    fixture = from_document(
        {
            "accounts": [
                {
                    "id": 5,
                    "name": "A",
                    "operator": 101,
                    "extensions": [
                        {"extensionNumber": 101, "name": "Op"},
                        {
                            "extensionNumber": 201,
                            "name": "Q",
                            "type": "Department",
                            "members": [101],
                        },
                    ],
                }
            ]
        }
    )
    acct = fixture.accounts[0]
    assert acct.operator == "101"
    assert acct.extensions[1].members == ("101",)


def test_json_is_accepted_and_secrets_stay_out_of_reprs(reference: Doc) -> None:
    import json

    fixture = from_document(parse_json(json.dumps(reference).encode()))
    assert fixture == read_path(REFERENCE)
    assert "Operator-101!" not in repr(fixture) and "demo-secret" not in repr(fixture)
    assert "jwt-olivia-101" not in repr(fixture)


# -- each kind of bad value, named by its path --------------------------------------------------

Mutation = Callable[[Doc], None]


def _set(path: tuple[Any, ...], value: Any) -> Mutation:
    def mutate(doc: Doc) -> None:
        node: Any = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _both(first: Mutation, second: Mutation) -> Mutation:
    def mutate(doc: Doc) -> None:
        first(doc)
        second(doc)

    return mutate


def _delete(path: tuple[Any, ...]) -> Mutation:
    def mutate(doc: Doc) -> None:
        node: Any = doc
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


A = ("accounts", 0)
E = (*A, "extensions")

BAD_VALUES: list[tuple[str, Mutation, str]] = [
    (
        "type",
        _set((*E, 3, "type"), "Usr"),
        "accounts[0].extensions[3].type: 'Usr' is not one of User, FaxUser, ",
    ),
    (
        "status",
        _set((*E, 1, "status"), "Active"),
        "accounts[0].extensions[1].status: 'Active' is not one of Enabled, Disabled, Frozen, ",
    ),
    (
        "phone number",
        _set((*E, 1, "phoneNumbers", 0, "phoneNumber"), "+1"),
        "accounts[0].extensions[1].phoneNumbers[0].phoneNumber: '+1' is not a phone number",
    ),
    (
        "phone number with an extension",
        _set((*E, 1, "phoneNumbers", 0, "phoneNumber"), "+1 650 910 0020 ext. 5"),
        "accounts[0].extensions[1].phoneNumbers[0].phoneNumber: '+1 650 910 0020 ext. 5' is not a "
        "phone number: E.164 like '+16505550100', or national in US (an extension is not part",
    ),
    (
        "unquoted international number",
        _set((*A, "mainNumber"), 442071838750),
        "accounts[0].mainNumber: '442071838750' is not a phone number: E.164 like '+16505550100', "
        'or national in US (write it as a quoted string, e.g. "+442071838750"',
    ),
    (
        "country",
        _set((*A, "country"), "USA"),
        "accounts[0].country: 'USA' is not an ISO 3166-1 alpha-2 country code",
    ),
    (
        "usage type",
        _set((*E, 0, "phoneNumbers", 0, "usageType"), "Direct"),
        "accounts[0].extensions[0].phoneNumbers[0].usageType: 'Direct' is not one of "
        "MainCompanyNumber, ",
    ),
    (
        "main number as a direct number",
        _set((*E, 0, "phoneNumbers", 0, "usageType"), "MainCompanyNumber"),
        "accounts[0].extensions[0].phoneNumbers[0].usageType: MainCompanyNumber is given as the "
        "account's `mainNumber`",
    ),
    (
        "feature",
        _set((*E, 0, "phoneNumbers", 0, "features"), ["SmsSender", "Sms"]),
        "accounts[0].extensions[0].phoneNumbers[0].features[1]: 'Sms' is not one of CallerId, ",
    ),
    (
        "permission",
        _set(("apps", 0, "permissions"), ["SMS", "ReadMessages", "Messages"]),
        "apps[0].permissions[2]: 'Messages' is not one of SMS, InternalMessages, ",
    ),
    (
        "member not in the account",
        _set((*E, 5, "members"), ["102", "999"]),
        "accounts[0].extensions[5].members[1]: '999' is not the extensionNumber of an extension "
        "of this account",
    ),
    (
        "member twice",
        _set((*E, 5, "members"), ["102", "102"]),
        "accounts[0].extensions[5].members[1]: '102' is listed twice",
    ),
    (
        "department in itself",
        _set((*E, 5, "members"), ["201"]),
        "accounts[0].extensions[5].members[0]: a department cannot be its own member",
    ),
    (
        # R10 fans out one level; bulk-assign refuses the same (test_directory).
        "department in a department",
        _both(_set((*E, 4, "type"), "Department"), _set((*E, 5, "members"), ["102", "105"])),
        "accounts[0].extensions[5].members[1]: '105': Extension of type [Department] cannot be "
        "included into call queue",
    ),
    (
        "members of a user",
        _set((*E, 1, "members"), ["103"]),
        "accounts[0].extensions[1].members: only a Department has members, this is a User",
    ),
    (
        "operator",
        _set((*A, "operator"), "109"),
        "accounts[0].operator: '109' is not the extensionNumber of an extension of this account",
    ),
    (
        "default operator missing",
        _set((*E, 0, "extensionNumber"), "100"),
        "accounts[0].operator: '101' is not the extensionNumber of an extension of this account",
    ),
    (
        "extension number twice",
        _set((*E, 2, "extensionNumber"), "102"),
        "accounts[0].extensions[2].extensionNumber: '102' is also the extensionNumber of "
        "accounts[0].extensions[1]",
    ),
    (
        "extension number syntax",
        _set((*E, 7, "extensionNumber"), "4O1"),
        "accounts[0].extensions[7].extensionNumber: '4O1' is not an extension number",
    ),
    (
        "phone number twice",
        _set((*E, 2, "phoneNumbers", 0, "phoneNumber"), "+16509100020"),
        "accounts[0].extensions[2].phoneNumbers[0].phoneNumber: '+16509100020' is already used "
        "at accounts[0].extensions[1].phoneNumbers[0].phoneNumber",
    ),
    (
        "main number reused",
        _set((*E, 1, "phoneNumbers", 0, "phoneNumber"), "+16509100000"),
        "accounts[0].extensions[1].phoneNumbers[0].phoneNumber: '+16509100000' is already used "
        "at accounts[0].mainNumber",
    ),
    (
        "extension id twice",
        _set((*E, 2, "id"), 1346632102),
        "accounts[0].extensions[2].id: 1346632102 is already used at accounts[0].extensions[1].id",
    ),
    (
        "phone number id twice",
        _set((*E, 2, "phoneNumbers", 0, "id"), 33333302),
        "accounts[0].extensions[2].phoneNumbers[0].id: 33333302 is already used at ",
    ),
    ("negative id", _set((*A, "id"), -5), "accounts[0].id: -5 is not between 1 and "),
    (
        "id beyond JavaScript's integers",
        _set((*E, 0, "id"), 2**53),
        f"accounts[0].extensions[0].id: {2**53} is not between 1 and {MAX_ID}",
    ),
    (
        "id as text",
        _set((*E, 0, "id"), "1346632010"),
        "accounts[0].extensions[0].id: expected an integer, got a string",
    ),
    (
        "admin as text",
        _set((*E, 0, "admin"), "yes"),
        "accounts[0].extensions[0].admin: expected true or false, got a string",
    ),
    ("name missing", _delete((*E, 2, "name")), "accounts[0].extensions[2].name: is required"),
    (
        "name empty",
        _set((*E, 2, "name"), "  "),
        "accounts[0].extensions[2].name: must not be empty",
    ),
    (
        "name too long",
        _set((*A, "name"), "x" * 257),
        "accounts[0].name: is longer than 256 characters",
    ),
    ("client id missing", _delete(("apps", 0, "clientId")), "apps[0].clientId: is required"),
    (
        "client id with a colon",
        _set(("apps", 0, "clientId"), "demo:app"),
        "apps[0].clientId: 'demo:app' must not contain ':'",
    ),
    (
        "email",
        _set((*E, 0, "email"), "olivia"),
        "accounts[0].extensions[0].email: 'olivia' is not an email address",
    ),
    (
        "email twice",
        _set((*E, 1, "email"), "Olivia@acme.example"),
        "accounts[0].extensions[1].email: 'olivia@acme.example' is already used at "
        "accounts[0].extensions[0].email",
    ),
    (
        "typo in a field name",
        _set((*E, 1, "stauts"), "Disabled"),
        "accounts[0].extensions[1].stauts: unknown field; did you mean `status`?",
    ),
    (
        "typo in credentials",
        _set((*E, 1, "credentials"), {"pasword": "x"}),
        "accounts[0].extensions[1].credentials.pasword: unknown field; did you mean `password`?",
    ),
    (
        "list where a mapping belongs",
        _set((*E, 1, "credentials"), ["x"]),
        "accounts[0].extensions[1].credentials: expected a mapping, got a list",
    ),
    (
        "text where a list belongs",
        _set(("apps", 0, "permissions"), "SMS"),
        "apps[0].permissions: expected a list, got a string",
    ),
    (
        "empty password",
        _set((*E, 1, "credentials"), {"password": ""}),
        "accounts[0].extensions[1].credentials.password: must not be empty",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [(m, x) for _, m, x in BAD_VALUES],
    ids=[name for name, _, _ in BAD_VALUES],
)
def test_a_bad_value_is_named_by_its_path(reference: Doc, mutate: Mutation, expected: str) -> None:
    doc = copy.deepcopy(reference)
    mutate(doc)
    message = _refused(doc)
    assert expected in message, message


def test_error_carries_the_path_as_its_parameter(reference: Doc) -> None:
    doc = copy.deepcopy(reference)
    _ext(doc, 3)["type"] = "Usr"
    with pytest.raises(InvalidInput) as caught:
        from_document(doc)
    assert caught.value.parameter_name == "accounts[0].extensions[3].type"
    assert caught.value.error_code == "CMN-101"


def test_a_jwt_used_twice_is_refused_without_printing_it(reference: Doc) -> None:
    doc = copy.deepcopy(reference)
    _ext(doc, 1)["credentials"]["jwt"] = "jwt-olivia-101"
    message = _refused(doc)
    assert (
        "accounts[0].extensions[1].credentials.jwt: is already used at "
        "accounts[0].extensions[0].credentials.jwt" in message
    )
    assert "jwt-olivia-101" not in message


def test_client_ids_and_account_ids_are_unique(reference: Doc) -> None:
    doc = copy.deepcopy(reference)
    doc["apps"].append({"clientId": "demo-app", "clientSecret": "x"})
    second = copy.deepcopy(doc["accounts"][0])
    second["mainNumber"] = "+16509200000"
    second["extensions"] = [{"extensionNumber": "101", "name": "Op"}]
    doc["accounts"].append(second)
    message = _refused(doc)
    assert "apps[1].clientId: 'demo-app' is already used at apps[0].clientId" in message
    assert "accounts[1].id: 1346632010 is already used at accounts[0].id" in message


def test_every_problem_is_listed_not_just_the_first(reference: Doc) -> None:
    doc = copy.deepcopy(reference)
    _ext(doc, 0)["type"] = "Usr"
    _ext(doc, 1)["status"] = "On"
    _ext(doc, 5)["members"] = ["999"]
    lines = _refused(doc).splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [
        "accounts[0].extensions[0].type",
        "accounts[0].extensions[1].status",
        "accounts[0].extensions[5].members[0]",
    ]


def test_a_bad_type_does_not_cause_follow_on_errors(reference: Doc) -> None:
    doc = copy.deepcopy(reference)
    _ext(doc, 5)["type"] = "Dept"  # the department keeps its members
    lines = _refused(doc).splitlines()
    assert len(lines) == 1 and lines[0].startswith("accounts[0].extensions[5].type: 'Dept'")


def test_an_account_needs_an_id_or_a_main_number() -> None:
    message = _refused({"accounts": [{"name": "A", "extensions": []}]})
    assert message.startswith("accounts[0]: give `id` or `mainNumber`")


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([], "document: expected a mapping, got a list"),
        ("accounts", "document: expected a mapping, got a string"),
        (None, "document: empty"),
        ({}, "document: nothing to load"),
        ({"account": []}, "account: unknown field; did you mean `accounts`?"),
        ({"accounts": None}, "accounts: expected a list, got null"),
        ({1: []}, "document: every key must be a string"),
    ],
)
def test_the_document_itself(document: object, expected: str) -> None:
    assert _refused(document).startswith(expected)


def test_yaml_syntax_errors_name_line_and_column() -> None:
    with pytest.raises(UnparsableRequest) as caught:
        parse_yaml(b"accounts:\n  - name: A\n   id: 5\n")
    assert caught.value.message.startswith("YAML can't be parsed: line 3, column ")
    with pytest.raises(UnparsableRequest):
        parse_json(b'{"accounts": [')


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_path(tmp_path)  # a directory
    assert str(tmp_path) in caught.value.message


# -- ids, reports, the demo -------------------------------------------------------------------


def test_derived_ids_are_stable_distinct_and_safe_for_javascript() -> None:
    first = derived_id("extension", 1346632010, "102")
    assert first == derived_id("extension", 1346632010, "102")
    assert first != derived_id("extension", 1346632010, "103")
    assert first != derived_id("extension", 1346632010, "102", attempt=1)
    assert 10**9 <= first <= MAX_ID


def test_load_report_summary() -> None:
    report = LoadReport(
        accounts=((1, "+16509100000"),),
        entries={Kind.ACCOUNT: 1, Kind.EXTENSION: 8, Kind.PHONE_NUMBER: 7, Kind.APP: 1},
        outcomes=Counter({Outcome.CREATED: 17}),
    )
    assert report.summary() == (
        "1 account, 8 extensions, 7 phone numbers, 1 app (created 17, updated 0, unchanged 0)"
    )
    removed = LoadReport(
        report.accounts,
        {**report.entries, Kind.APP: 0},
        Counter({Outcome.UNCHANGED: 15, Outcome.UPDATED: 1, Outcome.REMOVED: 1}),
    )
    assert removed.summary() == (
        "1 account, 8 extensions, 7 phone numbers, 0 apps "
        "(created 0, updated 1, unchanged 15, removed 1)"
    )


def test_demo_fixture_is_valid_and_like_the_reference() -> None:
    demo = demo_fixture()
    acct = demo.accounts[0]
    assert demo.apps[0].client_id == "demo-app" and demo.apps[0].client_secret == "demo-secret"
    assert acct.operator == "101" and acct.main_number
    statuses = {e.status for e in acct.extensions}
    assert {ExtensionStatus.DISABLED, ExtensionStatus.FROZEN} <= statuses
    types = {e.type for e in acct.extensions}
    assert {
        ExtensionType.USER,
        ExtensionType.DEPARTMENT,
        ExtensionType.VOICEMAIL,
        ExtensionType.ANNOUNCEMENT,
    } <= types
    dept = next(e for e in acct.extensions if e.type is ExtensionType.DEPARTMENT)
    assert dept.members
    users = [
        e
        for e in acct.extensions
        if e.type is ExtensionType.USER and e.status is ExtensionStatus.ENABLED
    ]
    assert all(e.password and e.jwt for e in users)  # every user can log in either way


def test_demo_intro_says_how_to_log_in_and_send() -> None:
    text = DemoIntro(demo_fixture(), DemoStatus.PROVISIONED).describe("http://0.0.0.0:8080")
    for expected in [
        "http://127.0.0.1:8080",  # a wildcard bind is reached on loopback
        "demo-app",
        "demo-secret",
        "+16509100000",
        "extension 101",
        "Operator-101!",
        "jwt-olivia-101",
        "curl -s -u demo-app:demo-secret http://127.0.0.1:8080/restapi/oauth/token "
        "-d grant_type=password --data-urlencode username=+16509100000 -d extension=101 "
        "--data-urlencode 'password=Operator-101!'",
        "-d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer -d assertion=jwt-olivia-101",
        "'http://127.0.0.1:8080/restapi/v1.0/account/~/extension/~/sms'",
        '"from":{"phoneNumber":"+16509100010"},"to":[{"phoneNumber":"+16509100020"}]',
    ]:
        assert expected in text, expected
    assert "0.0.0.0" not in text


def test_demo_intro_when_the_database_holds_other_accounts() -> None:
    text = DemoIntro(demo_fixture(), DemoStatus.SKIPPED).describe("http://127.0.0.1:8080")
    assert "not provisioned" in text and "demo-secret" not in text
