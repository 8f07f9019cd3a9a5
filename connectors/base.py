"""The contract every source connector fulfils, whatever its system.

A connector declares its streams and reads one stream's records for an update-time window, page by page,
as the source sends them (raw dicts, no renaming: bronze keeps the source's own shape). Everything
cross-cutting — auth, limits, retries, paging — comes from connectors/http; landing files, manifests and
cursors from connectors/landing.py and connectors/state.py, run by connectors/extract.py.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import httpx

from connectors.http.client import HttpStats
from connectors.registry import Connection


def error_record(file: str, line: int, reason: str, raw: str) -> dict[str, Any]:
    """What a connector yields for input it cannot read (a malformed CSV row, a broken X12 segment): it
    lands like any record, counted apart, and bronze sends it to the quarantine with its reason."""
    return {"_error": {"file": file, "line": line, "reason": reason}, "_raw": raw}


def is_error(record: dict[str, Any]) -> bool:
    return "_error" in record


@dataclass(frozen=True)
class Window:
    """The update-time range one run reads: [since, until). `since` None = from the beginning (a backfill)."""

    since: datetime | None
    until: datetime


@dataclass(frozen=True)
class Stream:
    """One listable resource of a source (its own name, e.g. Shopify "orders", QuickBooks "Invoice")."""

    name: str
    entity: str  # the canonical entity it feeds (model.SYSTEM_ENTITIES names)
    key: Callable[[dict[str, Any]], str]  # the record's id in the source
    updated_at: Callable[[dict[str, Any]], datetime | None]  # its last update, parsed whatever the format
    deletes: bool = False  # records of this stream may be tombstones of deleted source records


class Connector(ABC):
    system: ClassVar[str]

    def __init__(self, connection: Connection, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.connection = connection
        self.transport = transport

    @abstractmethod
    def streams(self) -> list[Stream]:
        """The streams this connection extracts (those of the registry's entities)."""

    @abstractmethod
    def read(self, stream: Stream, window: Window) -> AsyncIterator[list[dict[str, Any]]]:
        """Each page of `stream`'s records updated in `window`, in the source's own shape."""

    @property
    @abstractmethod
    def stats(self) -> HttpStats:
        """Counters of the run so far (requests, retries, statuses) for the manifest."""

    async def aclose(self) -> None:
        """Release connections; called once after the run."""
