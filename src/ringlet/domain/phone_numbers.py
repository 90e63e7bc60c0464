"""Phone numbers, read as RingCentral reads them: with Google's libphonenumber (`phonenumbers`),
in the account's country. Every number ringlet reads goes through `parse_number`: a send's
`from` and `to`, the message list's `phoneNumber` filter, fixture files, login usernames.

- International (`+44 20 7183 8750`) and national (`(415) 555-0100`, `4155550100`,
  `14151003732` with the US national prefix) forms, with any separators libphonenumber knows.
- A number must be possible for its country (its length fits); it need not be assigned to a
  carrier, so the fictional numbers of test fixtures (555 exchanges, `14151003732`) are read.
- An extension (`415-555-0100 ext. 12`) is not part of a phone number: refused, named.
- The result is E.164 (`+14155550100`), the one form ringlet stores, compares and echoes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Final

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from ringlet.domain.errors import (
    InvalidParameter,
    RecipientIsExtensionNumber,
    RecipientIsShortNumber,
)

# An account's country when its fixture names none (RingCentral's first market).
DEFAULT_COUNTRY: Final = "US"
# The ISO 3166-1 alpha-2 codes libphonenumber has numbering plans for.
COUNTRIES: Final = frozenset(phonenumbers.SUPPORTED_REGIONS)

_SEPARATORS = re.compile(r"[\s().-]")
_SHORT = re.compile(r"[0-9]{3,8}")


def is_country(code: str) -> bool:
    return code in COUNTRIES


def calling_code(country: str) -> str:
    """`1` for US, `44` for GB: what an international number of the country starts with."""
    return str(phonenumbers.country_code_for_region(country))


def parse_number(raw: str, parameter: str, country: str = DEFAULT_COUNTRY) -> str:
    """`raw` as E.164, read in `country` unless it is international; else 400 CMN-101 naming
    `parameter`. A leading space stands for the `+` that a client sent unencoded in a query
    string (`?phoneNumber=+1650...` arrives as ` 1650...`): tried as international first."""
    if raw[:1].isspace() and raw.strip()[:1].isdigit():
        international = _parse(f"+{raw.strip()}", parameter, country, raw)
        if international is not None:
            return international
    found = _parse(raw, parameter, country, raw)
    if found is None:
        raise InvalidParameter(parameter, value=raw[:40])
    return found


def parse_e164(raw: str, parameter: str) -> str:
    """A number that is E.164 by contract (ringlet's own /_ringlet/ endpoints: handsets,
    carrier rules and reports), its `+` optional: `14155550123` is `+14155550123`, never a
    national number of some account's country."""
    text = raw.strip()
    return parse_number(text if text.startswith("+") else f"+{text}", parameter)


@lru_cache(maxsize=4096)
def _parse(text: str, parameter: str, country: str, raw: str) -> str | None:
    """E.164, or None if `text` is no possible number (lru_cache: the same few numbers are read
    over and over, and libphonenumber's parse is some tens of microseconds)."""
    try:
        number = phonenumbers.parse(text, country)
    except NumberParseException:
        return None
    if number.extension:
        raise InvalidParameter(
            parameter, "a phone number with an extension cannot be used here", value=raw[:40]
        )
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def normalize_recipient(
    raw: str, is_extension_number: Callable[[str], bool], country: str = DEFAULT_COUNTRY
) -> str:
    """An SMS recipient (R4): a full number; extension numbers and short codes are refused
    with their own codes. `is_extension_number` is asked only about short numbers."""
    compact = _SEPARATORS.sub("", raw)
    if _SHORT.fullmatch(compact):
        if is_extension_number(compact):
            raise RecipientIsExtensionNumber()
        raise RecipientIsShortNumber()
    return parse_number(raw, "to.phoneNumber", country)
