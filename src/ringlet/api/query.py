"""Query parameters, parsed once: repeated keys for lists, enums by wire value, and a
CMN-101 naming the parameter for anything that does not parse."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import TypeVar
from urllib.parse import parse_qsl

from ringlet.clock import parse_iso
from ringlet.domain.errors import InvalidParameter
from ringlet.domain.text import check_storable

E = TypeVar("E", bound=Enum)


class Query:
    """The parameters of one query string, decoded as Starlette's QueryParams decodes them
    (the last of repeated keys is the value, all of them the list), into a plain dict: every
    list request asks for a dozen parameters, most of them absent."""

    __slots__ = ("_params",)

    def __init__(self, query_string: str) -> None:
        params: dict[str, list[str]] = {}
        for name, value in parse_qsl(query_string, keep_blank_values=True):
            check_storable(value, name)  # every value may reach a database query
            params.setdefault(name, []).append(value)
        self._params = params

    def has(self, name: str) -> bool:
        return name in self._params

    def text(self, name: str) -> str | None:
        values = self._params.get(name)
        return values[-1] if values and values[-1] else None

    def texts(self, name: str) -> list[str]:
        """Repeated keys (`type=A&type=B`); comma-separated values are accepted too."""
        out: list[str] = []
        for raw in self._params.get(name, ()):
            out.extend(part.strip() for part in raw.split(",") if part.strip())
        return out

    def integer(self, name: str, *, minimum: int | None = None) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            raise InvalidParameter(name, value=value) from None
        if minimum is not None and number < minimum:
            raise InvalidParameter(name, f"must be at least {minimum}", value=value)
        return number

    def integers(self, name: str) -> list[int]:
        out = []
        for value in self.texts(name):
            try:
                out.append(int(value))
            except ValueError:
                raise InvalidParameter(name, value=value) from None
        return out

    def boolean(self, name: str) -> bool | None:
        value = self.text(name)
        if value is None:
            return None
        lowered = value.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise InvalidParameter(name, value=value)

    def enum(self, name: str, kind: type[E]) -> E | None:
        value = self.text(name)
        return None if value is None else _member(kind, name, value)

    def enums(self, name: str, kind: type[E], allowed: Sequence[E] | None = None) -> list[E]:
        members = [_member(kind, name, v) for v in self.texts(name)]
        if allowed is not None:
            for m in members:
                if m not in allowed:
                    raise InvalidParameter(name, value=str(m.value))
        return members

    def time_ms(self, name: str) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return parse_iso(value)
        except ValueError:
            raise InvalidParameter(name, "expected an ISO 8601 date-time", value=value) from None


def _member(kind: type[E], name: str, value: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise InvalidParameter(name, value=value) from None
