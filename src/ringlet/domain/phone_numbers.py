"""Phone-number syntax: what counts as a handset number, an extension number or a short code."""

from __future__ import annotations

import re
from collections.abc import Callable

from ringlet.domain.errors import (
    InvalidParameter,
    RecipientIsExtensionNumber,
    RecipientIsShortNumber,
)

_E164 = re.compile(r"\+?[1-9]\d{9,14}")
_SEPARATORS = re.compile(r"[\s().-]")
_SHORT = re.compile(r"\d{3,8}")


def normalize(raw: str, parameter: str) -> str:
    """A phone number as E.164 with `+`. Separators are dropped; a leading space stands for the
    `+` that a client sent unencoded in a query string."""
    digits = _SEPARATORS.sub("", raw)
    if not _E164.fullmatch(digits):
        raise InvalidParameter(parameter, value=raw)
    return digits if digits.startswith("+") else "+" + digits


def normalize_recipient(raw: str, is_extension_number: Callable[[str], bool]) -> str:
    """An SMS recipient (R4): a full number; extension numbers and short codes are refused
    with their own codes. `is_extension_number` is asked only about short numbers."""
    compact = _SEPARATORS.sub("", raw)
    if _SHORT.fullmatch(compact):
        if is_extension_number(compact):
            raise RecipientIsExtensionNumber()
        raise RecipientIsShortNumber()
    return normalize(raw, "to.phoneNumber")
