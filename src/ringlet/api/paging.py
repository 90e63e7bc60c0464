"""Classic RingCentral paging, one copy for every list: `page` (1-based) and `perPage`
(default 100, capped at 1000, not refused), `paging{}` and `navigation{}` as the facts file
describes them, and a list `uri` that echoes the effective query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

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


def _uri(base: str, params: Sequence[tuple[str, str]], page: int, per_page: int) -> str:
    query = [*params, ("page", str(page)), ("perPage", str(per_page))]
    return f"{base}?{urlencode(query, safe=':')}"


def paged_body(
    records: list[Any],
    total: int,
    request: PageRequest,
    base_uri: str,
    params: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """`{uri, records, paging, navigation}` for one page of a list of `total` items.
    `params` are the effective filters (defaults included), echoed in every uri."""
    per_page = request.per_page
    total_pages = max(1, -(-total // per_page))
    paging: dict[str, Any] = {"page": request.page, "perPage": per_page}
    if records:
        paging["pageStart"] = request.offset
        paging["pageEnd"] = request.offset + len(records) - 1
    paging["totalPages"] = total_pages
    paging["totalElements"] = total

    def link(page: int) -> dict[str, str]:
        return {"uri": _uri(base_uri, params, page, per_page)}

    navigation: dict[str, Any] = {"firstPage": link(1)}
    if request.page < total_pages:
        navigation["nextPage"] = link(request.page + 1)
    if 1 < request.page <= total_pages + 1:
        navigation["previousPage"] = link(request.page - 1)
    navigation["lastPage"] = link(total_pages)
    return {
        "uri": _uri(base_uri, params, request.page, per_page),
        "records": records,
        "paging": paging,
        "navigation": navigation,
    }
