"""Copies of reference/fixture.yaml that can live side by side in one server.

Every test provisions its own account so tests never see each other's messages.
`make_fixture(seed)` returns the reference fixture with everything that must be unique
server-wide remapped deterministically from `seed`:

- ids (account, extension, phone number): ``seed * ID_STRIDE + original``. Equal originals stay
  equal (the account id is the operator extension's id, as on RingCentral), and ids stay below
  2**53 so JavaScript clients can read them.
- phone numbers: ``+1 <area> <exchange> <last4>`` where (area, exchange) is a block of 10,000
  numbers owned by the seed, 1..6999 (``AREA_CODES[seed // 700]`` and ``200 + seed % 700``, so
  the exchange is a valid NANP exchange and never the reference fixture's 650-910) and last4 is
  the original number's last four digits, so ext 102's number still ends in 0020. Numbers
  ``<block>9000..9999`` are never provisioned: `ProvisionedAccount.handset(i)` hands them out as
  off-server (carrier) numbers.
- the login identifiers that the server looks up globally: app clientId (``demo-app-s7``), emails
  (``olivia@s7.acme.example``) and JWT assertions (``jwt-olivia-101-s7``).

Extension numbers, names, passwords and the client secret are per account and stay as they are.
`build_account(seed)` wraps the copy in a `ProvisionedAccount` so tests can write
``acct.ext("102").id``, ``acct.ext("102").number``, ``acct.main_number``, ``acct.password("102")``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final

import yaml

from tests.support.openapi import REPO_ROOT

FIXTURE_PATH: Final = REPO_ROOT / "reference" / "fixture.yaml"

ID_STRIDE: Final = 10**11
# Real California area codes; each gives 700 seeds.
AREA_CODES: Final = ("650", "415", "408", "510", "925", "707", "831", "916", "530", "209")
_SEEDS_PER_AREA: Final = 700
# Seed 0 would keep the reference ids, so seeds start at 1.
MIN_SEED: Final = 1
MAX_SEED: Final = len(AREA_CODES) * _SEEDS_PER_AREA - 1
_HANDSET_PREFIX: Final = "9"  # last4 = 9xxx is reserved for handsets

# Changes a fixture document in place (`build_account(seed, edit=...)`); what it returns is ignored.
FixtureEdit = Callable[[dict[str, Any]], object]


@cache
def _reference_document(path: Path = FIXTURE_PATH) -> Mapping[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as fh:
        doc = yaml.load(fh, Loader=loader)  # a safe loader: CSafeLoader or SafeLoader
    if not isinstance(doc, dict) or not doc.get("accounts"):
        raise ValueError(f"{path} has no accounts")
    return doc


def number_block(seed: int) -> str:
    """The `+1AAAEEE` prefix of all numbers of `seed` (7 digits after +1)."""
    if not MIN_SEED <= seed <= MAX_SEED:
        raise ValueError(f"seed must be in {MIN_SEED}..{MAX_SEED}, got {seed}")
    return f"+1{AREA_CODES[seed // _SEEDS_PER_AREA]}{200 + seed % _SEEDS_PER_AREA}"


def remap_id(seed: int, original: int) -> int:
    if not 0 <= original < ID_STRIDE:
        raise ValueError(f"fixture id {original} is outside 0..{ID_STRIDE - 1}")
    number_block(seed)  # validates the seed
    return seed * ID_STRIDE + original


def remap_number(seed: int, original: str) -> str:
    if not (original.startswith("+1") and len(original) == 12 and original[1:].isdigit()):
        raise ValueError(f"fixture number {original!r} is not a +1 E.164 number")
    last4 = original[-4:]
    if last4.startswith(_HANDSET_PREFIX):
        raise ValueError(f"fixture number {original!r}: last4 9xxx is reserved for handsets")
    return number_block(seed) + last4


def _remap_email(seed: int, email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local}@s{seed}.{domain}"


def make_fixture(seed: int) -> dict[str, Any]:
    """A deep copy of reference/fixture.yaml remapped for `seed` (see module doc)."""
    doc: dict[str, Any] = copy.deepcopy(dict(_reference_document()))
    for app in doc.get("apps", []):
        app["clientId"] = f"{app['clientId']}-s{seed}"
    for account in doc["accounts"]:
        account["id"] = remap_id(seed, account["id"])
        if "mainNumber" in account:
            account["mainNumber"] = remap_number(seed, account["mainNumber"])
        if "email" in account:
            account["email"] = _remap_email(seed, account["email"])
        for ext in account.get("extensions", []):
            if "id" in ext:
                ext["id"] = remap_id(seed, ext["id"])
            if "email" in ext:
                ext["email"] = _remap_email(seed, ext["email"])
            credentials = ext.get("credentials") or {}
            if "jwt" in credentials:
                credentials["jwt"] = f"{credentials['jwt']}-s{seed}"
            for phone in ext.get("phoneNumbers", []):
                if "id" in phone:
                    phone["id"] = remap_id(seed, phone["id"])
                phone["phoneNumber"] = remap_number(seed, phone["phoneNumber"])
    _assert_fully_remapped(_reference_document(), doc)
    return doc


def _leaves(node: Any, path: str = "$") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, f"{path}[{index}]")
    else:
        yield path, node


def _assert_fully_remapped(original: Mapping[str, Any], copy_: Mapping[str, Any]) -> None:
    """Fail if a value that must be unique survives unmapped somewhere in the copy, e.g. because
    fixture.yaml grew a field (an id list, a forwarding number) that make_fixture doesn't know."""
    unique: set[Any] = set()
    for path, value in _leaves(original):
        last = path.rsplit(".", 1)[-1]
        if last in {"id", "mainNumber", "phoneNumber", "clientId", "email", "jwt"}:
            unique.add(value)
    for path, value in _leaves(copy_):
        if value in unique and not isinstance(value, bool):
            raise AssertionError(f"make_fixture left {path} = {value!r} unmapped")


@dataclass(frozen=True)
class PhoneNumber:
    id: int
    phone_number: str
    usage_type: str
    features: tuple[str, ...]

    @property
    def sms_sender(self) -> bool:
        return "SmsSender" in self.features


@dataclass(frozen=True)
class Extension:
    extension_number: str
    id: int
    type: str
    status: str
    name: str
    email: str | None
    admin: bool
    password: str | None
    jwt: str | None
    members: tuple[str, ...]
    phone_numbers: tuple[PhoneNumber, ...]

    @property
    def number(self) -> str:
        """The extension's (first) direct number, E.164."""
        direct = [p for p in self.phone_numbers if p.usage_type == "DirectNumber"]
        chosen = direct or list(self.phone_numbers)
        if not chosen:
            raise LookupError(f"extension {self.extension_number} has no phone number")
        return chosen[0].phone_number

    @property
    def sms_numbers(self) -> tuple[str, ...]:
        return tuple(p.phone_number for p in self.phone_numbers if p.sms_sender)


def _extension(raw: Mapping[str, Any]) -> Extension:
    if "id" not in raw:
        raise ValueError(f"fixture extension {raw.get('extensionNumber')} has no id")
    credentials = raw.get("credentials") or {}
    return Extension(
        extension_number=str(raw["extensionNumber"]),
        id=int(raw["id"]),
        type=str(raw.get("type", "User")),
        status=str(raw.get("status", "Enabled")),
        name=str(raw.get("name", "")),
        email=raw.get("email"),
        admin=bool(raw.get("admin", False)),
        password=credentials.get("password"),
        jwt=credentials.get("jwt"),
        members=tuple(str(m) for m in raw.get("members", ())),
        phone_numbers=tuple(
            PhoneNumber(
                int(p["id"]),
                str(p["phoneNumber"]),
                str(p.get("usageType", "")),
                tuple(p.get("features", ())),
            )
            for p in raw.get("phoneNumbers", ())
        ),
    )


@dataclass(frozen=True)
class ProvisionedAccount:
    """One remapped copy of the fixture's (first) account plus its (first) app."""

    seed: int
    document: dict[str, Any] = field(repr=False)  # what to POST to /_ringlet/fixtures
    id: int
    name: str
    main_number: str
    operator: str  # extensionNumber of the operator extension
    client_id: str
    client_secret: str
    extensions: Mapping[str, Extension] = field(repr=False)

    def ext(self, extension_number: str) -> Extension:
        try:
            return self.extensions[extension_number]
        except KeyError:
            known = ", ".join(self.extensions)
            raise KeyError(f"no extension {extension_number!r} in the fixture ({known})") from None

    @property
    def operator_ext(self) -> Extension:
        return self.ext(self.operator)

    def password(self, extension_number: str) -> str:
        pw = self.ext(extension_number).password
        if pw is None:
            raise LookupError(f"extension {extension_number} has no password in the fixture")
        return pw

    def jwt(self, extension_number: str) -> str:
        token = self.ext(extension_number).jwt
        if token is None:
            raise LookupError(f"extension {extension_number} has no jwt in the fixture")
        return token

    def handset(self, index: int = 0) -> str:
        """An E.164 number no extension on the server owns (a phone on a mobile carrier)."""
        if not 0 <= index <= 999:
            raise ValueError("handset index must be in 0..999")
        return f"{number_block(self.seed)}{_HANDSET_PREFIX}{index:03d}"

    def new_id(self, original: int) -> int:
        """The id that `original` (an id in reference/fixture.yaml) has in this copy."""
        return remap_id(self.seed, original)

    def new_number(self, original: str) -> str:
        """The number that `original` (a number in reference/fixture.yaml) has in this copy."""
        return remap_number(self.seed, original)


def build_account(seed: int, edit: FixtureEdit | None = None) -> ProvisionedAccount:
    """`make_fixture(seed)` wrapped for tests (see ProvisionedAccount).

    `edit(doc)`, if given, changes the remapped document in place first (add an extension, drop
    an app permission...); the ProvisionedAccount then describes the edited document. Whatever
    the edit adds is not remapped: values that must be unique server-wide are its business.
    """
    doc = make_fixture(seed)
    if edit is not None:
        edit(doc)
    account = doc["accounts"][0]
    apps = doc.get("apps") or [{}]
    extensions = {e.extension_number: e for e in map(_extension, account.get("extensions", []))}
    return ProvisionedAccount(
        seed=seed,
        document=doc,
        id=int(account["id"]),
        name=str(account.get("name", "")),
        main_number=str(account["mainNumber"]),
        operator=str(account.get("operator", "101")),
        client_id=str(apps[0].get("clientId", "")),
        client_secret=str(apps[0].get("clientSecret", "")),
        extensions=extensions,
    )
