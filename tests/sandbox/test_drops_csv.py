"""CSV file drops: read back with the csv module and the same dialect map the CSV connector uses."""

from __future__ import annotations

import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors.sandbox.drops import write_drops
from connectors.sandbox.drops.csv_dialect import DIALECTS_PATH, CsvDialect, DialectMap, Kind, default_dialects, load_dialects
from connectors.sandbox.drops.csv_export import write_company
from connectors.sandbox.drops.window import DropWindow
from connectors.sandbox.model import Company, Record
from connectors.sandbox.store import SandboxStore
from tests.sandbox.drops_builders import (
    AS_OF,
    SINCE,
    UTC,
    LineSpec,
    at,
    company,
    document_body,
    drop_twice,
    opened_store,
    record,
    window_drop,
)

BEFORE_SINCE = datetime(2026, 2, 20, tzinfo=UTC)

US = company("c00001", "csv", locale="en_US", tz="America/New_York", currency="USD")
DE = company("c00002", "csv", locale="de_DE", tz="Europe/Berlin", currency="EUR", name="Müller Großhandel GmbH")
FR = company("c00003", "csv", locale="fr_FR", tz="Europe/Paris", currency="EUR", name="Société Générale d'Outils")
JP = company("c00004", "csv", locale="ja_JP", tz="Asia/Tokyo", currency="JPY", name="山田商事株式会社")
QB = company("c00005", "quickbooks")
CSV_COMPANIES = (US, DE, FR, JP)


def company_records(owner: Company) -> list[Record]:
    """Customers, products and invoices covering every case an export has to get right."""
    price = 1200.0 if owner.currency == "JPY" else 19.99

    def invoice(serial: int, issued: datetime, lines: list[LineSpec], status: str = "open") -> dict[str, Any]:
        return document_body(owner, f"INV-{serial:04d}", "CUS-0000001", issued - timedelta(hours=2), lines,
                             status=status)

    two_lines = [("WID-1", 3, price, 0.19), ("GAD-2", 1.5, price * 2, 0.07)]
    return [
        record(owner, "customer", 1, {"name": f"{owner.name} Kunde", "email": "buyer@example.com",
               "address": {"line1": "1 Main St", "city": "Springfield", "region": "IL", "postal_code": "62701",
                           "country": owner.country}, "currency": owner.currency}, updated=at(1, 9)),
        record(owner, "customer", 2, {"name": "Deleted Customer", "currency": owner.currency},
               updated=at(2), version=2, created=at(1), deleted=True),
        record(owner, "product", 1, {"sku": "WID-1", "name": "Widget", "category": "tools", "unit_price": price,
               "unit_cost": price / 2, "taxable": True}, updated=at(1, 10)),
        record(owner, "product", 2, {"sku": "GAD-2", "name": "Gadget", "category": "tools", "unit_price": price * 2,
               "unit_cost": price, "taxable": False}, updated=at(1, 11)),
        record(owner, "invoice", 1, invoice(1, at(2), two_lines), updated=at(2)),
        record(owner, "invoice", 2, invoice(2, at(3), [("WID-1", 1234.5, 10.0, 0.0)], status="paid"), updated=at(3)),
        record(owner, "invoice", 3, invoice(3, at(2), two_lines, status="void"), updated=at(4), version=2,
               created=at(2)),
        record(owner, "invoice", 4, invoice(4, at(2), two_lines), updated=at(4, 16), version=2, created=at(2),
               deleted=True),
        record(owner, "invoice", 5, invoice(5, at(3), two_lines), updated=at(3, 16)),
        record(owner, "invoice", 5, invoice(5, at(3), [("WID-1", 9, price, 0.0)]), updated=at(12), version=2,
               created=at(3, 16)),
        record(owner, "invoice", 6, invoice(6, at(5), two_lines), updated=at(5, 23, 30)),
        record(owner, "invoice", 7, invoice(7, BEFORE_SINCE, two_lines), updated=BEFORE_SINCE),
        record(owner, "invoice", 8, invoice(8, at(6), [("WID-1", -3, price, 0.0)]), updated=at(6, 10),
               truth={"poison": "quantity"}),
        record(owner, "invoice", 9, invoice(9, at(6), two_lines), updated=at(6, 11), truth={"poison": "row"}),
        record(owner, "invoice", 10, invoice(10, at(6), two_lines), updated=at(6, 10, 30)),
    ]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxStore]:
    records = [r for owner in CSV_COMPANIES for r in company_records(owner)]
    qb_invoice = record(QB, "invoice", 1, document_body(QB, "1001", "1", at(2), [("WID-1", 1, 5.0, 0.0)]),
                        updated=at(2))
    yield from opened_store(tmp_path_factory.mktemp("csv"), [*CSV_COMPANIES, QB], [*records, qb_invoice])


@pytest.fixture(scope="module")
def drop(store: SandboxStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return window_drop(store, tmp_path_factory.mktemp("drop"))


def dialect_of(owner: Company) -> CsvDialect:
    return default_dialects().for_company(owner.company_id, owner.locale)[0]


def read_rows(path: Path, owner: Company, entity: str) -> list[dict[str, Any]]:
    """A drop file as neutral-field rows, parsed with the owner's dialect; malformed rows are skipped
    the way a lenient reader would after quarantining them."""
    dialect = dialect_of(owner)
    columns = default_dialects().columns(dialect, entity)
    header, *rows = dialect.reader(dialect.decode(path.read_bytes()))
    assert header == [column.header for column in columns]
    return [
        {column.field: dialect.parse(column.kind, cell) for column, cell in zip(columns, row, strict=True)}
        for row in rows if len(row) == len(columns)
    ]


def rows_by_file(drop: Path, owner: Company, entity: str) -> dict[Path, list[dict[str, Any]]]:
    folder = drop / "csv" / owner.company_id / entity
    return {path: read_rows(path, owner, entity) for path in sorted(folder.glob("*.csv"))}


def all_rows(drop: Path, owner: Company, entity: str) -> list[dict[str, Any]]:
    return [row for rows in rows_by_file(drop, owner, entity).values() for row in rows]


def listed(store: SandboxStore, owner: Company, entity: str) -> list[Record]:
    """What an export of the window lists: latest versions updated in [SINCE, AS_OF), not deleted."""
    window = store.records("csv", owner.company_id, entity, as_of=AS_OF, updated_since=SINCE, updated_before=AS_OF)
    return [r for r in window if not r.deleted]


def money(value: float) -> Decimal:
    return Decimal(repr(value))


@pytest.mark.parametrize("owner", CSV_COMPANIES, ids=lambda c: c.locale)
def test_given_csv_company_when_dropped_then_every_listed_invoice_is_in_exactly_one_file_with_its_values(
    store: SandboxStore, drop: Path, owner: Company
) -> None:
    files = rows_by_file(drop, owner, "invoice")
    files_holding = Counter(record_id for rows in files.values() for record_id in {r["record_id"] for r in rows})
    rows_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in all_rows(drop, owner, "invoice"):
        rows_of[row["record_id"]].append(row)
    tz = ZoneInfo(owner.timezone)
    invoices = listed(store, owner, "invoice")
    malformed = {r.record_id for r in invoices if r.truth.get("poison") == "row"}
    well_formed = [r for r in invoices if r.record_id not in malformed]

    assert well_formed and set(rows_of) - malformed == {r.record_id for r in well_formed}
    assert set(files_holding.values()) == {1}
    for invoice in well_formed:
        body, rows = invoice.body, rows_of[invoice.record_id]
        assert len(rows) == len(body["lines"])
        for row, line in zip(rows, body["lines"], strict=True):
            assert row["number"] == body["number"]
            assert row["issued_on"] == datetime.fromisoformat(body["issued_at"]).astimezone(tz).date()
            assert row["due_on"] == date.fromisoformat(body["due_on"])
            assert row["currency"] == body["currency"]
            assert row["status"] == body["status"]
            assert row["party_id"] == "CUS-0000001" and row["party_name"] == f"{owner.name} Kunde"
            assert (row["line.quantity"], row["line.unit_price"], row["line.amount"], row["line.tax_amount"]) == (
                money(line["quantity"]), money(line["unit_price"]), money(line["amount"]), money(line["tax_amount"])
            )
            assert (row["subtotal"], row["tax_total"], row["total"], row["balance"]) == (
                money(body["subtotal"]), money(body["tax_total"]), money(body["total"]), money(body["balance"])
            )


@pytest.mark.parametrize("owner", CSV_COMPANIES, ids=lambda c: c.locale)
def test_given_customers_and_products_when_dropped_then_each_existing_one_is_listed_once(
    store: SandboxStore, drop: Path, owner: Company
) -> None:
    for entity in ("customer", "product"):
        rows = all_rows(drop, owner, entity)
        assert sorted(row["record_id"] for row in rows) == sorted(r.record_id for r in listed(store, owner, entity))
    gadget = next(row for row in all_rows(drop, owner, "product") if row["sku"] == "GAD-2")
    assert gadget["taxable"] is False
    assert gadget["unit_price"] == money(2400.0 if owner.currency == "JPY" else 39.98)


def test_given_void_deleted_late_and_old_invoices_when_dropped_then_only_what_the_export_would_list_appears(
    drop: Path,
) -> None:
    rows = all_rows(drop, DE, "invoice")
    status = {row["record_id"]: row["status"] for row in rows}
    edited_late = [row["line.quantity"] for row in rows if row["record_id"] == "INV-0000005"]

    assert status["INV-0000003"] == "void"
    assert "INV-0000004" not in status  # deleted
    assert "INV-0000007" not in status  # updated before `since`
    assert edited_late == [3, Decimal("1.5")]  # version 1: its edit lands after as_of
    raw = (drop / "csv/c00002/invoice/invoice_20260304.csv").read_bytes()
    assert b"Storniert" in raw


def test_given_update_late_in_the_utc_day_when_dropped_then_it_lands_in_the_file_of_the_local_day(drop: Path) -> None:
    def day_of(owner: Company) -> str:
        files = rows_by_file(drop, owner, "invoice")
        return next(p.stem for p, rows in files.items() if any(r["record_id"] == "INV-0000006" for r in rows))

    assert day_of(US) == "invoice_20260305"  # 18:30 in New York
    assert day_of(DE) == "invoice_20260306"  # 00:30 in Berlin
    assert day_of(JP) == "invoice_20260306"


def test_given_locales_when_dropped_then_each_file_speaks_its_locale_dialect(drop: Path) -> None:
    def drop_text(owner: Company) -> tuple[str, str]:
        raw = (drop / f"csv/{owner.company_id}/invoice/invoice_20260303.csv").read_bytes()
        encoding = default_dialects().for_company(owner.company_id, owner.locale)[1]
        assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
        return encoding, raw.decode(encoding)

    (us_encoding, us), (de_encoding, de), (_, fr), (jp_encoding, jp) = map(drop_text, CSV_COMPANIES)

    assert us_encoding == "utf-8" and ",03/03/2026," in us
    assert de_encoding in ("cp1252", "utf-8-sig") and de.startswith("Beleg-ID;Rechnungsnr.;Datum;")
    assert ";03.03.2026;" in de and ";12.345,00;" in de
    assert ";03/03/2026;" in fr and ";12\u00a0345,00;" in fr
    assert jp_encoding in ("shift_jis", "utf-8") and "請求書番号" in jp and re.search(r",2026/03/0\d,", jp)


def test_given_many_companies_of_a_locale_when_assigned_dialects_then_every_variant_of_the_locale_is_used() -> None:
    dialects = default_dialects()
    picks = {
        locale: {(d.name, enc) for d, enc in (dialects.for_company(f"c{n:05d}", locale) for n in range(60))}
        for locale in ("en_US", "de_DE", "ja_JP", "es_ES")
    }

    assert {name for name, _ in picks["en_US"]} == {"en_US", "en_US_ledger"}
    assert {enc for _, enc in picks["de_DE"]} == {"cp1252", "utf-8-sig"}
    assert {enc for _, enc in picks["ja_JP"]} == {"shift_jis", "utf-8"}
    assert picks["es_ES"] == {("generic", "utf-8")}


def test_given_poison_value_when_dropped_then_the_impossible_value_is_in_its_cell(drop: Path) -> None:
    rows = all_rows(drop, US, "invoice")

    assert [row["line.quantity"] for row in rows if row["record_id"] == "INV-0000008"] == [-3]


@pytest.mark.parametrize("owner", CSV_COMPANIES, ids=lambda c: c.locale)
def test_given_row_poison_when_dropped_then_its_first_row_is_malformed_and_the_file_still_holds_the_rest(
    drop: Path, owner: Company
) -> None:
    path = drop / f"csv/{owner.company_id}/invoice/invoice_20260306.csv"
    dialect = dialect_of(owner)
    width = len(dialect.headers["invoice"])
    raw_rows = list(dialect.reader(dialect.decode(path.read_bytes())))
    poisoned = [row for row in raw_rows if "INV-0000009" in dialect.delimiter.join(row)]

    assert poisoned and len(poisoned[0]) != width
    assert {row["record_id"] for row in read_rows(path, owner, "invoice")} >= {"INV-0000008", "INV-0000010"}


def test_given_company_on_another_system_when_dropped_then_it_has_no_files(drop: Path) -> None:
    assert not (drop / "csv" / QB.company_id).exists()
    assert sorted(p.name for p in (drop / "csv").iterdir()) == [c.company_id for c in CSV_COMPANIES]


def test_given_same_store_and_window_when_dropped_twice_then_files_are_byte_identical(
    store: SandboxStore, tmp_path: Path
) -> None:
    written, first, second = drop_twice(store, tmp_path)

    assert written and first == second


def test_given_no_since_when_dropped_then_history_before_the_window_is_included(
    store: SandboxStore, tmp_path: Path
) -> None:
    written = write_company(store, US, tmp_path, DropWindow(as_of=AS_OF))

    assert tmp_path / "csv/c00001/invoice/invoice_20260219.csv" in written  # 19:00 in New York


def test_given_naive_as_of_when_dropping_then_it_fails_naming_the_argument(
    store: SandboxStore, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match=r"as_of=.*no timezone"):
        write_drops(store, tmp_path, as_of=AS_OF.replace(tzinfo=None))


@pytest.mark.parametrize("dialect", default_dialects().dialects.values(), ids=lambda d: d.name)
def test_given_dialect_when_a_row_is_written_then_reading_it_back_gives_every_value(dialect: CsvDialect) -> None:
    cells: list[tuple[Kind, Any, Any]] = [
        ("money", 1234567.5, Decimal("1234567.50")),
        ("money", -0.07, Decimal("-0.07")),
        ("number", 2.5, Decimal("2.5")),
        ("date", date(2026, 1, 31), date(2026, 1, 31)),
        ("bool", False, False),
        ("status", "void", "void"),
        ("text", 'Café; "quoted", ok', 'Café; "quoted", ok'),
    ]
    line = io.StringIO(newline="")
    dialect.writer(line).writerow([dialect.format(kind, value, places=2) for kind, value, _ in cells])
    (row,) = dialect.reader(line.getvalue())

    assert [dialect.parse(kind, cell) for (kind, _, _), cell in zip(cells, row, strict=True)] == [
        expected for _, _, expected in cells
    ]


def test_given_dialect_map_missing_a_neutral_field_when_loaded_then_it_fails_naming_dialect_and_field(
    tmp_path: Path,
) -> None:
    source = DIALECTS_PATH.read_text(encoding="utf-8")
    broken = tmp_path / "dialects.toml"
    broken.write_text(source.replace('"Qty" = "line.quantity"\n', ""), encoding="utf-8")

    with pytest.raises(ValueError, match=r"dialect en_US, invoice headers.*missing \['line.quantity'\]"):
        load_dialects(broken)
    assert isinstance(load_dialects(), DialectMap)
