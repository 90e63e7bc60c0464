"""Fixture remapping: copies for different seeds never share an id, number or login name."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.support.fixtures import (
    MAX_SEED,
    MIN_SEED,
    ProvisionedAccount,
    _reference_document,
    build_account,
    make_fixture,
    number_block,
)

E164_US = re.compile(r"\+1[2-9]\d{2}[2-9]\d{6}")


def unique_values(acct: ProvisionedAccount) -> set[Any]:
    doc = acct.document
    values: set[Any] = {app["clientId"] for app in doc["apps"]}
    for account in doc["accounts"]:
        values |= {account["id"], account["mainNumber"]}
        for ext in account["extensions"]:
            values |= {ext["id"], ext.get("email"), (ext.get("credentials") or {}).get("jwt")}
            for phone in ext.get("phoneNumbers", []):
                values |= {phone["id"], phone["phoneNumber"]}
    values.discard(None)
    return values


def phone_numbers(acct: ProvisionedAccount) -> Iterator[str]:
    yield acct.main_number
    for ext in acct.extensions.values():
        for phone in ext.phone_numbers:
            yield phone.phone_number


def test_different_seeds_share_nothing() -> None:
    seeds = [MIN_SEED, 2, 699, 700, 701, 1400, MAX_SEED]
    seen: set[Any] = set()
    for seed in seeds:
        values = unique_values(build_account(seed))
        assert not values & seen, f"seed {seed} reuses {values & seen}"
        seen |= values


def test_blocks_are_unique_for_every_seed() -> None:
    blocks = [number_block(seed) for seed in range(MIN_SEED, MAX_SEED + 1)]
    assert len(set(blocks)) == len(blocks)


def test_deterministic() -> None:
    assert make_fixture(5) == make_fixture(5)
    assert build_account(5).ext("102").id == build_account(5).ext("102").id


def test_reference_document_untouched() -> None:
    before = repr(_reference_document())
    make_fixture(9)["accounts"][0]["name"] = "changed"
    assert repr(_reference_document()) == before


def test_numbers_are_e164_and_keep_last_four() -> None:
    acct = build_account(42)
    for number in phone_numbers(acct):
        assert E164_US.fullmatch(number), number
    assert acct.main_number.endswith("0000")
    assert acct.ext("102").number.endswith("0020")
    assert acct.ext("201").number.endswith("0201")
    assert acct.new_number("+16509100020") == acct.ext("102").number


def test_ids_keep_relationships() -> None:
    acct = build_account(3)
    # the account id is the operator extension's id in the reference fixture; it stays so
    assert acct.id == acct.operator_ext.id == acct.ext("101").id
    assert acct.new_id(1346632102) == acct.ext("102").id
    assert all(0 < i < 2**53 for i in unique_values(acct) if isinstance(i, int))


def test_account_accessors() -> None:
    acct = build_account(11)
    assert acct.client_id == "demo-app-s11"
    assert acct.client_secret == "demo-secret"
    assert acct.password("102") == "Bob-102!"
    assert acct.jwt("101") == "jwt-olivia-101-s11"
    assert acct.operator == "101"
    assert acct.ext("101").email == "olivia@s11.acme.example"
    assert acct.ext("103").sms_numbers == ()
    assert acct.ext("201").type == "Department"
    assert acct.ext("201").members == ("102", "103", "104")
    assert acct.ext("104").status == "Disabled"
    with pytest.raises(KeyError, match="999"):
        acct.ext("999")
    with pytest.raises(LookupError):
        _ = acct.ext("105").number
    with pytest.raises(LookupError):
        acct.password("104")


def test_handsets_are_not_provisioned() -> None:
    acct = build_account(8)
    owned = set(phone_numbers(acct))
    handsets = {acct.handset(i) for i in range(1000)}
    assert len(handsets) == 1000
    assert not handsets & owned
    assert all(E164_US.fullmatch(h) for h in handsets)
    assert not handsets & set(phone_numbers(build_account(9)))


@pytest.mark.parametrize("seed", [0, -1, MAX_SEED + 1])
def test_seed_range(seed: int) -> None:
    with pytest.raises(ValueError, match="seed"):
        make_fixture(seed)


# -- edits: build_account(seed, edit=...) and conftest's new_account(edit=...) -----------------


def _add_extension(doc: dict[str, Any]) -> None:
    account = doc["accounts"][0]
    account["extensions"].append(
        {"id": account["id"] + 900, "extensionNumber": "190", "name": "Extra", "type": "User"}
    )
    account["name"] = "Edited Inc."
    doc["apps"][0]["permissions"] = ["ReadAccounts"]


def test_edit_changes_the_document_and_the_description() -> None:
    acct = build_account(12, edit=_add_extension)
    assert acct.document["apps"][0]["permissions"] == ["ReadAccounts"]
    assert acct.name == "Edited Inc."
    assert acct.ext("190").id == acct.id + 900
    assert acct.ext("102") == build_account(12).ext("102")  # the rest is the usual copy
    with pytest.raises(KeyError):
        build_account(12).ext("190")  # no edit, no extension 190
    assert "Edited Inc." not in repr(_reference_document())


def test_edit_return_value_is_ignored() -> None:
    # `lambda doc: doc[...].pop()` returns what it removed; only the in-place change counts.
    acct = build_account(13, edit=lambda doc: doc["accounts"][0]["extensions"].pop())
    assert acct.document["accounts"][0]["id"] == acct.id
    assert len(acct.extensions) == len(build_account(13).extensions) - 1


class _RecordingServer:
    """Stands in for RingletServer in conftest's `new_account` (no process, no database)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.provisioned: list[Mapping[str, Any]] = []

    def provision(self, document: Mapping[str, Any]) -> None:
        self.provisioned.append(document)


@pytest.fixture
def server(tmp_path: Path) -> _RecordingServer:  # overrides conftest's real server here
    return _RecordingServer(f"sqlite:///{tmp_path}/never-opened.db")


def test_new_account_factory(
    new_account: Callable[..., ProvisionedAccount], server: _RecordingServer
) -> None:
    plain = new_account()
    edited = new_account(edit=_add_extension)
    assert [doc["accounts"][0]["id"] for doc in server.provisioned] == [plain.id, edited.id]
    assert plain.seed != edited.seed
    assert server.provisioned[1] is edited.document
    assert edited.ext("190").extension_number == "190"
    assert "190" not in plain.extensions
    assert server.provisioned[1]["apps"][0]["permissions"] == ["ReadAccounts"]


def test_account_fixture_is_an_unedited_copy(
    account: ProvisionedAccount, server: _RecordingServer
) -> None:
    assert server.provisioned == [account.document]
    assert account.document == make_fixture(account.seed)
