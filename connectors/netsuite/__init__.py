"""NetSuite: records through the REST record API, falling back to SuiteQL for a record type the record
service refuses (400), and deletions from SuiteQL's deletedrecord table."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import structlog

from connectors.base import Stream, Window
from connectors.http.client import ApiClient, SourceError
from connectors.http.connector import HttpConnector
from connectors.http.settings import page_size_setting
from connectors.netsuite.client import MAX_PAGE_SIZE, account_timezone, api_client, record, record_ids, suiteql, suiteql_window
from connectors.netsuite.streams import BY_STREAM, DELETED_SUFFIX, RecordType, streams
from connectors.registry import Connection

log = structlog.get_logger("connectors.netsuite")

__all__ = ["NetSuiteConnector"]


class NetSuiteConnector(HttpConnector):
    system = "netsuite"

    def __init__(self, connection: Connection, *, transport: httpx.AsyncBaseTransport | None = None,
                 timeout: httpx.Timeout | None = None) -> None:
        super().__init__(connection, transport=transport, timeout=timeout)
        self._timezone = account_timezone(connection)
        self._page_size = page_size_setting(connection, MAX_PAGE_SIZE)
        self._via_suiteql: set[str] = set()  # record types the record service refused this run

    def open_client(self, timeout: httpx.Timeout | None) -> ApiClient:
        return api_client(self.connection, transport=self.transport, timeout=timeout)

    def streams(self) -> list[Stream]:
        return streams(self.connection.entities, self._timezone)

    async def read(self, stream: Stream, window: Window) -> AsyncIterator[list[dict[str, Any]]]:
        if stream.deletes:
            record_type = BY_STREAM[stream.name.removesuffix(DELETED_SUFFIX)]
            async for page in self._suiteql(record_type.deleted_suiteql(self._window("deleteddate", window))):
                yield page
            return
        record_type = BY_STREAM[stream.name]
        if record_type.name not in self._via_suiteql:
            try:
                async for page in self._records(record_type, window):
                    yield page
                return
            except SourceError as error:
                if error.status != 400:
                    raise
                log.warning("record service refused the type; reading it through SuiteQL",
                            connection=self.connection.id, record_type=record_type.name)
                self._via_suiteql.add(record_type.name)
        async for page in self._suiteql(record_type.suiteql(self._window("lastmodifieddate", window))):
            yield page

    async def _records(self, record_type: RecordType, window: Window) -> AsyncIterator[list[dict[str, Any]]]:
        """Each page of ids, read record by record (the account's concurrency limit paces them)."""
        pages = record_ids(self.client, record_type.name, window.since, window.until, page_size=self._page_size)
        async for items in pages:
            records = await asyncio.gather(*(self._record(record_type, str(item["id"])) for item in items))
            yield [found for found in records if found is not None]

    async def _record(self, record_type: RecordType, record_id: str) -> dict[str, Any] | None:
        """The record, or None when it was deleted after it was listed (its deletion stream will say so)."""
        try:
            return await record(self.client, record_type.name, record_id)
        except SourceError as error:
            if error.status == 404:
                return None
            raise

    def _suiteql(self, query: str) -> AsyncIterator[list[dict[str, Any]]]:
        return suiteql(self.client, query, page_size=self._page_size)

    def _window(self, column: str, window: Window) -> list[str]:
        return suiteql_window(column, window.since, window.until, self._timezone)
