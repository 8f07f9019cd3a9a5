"""Paginators: each only finds the next page from the current one. `paginate` drives any of them through an
ApiClient; a next page identical to one already asked for is an API bug and stops the walk loudly."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from connectors.http.client import ApiClient


class PaginationLoop(Exception):
    """The source sent us back to a page we already read."""


@dataclass(frozen=True)
class PageRequest:
    url: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)

    def key(self) -> bytes:
        return orjson.dumps([self.method, self.url, self.params, self.json], option=orjson.OPT_SORT_KEYS)


class Paginator(ABC):
    @abstractmethod
    def next_page(self, page: PageRequest, response: httpx.Response, payload: Any, records: list[Any]) -> PageRequest | None:
        """The request for the page after `page`, or None at the end."""


class LinkHeaderPaginator(Paginator):
    """RFC 8288 `Link: <url>; rel="next"` (Shopify's page_info cursors)."""

    def next_page(self, page, response, payload, records):
        nxt = response.links.get("next", {}).get("url")
        return PageRequest(nxt, headers=page.headers) if nxt else None


class NextLinkPaginator(Paginator):
    """A next-page URL inside the body: OData's `@odata.nextLink`, or a `links` entry with rel=next."""

    def __init__(self, field: str = "@odata.nextLink") -> None:
        self._field = field

    def next_page(self, page, response, payload, records):
        nxt = payload.get(self._field)
        if nxt is None and self._field == "links":
            nxt = next((link["href"] for link in payload.get("links", []) if link.get("rel") == "next"), None)
        return PageRequest(nxt, headers=page.headers, method=page.method, json=page.json) if nxt else None


class OffsetPaginator(Paginator):
    """Position-based paging (QuickBooks STARTPOSITION, NetSuite offset, Odoo offset, Xero page numbers):
    `build(offset)` makes the request for a position; the walk ends on a short page or when `has_more`
    (NetSuite's hasMore) says so."""

    def __init__(self, build: Callable[[int], PageRequest], page_size: int, has_more: Callable[[Any], bool] | None = None) -> None:
        self._build, self.page_size, self._has_more = build, page_size, has_more
        self._offset = 0

    def first(self) -> PageRequest:
        return self._build(0)

    def next_page(self, page, response, payload, records):
        done = not self._has_more(payload) if self._has_more else len(records) < self.page_size
        if done:
            return None
        self._offset += len(records)
        return self._build(self._offset)


class SinglePage(Paginator):
    """A listing the source never pages (Xero's Items): one request holds everything."""

    def next_page(self, page, response, payload, records):
        return None


async def paginate(
    client: ApiClient, first: PageRequest, paginator: Paginator, records_of: Callable[[Any], list[Any]],
) -> AsyncIterator[list[Any]]:
    """Yield each page's records, following `paginator` until it ends."""
    seen: set[bytes] = set()
    page: PageRequest | None = first
    while page is not None:
        if page.key() in seen:
            raise PaginationLoop(f"{client.label}: the source sent us back to {page.method} {page.url} {page.params}")
        seen.add(page.key())
        response, payload = await client.json(page.method, page.url, params=page.params or None, json=page.json, headers=page.headers or None)
        records = records_of(payload)
        yield records
        page = paginator.next_page(page, response, payload, records)
