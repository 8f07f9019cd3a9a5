"""Shopify Admin REST connector: orders, customers, products and inventory levels, incremental by
updated_at_min/max, paged by Link-header page_info cursors under the shop's leaky bucket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from connectors.base import Stream, Window
from connectors.http.client import ApiClient
from connectors.http.connector import HttpConnector
from connectors.http.paginators import LinkHeaderPaginator, paginate
from connectors.http.settings import page_size_setting
from connectors.shopify.client import MAX_PAGE_SIZE, api_client, first_page, location_ids
from connectors.shopify.streams import ShopifyStream, streams_for

__all__ = ["ShopifyConnector"]


class ShopifyConnector(HttpConnector):
    system = "shopify"

    def open_client(self, timeout: httpx.Timeout | None) -> ApiClient:
        return api_client(self.connection, transport=self.transport, timeout=timeout)

    def streams(self) -> list[Stream]:
        return list(streams_for(self.connection.entities))

    async def read(self, stream: Stream, window: Window) -> AsyncIterator[list[dict[str, Any]]]:
        if not isinstance(stream, ShopifyStream):
            raise TypeError(f"{self.connection.id}: {stream.name!r} is not a Shopify stream: take one from streams()")
        locations = None
        if stream.by_location:
            _, payload = await self.client.json("GET", "locations.json")
            locations = location_ids(payload)
            if not locations:
                return
        first = first_page(stream, window, limit=page_size_setting(self.connection, MAX_PAGE_SIZE), location_ids=locations)
        pages = paginate(self.client, first, LinkHeaderPaginator(), lambda payload: payload.get(stream.envelope, []))
        async for records in pages:
            yield records
