"""The extraction runner: landing files and manifests, cursors advanced only after the manifest, failures
isolated, duplicates dropped, memory bounded by bytes in flight."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from datetime import datetime, timedelta, timezone

import orjson
from pyarrow import fs as pafs

from connectors.base import Connector, Stream, Window
from connectors.dates import parse_instant
from connectors.extract import ByteBudget, ExtractPlan, extract
from connectors.http.client import HttpStats
from connectors.registry import Connection
from connectors.state import CursorStore

UNTIL = datetime(2026, 3, 1, tzinfo=timezone.utc)
ORDERS = Stream("orders", "sales_order", key=lambda r: r["id"], updated_at=lambda r: parse_instant(r["updated_at"]))


class PagedConnector(Connector):
    """Serves fixed pages; raises after `fail_after` pages if set; records each window it was asked for."""

    system = "shopify"

    def __init__(self, connection, pages, fail_after=None):
        super().__init__(connection)
        self.pages, self.fail_after, self.windows = pages, fail_after, []

    def streams(self):
        return [ORDERS]

    async def read(self, stream, window):
        self.windows.append(window)
        for number, page in enumerate(self.pages):
            if self.fail_after is not None and number == self.fail_after:
                raise RuntimeError("source went away")
            yield page

    @property
    def stats(self):
        return HttpStats(requests=len(self.pages))


def _connection(company):
    return Connection(system="shopify", company_id=company, base_url="http://127.0.0.1:1/shopify", entities=("sales_order",))


def _orders(start, count):
    return [{"id": str(i), "updated_at": f"2026-02-{1 + i % 27:02d}T10:00:00Z", "total": i * 1.5} for i in range(start, start + count)]


def _plan(tmp_path, factory, **options):
    return ExtractPlan(pafs.LocalFileSystem(), str(tmp_path), run_id=options.pop("run_id", "r1"), until=UNTIL, connector_factory=factory, **options)


def _landed(tmp_path, company, run_id="r1"):
    folder = tmp_path / "landing" / "shopify" / "orders" / f"company={company}" / f"run={run_id}"
    manifest = orjson.loads((folder / "_manifest.json").read_bytes())
    lines = [orjson.loads(line) for part in sorted(folder.glob("part-*.jsonl.gz")) for line in gzip.decompress(part.read_bytes()).splitlines()]
    records = [line["record"] for line in lines]
    return manifest, records, folder


def test_given_pages_when_extracted_then_landing_holds_every_record_once_and_the_manifest_checks_out(tmp_path):
    pages = [_orders(0, 3), _orders(3, 3) + _orders(1, 1)]  # the last record repeats one at a page boundary
    summary = asyncio.run(extract(_plan(tmp_path, lambda c: PagedConnector(c, pages)), [_connection("c1")]))

    manifest, records, folder = _landed(tmp_path, "c1")
    assert [r["id"] for r in records] == ["0", "1", "2", "3", "4", "5"]
    assert (manifest["records"], manifest["duplicates_dropped"], summary.failed) == (6, 1, [])
    for part in manifest["files"]:
        assert hashlib.sha256((folder / part["name"]).read_bytes()).hexdigest() == part["sha256"]
    assert CursorStore(pafs.LocalFileSystem(), str(tmp_path)).get("shopify", "c1", "orders") == UNTIL


def _two_orders_each_time() -> tuple[list[PagedConnector], object]:
    """A connector factory serving two orders to every connection, and the connectors it made (their windows)."""
    connectors: list[PagedConnector] = []

    def factory(connection):
        connectors.append(PagedConnector(connection, [_orders(0, 2)]))
        return connectors[-1]

    return connectors, factory


def test_given_a_cursor_when_extracted_again_then_the_window_starts_at_the_cursor_minus_the_overlap(tmp_path):
    connectors, factory = _two_orders_each_time()
    asyncio.run(extract(_plan(tmp_path, factory, run_id="r1"), [_connection("c1")]))
    later = _plan(tmp_path, factory, run_id="r2")
    asyncio.run(extract(ExtractPlan(later.filesystem, later.root, "r2", UNTIL + timedelta(days=1), connector_factory=factory), [_connection("c1")]))

    assert connectors[0].windows == [Window(None, UNTIL)]
    assert connectors[1].windows == [Window(UNTIL - timedelta(minutes=10), UNTIL + timedelta(days=1))]


def test_given_a_cursor_at_until_when_extracted_again_then_the_stream_is_not_read_and_nothing_lands(tmp_path):
    connectors, factory = _two_orders_each_time()
    asyncio.run(extract(_plan(tmp_path, factory, run_id="r1"), [_connection("c1")]))
    again = asyncio.run(extract(_plan(tmp_path, factory, run_id="r2"), [_connection("c1")]))

    assert connectors[1].windows == []
    assert [(r.records, r.manifest, r.error) for r in again.results] == [(0, None, None)]
    assert not (tmp_path / "landing" / "shopify" / "orders" / "company=c1" / "run=r2").exists()


def test_given_a_stream_that_fails_mid_read_then_its_cursor_stays_put_its_manifest_names_the_error_and_other_connections_land(tmp_path):
    def factory(connection):
        return PagedConnector(connection, [_orders(0, 2), _orders(2, 2)], fail_after=1 if connection.company_id == "bad" else None)

    summary = asyncio.run(extract(_plan(tmp_path, factory), [_connection("bad"), _connection("good")]))

    bad_manifest, _, _ = _landed(tmp_path, "bad")
    good_manifest, good_records, _ = _landed(tmp_path, "good")
    cursors = CursorStore(pafs.LocalFileSystem(), str(tmp_path))
    assert [r.connection for r in summary.failed] == ["shopify/bad"]
    assert bad_manifest["errors"] == ["RuntimeError: source went away"] and bad_manifest["cursor_after"] is None
    assert cursors.get("shopify", "bad", "orders") is None
    assert len(good_records) == 4 and cursors.get("shopify", "good", "orders") == UNTIL


def test_given_records_when_landed_then_each_line_carries_its_key_and_update_time_or_why_not(tmp_path):
    broken = {"id": "9", "updated_at": "yesterday-ish"}
    asyncio.run(extract(_plan(tmp_path, lambda c: PagedConnector(c, [_orders(0, 1) + [broken]])), [_connection("c1")]))

    folder = tmp_path / "landing" / "shopify" / "orders" / "company=c1" / "run=r1"
    good, bad = (orjson.loads(line) for line in gzip.decompress((folder / "part-00000.jsonl.gz").read_bytes()).splitlines())
    assert good == {"key": "0", "updated_at": "2026-02-01T10:00:00+00:00", "error": None, "record": _orders(0, 1)[0]}
    assert bad["key"] is None and bad["record"] == broken
    assert bad["error"] == "DateParseError: 'yesterday-ish' is not a date or time in any known format"


def test_given_a_connection_that_cannot_be_opened_then_it_is_reported_and_the_rest_run(tmp_path):
    def factory(connection):
        if connection.company_id == "bad":
            raise LookupError("secret env:SHOP_TOKEN is not set")
        return PagedConnector(connection, [_orders(0, 1)])

    summary = asyncio.run(extract(_plan(tmp_path, factory), [_connection("bad"), _connection("good")]))

    assert [(r.connection, r.stream, r.error) for r in summary.failed] == [("shopify/bad", "*", "LookupError: secret env:SHOP_TOKEN is not set")]
    assert _landed(tmp_path, "good")[0]["records"] == 1


def test_given_a_full_byte_budget_when_a_page_asks_for_room_then_it_waits_until_room_is_freed():
    async def scenario():
        budget = ByteBudget(100)
        order = []

        async def holder():
            async with budget.hold(80):
                order.append("first in")
                await asyncio.sleep(0.05)
                order.append("first out")

        async def second():
            await asyncio.sleep(0.01)
            async with budget.hold(50):
                order.append("second in")

        await asyncio.gather(holder(), second())
        return order

    assert asyncio.run(scenario()) == ["first in", "first out", "second in"]


def test_given_the_same_records_when_landed_twice_then_the_files_are_byte_identical(tmp_path):
    pages = [_orders(0, 5)]
    for run in ("a", "b"):
        asyncio.run(extract(_plan(tmp_path / run, lambda c: PagedConnector(c, pages)), [_connection("c1")]))
    first, second = (_landed(tmp_path / run, "c1")[0]["files"] for run in ("a", "b"))
    assert first == second
