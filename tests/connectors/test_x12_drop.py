"""The X12 drop connector against the sandbox's own interchanges, real sample files and broken sets."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.base import Window
from connectors.sandbox.drops.values import as_decimal
from connectors.x12_drop import X12DropConnector
from tests.connectors.drop_helpers import connection, full_window, read_all, system_drops

FIXTURES = Path("/work/shared/fixtures/x12")
JAN_6 = Window(None, datetime(2026, 1, 6, tzinfo=UTC))


@pytest.fixture(scope="module")
def x12_drops(served_sandbox, tmp_path_factory):
    return system_drops(served_sandbox.store, tmp_path_factory.mktemp("drops"), "x12")


def stream_named(connector: X12DropConnector, name: str):
    return next(s for s in connector.streams() if s.name == name)


def test_given_sandbox_drops_when_invoices_and_orders_are_read_then_each_arrives_once_with_its_total(served_sandbox, x12_drops):
    out, as_of, companies = x12_drops
    for company in companies:
        connector = X12DropConnector(connection("x12", company.company_id, out / "x12" / company.company_id,
                                                ("invoice", "purchase_order")))
        for name, entity in (("810", "invoice"), ("850", "purchase_order")):
            records, errors = read_all(connector, stream_named(connector, name), full_window(as_of))
            truth = list(served_sandbox.store.records("x12", company.company_id, entity, as_of=as_of))
            assert errors == []
            assert Counter(r["number"] for r in records) == Counter(t.body["number"] for t in truth)
            totals = {r["number"]: r for r in records}
            for record in truth:
                total = as_decimal(record.body.get("total"))
                got = totals[record.body["number"]]
                if name == "810" and total is not None:
                    assert Decimal(got["summary"][0][1]) == (total * 100).to_integral_value()
                assert len(got["lines"]) == len(record.body.get("lines") or [])


@pytest.mark.parametrize(("name", "numbers", "loops"), [
    ("810_two_invoices.edi", ["00001", "00001"], [7, 2]),
    ("850_purchase_order.edi", ["4600000406"], [3]),
    ("856_ship_notice.edi", ["DELIVERYNUMBER"], [9]),
])
def test_given_real_sample_interchange_when_read_then_its_documents_parse(tmp_path: Path, name, numbers, loops):
    shutil.copy(FIXTURES / name, tmp_path / name.replace("_", "_20260105_", 1))
    connector = X12DropConnector(connection("x12", "c1", tmp_path, ("invoice", "purchase_order")))
    records, errors = read_all(connector, stream_named(connector, name[:3]), JAN_6)
    assert errors == []
    assert [r["number"] for r in records] == numbers
    assert [len(r["levels" if name.startswith("856") else "lines"]) for r in records] == loops
    assert records[0]["_source"]["line"] == 3 and records[0]["_source"]["version"] == "004010"


def test_given_pipe_elements_and_newline_terminators_when_read_then_components_split(tmp_path: Path):
    isa = "ISA|00|          |00|          |ZZ|SENDER         |ZZ|GROUNDSWELL    |260105|2359|U|00401|000000001|0|P|^"
    segments = [isa, "GS|PO|SENDER|GROUNDSWELL|20260105|2359|1|X|004010", "ST|850|0001",
                "BEG|00|SA|PO-7||20260105", "PO1|1|2|EA|3.5||SK|W^1", "CTT|1", "SE|5|0001", "GE|1|1", "IEA|1|000000001"]
    (tmp_path / "850_20260105.edi").write_text("\n".join(segments) + "\n")
    connector = X12DropConnector(connection("x12", "c1", tmp_path, ("purchase_order",)))
    (record,), errors = read_all(connector, stream_named(connector, "850"), JAN_6)
    assert errors == []
    assert record["lines"] == [[["PO1", "1", "2", "EA", "3.5", "", "SK", ["W", "1"]]]]


def test_given_miscounted_and_stray_segments_when_read_then_each_is_reported_with_its_line_and_the_rest_reads(tmp_path: Path):
    isa = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*GROUNDSWELL    *260105*2359*U*00401*000000001*0*P*>"
    segments = [isa, "GS*IN*SENDER*GROUNDSWELL*20260105*2359*1*X*004010",
                "ST*810*0001", "BIG*20260105*INV-1********00", "TDS*1000", "SE*9*0001",
                "XYZ*stray",
                "ST*810*0002", "BIG*20260105*INV-2********00", "IT1*1*1*EA*10**SK*W-1", "TDS*1000", "SE*5*0002",
                "ST*810*0003", "BIG*20260105*INV-3", "GE*3*1", "IEA*1*000000001"]
    (tmp_path / "810_20260105.edi").write_text("~\r\n".join(segments) + "~\r\n")
    connector = X12DropConnector(connection("x12", "c1", tmp_path, ("invoice",)))
    records, errors = read_all(connector, stream_named(connector, "810"), JAN_6)
    assert [r["number"] for r in records] == ["INV-2"]
    assert [(e["_error"]["line"], e["_error"]["reason"].split(" ")[0]) for e in errors] == [
        (3, "SE01"), (7, "XYZ"), (13, "transaction")]


def test_given_a_file_that_is_not_x12_when_read_then_it_is_one_error_and_other_files_still_read(tmp_path: Path):
    (tmp_path / "810_20260104.edi").write_text("hello, not an interchange")
    shutil.copy(FIXTURES / "810_two_invoices.edi", tmp_path / "810_20260105.edi")
    connector = X12DropConnector(connection("x12", "c1", tmp_path, ("invoice",)))
    records, errors = read_all(connector, stream_named(connector, "810"), JAN_6)
    assert len(records) == 2
    assert [(Path(e["_error"]["file"]).name, e["_error"]["line"]) for e in errors] == [("810_20260104.edi", 1)]
