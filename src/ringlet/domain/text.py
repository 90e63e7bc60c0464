"""R3: message text is measured in UTF-16 code units; and the one rule for any text ringlet
keeps or looks up (`check_storable`)."""

from __future__ import annotations

from ringlet.domain.enums import MessageType
from ringlet.domain.errors import InvalidParameter

TEXT_LIMITS: dict[MessageType, int] = {MessageType.SMS: 1000, MessageType.PAGER: 1024}


def utf16_length(text: str) -> int:
    """Code units in UTF-16: a character outside the BMP (most emoji) counts as 2."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def check_storable(value: str, parameter: str) -> None:
    """Text may hold any character but NUL (U+0000). PostgreSQL's text type cannot hold NUL
    and SQLite would keep it, so the rule is ringlet's, the same on both: a message text, a
    name, an email, a query or form value with NUL is refused (400 CMN-101 naming it), before
    any database sees it. (JSON cannot carry a raw NUL, only `\\u0000`; lone surrogates do not
    decode, so they never get this far.)"""
    if "\x00" in value:
        raise InvalidParameter(parameter, "the NUL character (U+0000) is not allowed")


def check_text(text: str, message_type: MessageType) -> None:
    """R3: refuse empty text and text over the limit of its message type."""
    if not text:
        raise InvalidParameter("text", "the text is empty")
    check_storable(text, "text")
    limit = TEXT_LIMITS[message_type]
    units = utf16_length(text)
    if units > limit:
        raise InvalidParameter(
            "text",
            f"{units} UTF-16 code units; a {message_type.value} message holds at most {limit}",
        )
