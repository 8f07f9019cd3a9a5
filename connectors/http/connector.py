"""The part of a Connector every HTTP source shares: one ApiClient per connection, its counters, closing it."""

from __future__ import annotations

from abc import abstractmethod

import httpx

from connectors.base import Connector
from connectors.http.client import ApiClient, HttpStats
from connectors.registry import Connection


class HttpConnector(Connector):
    """`timeout` overrides the client's default (tests set a read timeout below an emulated stall)."""

    def __init__(
        self, connection: Connection, *, transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        super().__init__(connection, transport=transport)
        self.client = self.open_client(timeout)

    @abstractmethod
    def open_client(self, timeout: httpx.Timeout | None) -> ApiClient:
        """This connection's client: base URL, auth, rate limit and headers of its system."""

    @property
    def stats(self) -> HttpStats:
        return self.client.stats

    async def aclose(self) -> None:
        await self.client.aclose()
