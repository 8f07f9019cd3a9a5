"""The CSV drop connector against the sandbox's own drops, and against broken files."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.base import Window
from connectors.csv_drop import CsvDropConnector
from connectors.csv_drop.dialect import default_dialects
from connectors.sandbox.defects import ROW_POISON
from connectors.sandbox.drops.values import as_decimal, minor_units
from tests.connectors.drop_helpers import connection, full_window, read_all, system_drops


@pytest.fixture(scope="module")
def csv_drops(served_sandbox, tmp_path_factory):
    return system_drops(served_sandbox.store, tmp_path_factory.mktemp("drops"), "csv")


def test_given_sandbox_drops_when_every_invoice_is_read_then_each_arrives_once_with_its_amounts(served_sandbox, csv_drops):
    out, as_of, companies = csv_drops
    for company in companies:
        connector = CsvDropConnector(connection("csv", company.company_id, out / "csv" / company.company_id, ("invoice",)))
        (stream,) = connector.streams()
        records, errors = read_all(connector, stream, full_window(as_of))
        listed = [r for r in served_sandbox.store.records("csv", company.company_id, "invoice", as_of=as_of) if not r.deleted]
        broken = {r.record_id for r in listed if r.truth.get("poison") == ROW_POISON}
        lost = {r.record_id for r in listed if r.record_id in broken and len(r.body.get("lines") or [{}]) == 1}
        assert Counter(stream.key(r) for r in records) == Counter(r.body["number"] for r in listed if r.record_id not in lost)
        assert len(errors) == len(broken)
        by_id = {r["record_id"]: r for r in records}
        for truth in listed:
            if truth.record_id in broken:
                continue
            got = by_id[truth.record_id]
            dialect = default_dialects().dialects[got["_source"]["dialect"]]
            total = as_decimal(truth.body.get("total"))
            if total is not None:
                places = minor_units(truth.body.get("currency"))
                assert dialect.parse("money", got["total"]) == total.quantize(Decimal(1).scaleb(-places)), truth.record_id
            assert len(got["lines"]) == len(truth.body.get("lines") or [{}])


def test_given_sandbox_drops_when_customers_are_read_then_keys_match_the_store(served_sandbox, csv_drops):
    out, as_of, companies = csv_drops
    company = companies[0]
    connector = CsvDropConnector(connection("csv", company.company_id, out / "csv" / company.company_id, ("customer",)))
    (stream,) = connector.streams()
    records, _ = read_all(connector, stream, full_window(as_of))
    listed = [r for r in served_sandbox.store.records("csv", company.company_id, "customer", as_of=as_of) if not r.deleted]
    assert sorted(stream.key(r) for r in records) == sorted(r.record_id for r in listed)


GB_HEADER = "Invoice ID,Invoice Number,Date,Due Date,Account Ref,Customer Name,Currency,Status,Order Ref,Line,Product Code,Details,Quantity,Unit Price,Net,VAT,Net Total,VAT Total,Gross Total,Outstanding"


def gb_row(record_id: str, number: str, line: int, amount: str) -> str:
    return f"{record_id},{number},05/01/2026,,CUS-1,Acme,GBP,Paid,,{line},W-1,Widget,1,{amount},{amount},0,{amount},0,{amount},0"


def test_given_malformed_rows_when_read_then_each_is_reported_with_its_line_and_the_rest_reads(tmp_path: Path):
    rows = [GB_HEADER, gb_row("INV-1", "N1", 1, "10.00"), '"' + gb_row("INV-2", "N2", 1, "20.00"),
            gb_row("INV-3", "N3", 1, "30.00"), gb_row("INV-4", "N4", 1, "40.00").rsplit(",", 1)[0],
            gb_row("INV-5", "N5", 1, "50.00"), gb_row("INV-5", "N5", 2, "5.00")]
    folder = tmp_path / "invoice"
    folder.mkdir()
    (folder / "invoice_20260105.csv").write_bytes(("\r\n".join(rows) + "\r\n").encode("utf-8-sig"))
    connector = CsvDropConnector(connection("csv", "c1", tmp_path, ("invoice",)))
    records, errors = read_all(connector, connector.streams()[0], Window(None, datetime(2026, 1, 6, tzinfo=UTC)))
    assert [r["number"] for r in records] == ["N1", "N3", "N5"]
    assert [len(r["lines"]) for r in records] == [1, 1, 2]
    assert records[0]["_source"]["dialect"] == "en_GB" and records[0]["_source"]["encoding"] == "utf-8-sig"
    assert [(Path(e["_error"]["file"]).name, e["_error"]["line"]) for e in errors] == [
        ("invoice_20260105.csv", 3), ("invoice_20260105.csv", 5)]


def test_given_cp1252_semicolon_export_without_known_dialect_when_read_then_it_is_sniffed(tmp_path: Path):
    german = default_dialects().dialects["de_DE"]
    header = ";".join(german.headers["product"])
    (tmp_path / "product_20260105.csv").write_bytes(f"{header}\r\nPRO-1;W-1;Größe M;Textil;1.234,50;600,00;Ja\r\n".encode("cp1252"))
    connector = CsvDropConnector(connection("csv", "c1", tmp_path, ("product",)))
    records, errors = read_all(connector, connector.streams()[0], Window(None, datetime(2026, 1, 6, tzinfo=UTC)))
    assert errors == []
    (product,) = records
    assert (product["name"], product["unit_price"], product["_source"]["encoding"]) == ("Größe M", "1.234,50", "cp1252")
    assert german.parse("money", product["unit_price"]) == Decimal("1234.50")


def test_given_files_of_several_days_when_a_window_is_read_then_only_its_days_arrive(tmp_path: Path):
    for day in (4, 5, 6):
        (tmp_path / f"invoice_202601{day:02d}.csv").write_text(f"{GB_HEADER}\n{gb_row(f'INV-{day}', f'N{day}', 1, '1.00')}\n")
    (tmp_path / "invoice_latest.csv").write_text(GB_HEADER + "\n")
    connector = CsvDropConnector(connection("csv", "c1", tmp_path, ("invoice",)))
    window = Window(datetime(2026, 1, 5, 6, tzinfo=UTC), datetime(2026, 1, 6, 12, tzinfo=UTC))
    records, errors = read_all(connector, connector.streams()[0], window)
    assert [r["number"] for r in records] == ["N5"]
    assert connector.streams()[0].updated_at(records[0]).date() == date(2026, 1, 5)
    assert [Path(e["_error"]["file"]).name for e in errors] == ["invoice_latest.csv"]
