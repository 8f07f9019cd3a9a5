"""Odoo: every served model read with search_read over JSON-RPC, bounded by write_date."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from connectors.base import Stream, Window
from connectors.http.client import ApiClient
from connectors.http.connector import HttpConnector
from connectors.http.settings import page_size_setting
from connectors.odoo.client import PAGE_SIZE, OdooSession, api_client, write_date_domain
from connectors.odoo.streams import BY_NAME, streams
from connectors.registry import Connection

__all__ = ["OdooConnector"]


class OdooConnector(HttpConnector):
    system = "odoo"

    def __init__(self, connection: Connection, *, transport: httpx.AsyncBaseTransport | None = None,
                 timeout: httpx.Timeout | None = None) -> None:
        super().__init__(connection, transport=transport, timeout=timeout)
        self._session = OdooSession(self.client, connection, page_size=page_size_setting(connection, PAGE_SIZE))

    def open_client(self, timeout: httpx.Timeout | None) -> ApiClient:
        return api_client(self.connection, transport=self.transport, timeout=timeout)

    def streams(self) -> list[Stream]:
        return streams(self.connection.entities)

    async def read(self, stream: Stream, window: Window) -> AsyncIterator[list[dict[str, Any]]]:
        spec = BY_NAME[stream.name]
        domain = spec.domain + write_date_domain(window.since, window.until)
        async for rows in self._session.search_read(spec.model, domain):
            yield rows
