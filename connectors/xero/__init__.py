"""Xero Accounting API connector: incremental by If-Modified-Since, paged by page number, deletions from
the Status DELETED / VOIDED and archived-contact listings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from connectors.base import Stream, Window
from connectors.http.client import ApiClient
from connectors.http.connector import HttpConnector
from connectors.http.paginators import paginate
from connectors.xero.client import api_client, first_page_and_paginator
from connectors.xero.streams import XeroStream, streams_for

__all__ = ["XeroConnector"]


class XeroConnector(HttpConnector):
    system = "xero"

    def open_client(self, timeout: httpx.Timeout | None) -> ApiClient:
        return api_client(self.connection, transport=self.transport, timeout=timeout)

    def streams(self) -> list[Stream]:
        return list(streams_for(self.connection.entities))

    async def read(self, stream: Stream, window: Window) -> AsyncIterator[list[dict[str, Any]]]:
        """Xero filters by update time from `window.since` only: records updated after `window.until` arrive
        too, and the next run reads them again (bronze keeps one)."""
        if not isinstance(stream, XeroStream):
            raise TypeError(f"{self.connection.id}: {stream.name!r} is not a Xero stream: take one from streams()")
        first, paginator = first_page_and_paginator(stream, window.since)
        async for records in paginate(self.client, first, paginator, lambda payload: payload.get(stream.resource, [])):
            yield records
