"""QuickBooks Online connector: every entity by the query language (STARTPOSITION / MAXRESULTS over
MetaData.LastUpdatedTime), deleted transactions by change data capture, behind OAuth2 with rotating
refresh tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from connectors.base import Stream, Window
from connectors.http.client import ApiClient
from connectors.http.connector import HttpConnector
from connectors.http.paginators import paginate
from connectors.http.settings import page_size_setting
from connectors.quickbooks.client import (
    MAX_RESULTS,
    ChangedSincePaginator,
    api_client,
    cdc_first_page,
    deleted_stubs,
    query_pages,
    query_records,
    server_clock_page,
    server_time,
)
from connectors.quickbooks.streams import QuickBooksStream, streams_for

__all__ = ["QuickBooksConnector"]


class QuickBooksConnector(HttpConnector):
    system = "quickbooks"

    def open_client(self, timeout: httpx.Timeout | None) -> ApiClient:
        return api_client(self.connection, transport=self.transport, timeout=timeout)

    def streams(self) -> list[Stream]:
        return list(streams_for(self.connection.entities))

    async def read(self, stream: Stream, window: Window) -> AsyncIterator[list[dict[str, Any]]]:
        if not isinstance(stream, QuickBooksStream):
            raise TypeError(f"{self.connection.id}: {stream.name!r} is not a QuickBooks stream: take one from streams()")
        if stream.deletes:
            clock = server_clock_page(stream)
            _, answer = await self.client.json(clock.method, clock.url, params=clock.params)
            first = cdc_first_page(stream, window, server_now=server_time(answer), label=self.connection.id)
            if first is None:
                return
            pages = paginate(self.client, first, ChangedSincePaginator(stream), lambda payload: deleted_stubs(stream, payload))
        else:
            paginator = query_pages(stream, window, max_results=page_size_setting(self.connection, MAX_RESULTS))
            pages = paginate(self.client, paginator.first(), paginator, lambda payload: query_records(stream, payload))
        async for records in pages:
            yield records
