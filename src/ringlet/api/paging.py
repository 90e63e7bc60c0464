"""Classic RingCentral paging, one copy for every list: `page` (1-based) and `perPage`
(default 100, capped at 1000, not refused), `paging{}` and `navigation{}` as the facts file
describes them, and a list `uri` that echoes the effective query."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from ringlet.api.query import Query
from ringlet.domain.errors import InvalidParameter

MAX_PER_PAGE = 1000
# Far beyond any store, and small enough that page * perPage stays a 64-bit offset.
MAX_PAGE = 1_000_000


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def page_request(query: Query, default_per_page: int = 100) -> PageRequest:
    page = query.integer("page", minimum=1) or 1
    if page > MAX_PAGE:
        raise InvalidParameter("page", f"must be at most {MAX_PAGE}", value=str(page))
    per_page = query.integer("perPage", minimum=1) or default_per_page
    return PageRequest(page, min(per_page, MAX_PER_PAGE))


# What quote_plus(safe=":") leaves as it is: a value made of these only needs no quoting (the
# usual case: enum values, numbers, ISO times), and skipping the call saves a quarter of a page.
_PLAIN = re.compile(r"[A-Za-z0-9_.~:-]*")


def _quote(text: str) -> str:
    return text if _PLAIN.fullmatch(text) else quote_plus(text, safe=":")


def _urlencode(params: Sequence[tuple[str, str]]) -> str:
    """urlencode(params, safe=":"), faster for plain values."""
    return "&".join(f"{_quote(k)}={_quote(v)}" for k, v in params)


class _Uris:
    """The uris of one list's pages: the filters are encoded once for all of them (the same
    text as urlencode over filters, page and perPage together)."""

    __slots__ = ("_prefix", "_suffix")

    def __init__(self, base: str, params: Sequence[tuple[str, str]], per_page: int) -> None:
        encoded = _urlencode(params)
        self._prefix = f"{base}?{encoded}&page=" if encoded else f"{base}?page="
        self._suffix = f"&perPage={per_page}"

    def __call__(self, page: int) -> str:
        return f"{self._prefix}{page}{self._suffix}"


def paged_body(
    records: list[Any],
    total: int | None,
    request: PageRequest,
    base_uri: str,
    params: Sequence[tuple[str, str]] = (),
    *,
    has_more: bool = False,
) -> dict[str, Any]:
    """`{uri, records, paging, navigation}` for one page of a list of `total` items.
    `params` are the effective filters (defaults included), echoed in every uri.

    `total` None: the list was not counted (the message store: counting reads every matching
    row), and `has_more` says whether records follow this page. The totals and `lastPage` are
    then given only when this page is known to be the last one (total = its offset + its
    records); `nextPage` when more follow; `previousPage` on any page after the first.
    RingCentral's paging info allows leaving the totals out."""
    per_page = request.per_page
    if total is None and not has_more and (records or request.page == 1):
        total = request.offset + len(records)
    paging: dict[str, Any] = {"page": request.page, "perPage": per_page}
    if records:
        paging["pageStart"] = request.offset
        paging["pageEnd"] = request.offset + len(records) - 1

    uri = _Uris(base_uri, params, per_page)

    def link(page: int) -> dict[str, str]:
        return {"uri": uri(page)}

    navigation: dict[str, Any] = {"firstPage": link(1)}
    if total is None:
        if has_more:
            navigation["nextPage"] = link(request.page + 1)
        if request.page > 1:
            navigation["previousPage"] = link(request.page - 1)
    else:
        total_pages = max(1, -(-total // per_page))
        paging["totalPages"] = total_pages
        paging["totalElements"] = total
        if request.page < total_pages:
            navigation["nextPage"] = link(request.page + 1)
        if 1 < request.page <= total_pages + 1:
            navigation["previousPage"] = link(request.page - 1)
        navigation["lastPage"] = link(total_pages)
    return {
        "uri": uri(request.page),
        "records": records,
        "paging": paging,
        "navigation": navigation,
    }
