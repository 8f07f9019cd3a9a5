"""Listings for systems that page by position (NetSuite offset, Odoo offset) and read several entities
as one table (NetSuite's transaction table, Odoo's res.partner and account.move).

Offset paging over a stream would re-read every earlier row for each page, so walking n pages costs
n². A listing is instead a stream of rows, each tagged with the RecordKey of the record it came from (a
document's lines share one), that can start after any key: each served page remembers where it stopped
as (last key whose rows were all consumed, rows of the next record already consumed), and the request
for the next offset resumes there.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from connectors.sandbox.model import Company, Record, RecordKey

if TYPE_CHECKING:
    from connectors.sandbox.emulators.base import Emulator

Row = TypeVar("Row")
Stream = Callable[[RecordKey | None], Iterator[tuple[RecordKey, Row]]]


def key(record: Record) -> RecordKey:
    return RecordKey(record.updated_at, record.record_id)


def _order(record: Record) -> tuple[datetime, str]:
    """The (updated_at, record_id) order every store listing streams in."""
    return record.updated_at, record.record_id


def merged_records(
    emulator: Emulator,
    company: Company,
    entities: Iterable[str],
    *,
    after: RecordKey | None,
    ids: Iterable[str] | None = None,
    updated_since: datetime | None = None,
    updated_before: datetime | None = None,
    deleted: bool = False,
) -> Iterable[Record]:
    """The latest versions of several entities' records as one stream in (updated_at, record_id) order,
    deleted ones or live ones; looked up one by one when the caller already knows the ids."""
    entities = tuple(entities)
    window = {"updated_since": updated_since, "updated_before": updated_before}
    if ids is None:
        streams = [emulator.records(company, entity, after=after, deleted=deleted, **window) for entity in entities]
        return heapq.merge(*streams, key=_order)
    found = []
    for record_id in dict.fromkeys(ids):
        for entity in entities:
            record = emulator.store.get(emulator.system, company.company_id, entity, record_id, as_of=emulator.now)
            if (
                record is not None
                and record.deleted == deleted
                and (updated_since is None or record.updated_at >= updated_since)
                and (updated_before is None or record.updated_at < updated_before)
                and (after is None or _order(record) > (after.updated_at, after.record_id))
            ):
                found.append(record)
    return sorted(found, key=_order)


@dataclass(frozen=True)
class _Resume:
    after: RecordKey | None
    skip: int


class Positions(Generic[Row]):
    """Pages and totals of listings; `listing` keys must name everything the stream depends on
    (tenant, resource, filters, the emulator clock), so a changed listing never resumes a stale place."""

    def __init__(self, memory: int = 4096) -> None:
        self._memory = memory
        self._resume: OrderedDict[tuple[Hashable, int], _Resume] = OrderedDict()
        self._totals: OrderedDict[Hashable, int] = OrderedDict()

    def page(self, listing: Hashable, stream: Stream[Row], offset: int, limit: int) -> tuple[list[Row], bool]:
        """Rows [offset, offset + limit) of the listing, and whether any row follows them."""
        resume = self._resume.pop((listing, offset), None) or _Resume(None, offset)
        boundary, consumed, skip = resume.after, 0, resume.skip
        current: RecordKey | None = None
        page: list[Row] = []
        more = False
        for record_key, row in stream(resume.after):
            if record_key != current:
                if current is not None:
                    boundary, consumed = current, 0
                current = record_key
            if skip:
                skip -= 1
            elif len(page) == limit:
                more = True
                break
            else:
                page.append(row)
            consumed += 1
        self._remember(self._resume, (listing, offset + len(page)), _Resume(boundary, consumed))
        return page, more

    def total(self, listing: Hashable, count: Callable[[], int]) -> int:
        """The listing's row count, counted once per listing."""
        if listing not in self._totals:
            self._remember(self._totals, listing, count())
        return self._totals[listing]

    def _remember(self, memory: OrderedDict, entry: Hashable, value: object) -> None:
        memory[entry] = value
        memory.move_to_end(entry)
        while len(memory) > self._memory:
            memory.popitem(last=False)
