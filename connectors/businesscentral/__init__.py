"""Dynamics 365 Business Central API v2.0 connector: incremental by `$filter` on lastModifiedDateTime,
paged by `@odata.nextLink`, document lines expanded inline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from connectors.base import Stream, Window
from connectors.businesscentral.client import api_client, first_page
from connectors.businesscentral.streams import BusinessCentralStream, streams_for
from connectors.http.client import ApiClient
from connectors.http.connector import HttpConnector
from connectors.http.paginators import NextLinkPaginator, paginate

__all__ = ["BusinessCentralConnector"]


class BusinessCentralConnector(HttpConnector):
    system = "businesscentral"

    def open_client(self, timeout: httpx.Timeout | None) -> ApiClient:
        return api_client(self.connection, transport=self.transport, timeout=timeout)

    def streams(self) -> list[Stream]:
        return list(streams_for(self.connection.entities))

    async def read(self, stream: Stream, window: Window) -> AsyncIterator[list[dict[str, Any]]]:
        if not isinstance(stream, BusinessCentralStream):
            raise TypeError(f"{self.connection.id}: {stream.name!r} is not a Business Central stream: take one from streams()")
        first = first_page(self.connection, stream, window)
        async for records in paginate(self.client, first, NextLinkPaginator(), lambda payload: payload["value"]):
            yield records
