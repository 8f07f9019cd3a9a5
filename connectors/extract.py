"""Extraction runs: every selected connection's streams, concurrently, into landing, cursors advanced last.

Per stream: window from the cursor (minus overlap) to `until` → pages read → records deduplicated by
(key, updated-at) within the run → landing files → manifest → cursor. A stream whose cursor already reached
`until` is not read again: re-running a day (an Airflow retry or clear) lands nothing new, and the next day's
window still starts an overlap before that cursor, so a late-committed record is not missed.

Connections run `concurrency` at a time; pages wait for room in one byte budget shared by all of them, so a
slow landing store slows the readers instead of growing memory. A connection that fails is reported in its
manifest and the summary; the others go on.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone

import orjson
import structlog
from pyarrow import fs as pafs

from connectors.base import Connector, Stream, Window, is_error
from connectors.catalog import connector_class
from connectors.landing import MANIFEST, LandingWriter, run_folder
from connectors.registry import Connection
from connectors.state import CursorStore, Incremental

log = structlog.get_logger("connectors.extract")


class ByteBudget:
    """Bytes of pages in flight across all connections: `hold(n)` waits until n more fit."""

    def __init__(self, capacity: int) -> None:
        self.capacity, self._used = capacity, 0
        self._room = asyncio.Condition()

    @asynccontextmanager
    async def hold(self, size: int) -> AsyncIterator[None]:
        size = min(size, self.capacity)  # one page larger than the budget still passes, alone
        async with self._room:
            await self._room.wait_for(lambda: self._used + size <= self.capacity)
            self._used += size
        try:
            yield
        finally:
            async with self._room:
                self._used -= size
                self._room.notify_all()


@dataclass
class StreamResult:
    connection: str
    stream: str
    records: int = 0
    unreadable: int = 0  # error records (malformed rows, segments) landed for the quarantine
    duplicates: int = 0
    manifest: str | None = None
    error: str | None = None


@dataclass
class ExtractSummary:
    run_id: str
    results: list[StreamResult] = field(default_factory=list)

    @property
    def failed(self) -> list[StreamResult]:
        return [r for r in self.results if r.error]


@dataclass(frozen=True)
class ExtractPlan:
    filesystem: pafs.FileSystem
    root: str
    run_id: str
    until: datetime
    since: datetime | None = None  # a backfill's start; None = from each stream's cursor
    incremental: Incremental = Incremental()
    concurrency: int = 32
    buffer_bytes: int = 64 * 2**20
    connector_factory: Callable[[Connection], Connector] = lambda c: connector_class(c.system)(c)


async def _extract_stream(plan: ExtractPlan, cursors: CursorStore, connector: Connector, stream: Stream, budget: ByteBudget) -> StreamResult:
    connection = connector.connection
    result = StreamResult(connection.id, stream.name)
    before = cursors.get(connection.system, connection.company_id, stream.name)
    if plan.since is None and before is not None and before >= plan.until:
        log.info("stream already extracted", connection=connection.id, stream=stream.name, through=before.isoformat())
        return result
    window = Window(plan.since if plan.since is not None else plan.incremental.since(before), plan.until)
    folder = run_folder(plan.root, connection.system, stream.name, connection.company_id, plan.run_id)
    writer = LandingWriter(plan.filesystem, folder)
    seen: set[bytes] = set()
    try:
        async for page in connector.read(stream, window):
            fresh = []
            for record in page:
                result.unreadable += is_error(record)
                line = landing_line(stream, record)
                identity = hashlib.blake2b(orjson.dumps([line["key"], line["updated_at"]] if line["error"] is None else record, option=orjson.OPT_SORT_KEYS), digest_size=12).digest()
                if identity in seen:
                    result.duplicates += 1
                    continue
                seen.add(identity)
                fresh.append(line)
            async with budget.hold(sum(len(orjson.dumps(line)) for line in fresh)):
                await asyncio.to_thread(writer.write, fresh)
    except Exception as exc:  # reported per stream; the other streams and connections go on
        result.error = f"{type(exc).__name__}: {exc}"
        log.warning("stream failed", connection=connection.id, stream=stream.name, error=result.error)
    manifest = {
        "system": connection.system, "company_id": connection.company_id, "stream": stream.name,
        "entity": stream.entity, "run_id": plan.run_id,
        "window": {"since": window.since, "until": window.until},
        "cursor_before": before, "cursor_after": before if result.error else window.until,
        "duplicates_dropped": result.duplicates, "unreadable": result.unreadable, "http": connector.stats.as_json(),
        "errors": [result.error] if result.error else [],
    }
    await asyncio.to_thread(writer.finish, **manifest)
    result.records, result.manifest = writer.records, f"{folder}/{MANIFEST}"
    if result.error is None:  # only a complete read moves the cursor, and only after its manifest exists
        cursors.advance(connection.system, connection.company_id, stream.name, window.until, run_id=plan.run_id, manifest=result.manifest)
    return result


def landing_line(stream: Stream, record: dict) -> dict:
    """What one landing line holds: the record exactly as the source sent it, with the key and update time
    its connector read from it (so bronze needs no per-source paths), or why they could not be read — such a
    record still lands, for bronze to quarantine, rather than breaking the run."""
    try:
        updated_at = stream.updated_at(record)
        return {"key": str(stream.key(record)), "updated_at": updated_at.isoformat() if updated_at else None, "error": None, "record": record}
    except Exception as exc:
        return {"key": None, "updated_at": None, "error": f"{type(exc).__name__}: {exc}", "record": record}


async def extract(plan: ExtractPlan, connections: list[Connection], *, on_done: Callable[[StreamResult], None] = lambda r: None) -> ExtractSummary:
    summary = ExtractSummary(plan.run_id)
    cursors = CursorStore(plan.filesystem, plan.root)
    budget = ByteBudget(plan.buffer_bytes)
    slots = asyncio.Semaphore(plan.concurrency)

    async def one(connection: Connection) -> None:
        async with slots:
            try:
                connector = plan.connector_factory(connection)
            except Exception as exc:  # e.g. a secret reference that does not resolve
                failed = StreamResult(connection.id, "*", error=f"{type(exc).__name__}: {exc}")
                summary.results.append(failed)
                on_done(failed)
                return
            try:
                for stream in connector.streams():
                    result = await _extract_stream(plan, cursors, connector, stream, budget)
                    summary.results.append(result)
                    on_done(result)
            finally:
                await connector.aclose()

    await asyncio.gather(*(one(c) for c in connections))
    summary.results.sort(key=lambda r: (r.connection, r.stream))
    return summary


def new_run_id(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S%fZ")
