"""X12 file drops, read back with a tiny test-only reader that takes its separators from the ISA
segment the way any X12 parser does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors.sandbox.drops.x12 import separators_for
from connectors.sandbox.drops.x12_envelope import SEPARATOR_STYLES, Separators
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

BEFORE_SINCE = datetime(2026, 2, 2, tzinfo=UTC)


def ids_with_distinct_styles(count: int) -> list[str]:
    """Company ids whose separator styles all differ, so the drop exercises several styles."""
    chosen: dict[Separators, str] = {}
    for n in range(1, 1000):
        chosen.setdefault(separators_for(f"x{n:05d}"), f"x{n:05d}")
        if len(chosen) == count:
            return sorted(chosen.values())
    raise AssertionError("fewer separator styles than asked for")


US_ID, JP_ID = ids_with_distinct_styles(2)
US = company(US_ID, "x12", tz="America/Chicago", name="Acme Supply*Co~")  # separators in a name
JP = company(JP_ID, "x12", locale="ja_JP", tz="Asia/Tokyo", currency="JPY")
COMPANIES = (US, JP)


def company_records(owner: Company) -> list[Record]:
    price = 1500.0 if owner.currency == "JPY" else 12.34
    lines = [("WID-1", 16, price, 0.08), ("GAD-2", 2.5, price * 3, 0.08)]

    def doc(prefix: str, serial: int, issued: datetime, items: list[LineSpec] = lines, **kwargs: Any) -> dict[str, Any]:
        party_id = f"{prefix[0]}P-{serial:03d}"  # IP-… customers, PP-… vendors: ids only, as in X12
        number = f"{prefix}-{serial:04d}"
        return document_body(owner, number, party_id, issued - timedelta(hours=3), items, **kwargs)

    return [
        record(owner, "invoice", 1, doc("INV", 1, at(2), reference="#1001"), updated=at(2)),
        record(owner, "invoice", 2, doc("INV", 2, at(2), status="paid"), updated=at(3), version=2, created=at(2)),
        record(owner, "invoice", 3, doc("INV", 3, at(2), status="void"), updated=at(3, 16), version=2, created=at(2)),
        record(owner, "invoice", 4, doc("INV", 4, at(2)), updated=at(4), version=2, created=at(2), deleted=True),
        record(owner, "invoice", 5, doc("INV", 5, at(4), [("WID-1", -3, price, 0.0)]), updated=at(4, 17),
               truth={"poison": "quantity"}),
        record(owner, "invoice", 6, doc("INV", 6, at(4)), updated=at(4, 18), truth={"poison": "row"}),
        record(owner, "invoice", 7, doc("INV", 7, BEFORE_SINCE), updated=BEFORE_SINCE),
        record(owner, "purchase_order", 1, doc("PO", 1, at(2)), updated=at(2, 9)),
        record(owner, "purchase_order", 2, doc("PO", 2, at(3), status="cancelled"), updated=at(5), version=2,
               created=at(3)),
    ]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxStore]:
    records = [r for owner in COMPANIES for r in company_records(owner)]
    yield from opened_store(tmp_path_factory.mktemp("x12"), COMPANIES, records)


@pytest.fixture(scope="module")
def drop(store: SandboxStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return window_drop(store, tmp_path_factory.mktemp("drop"))


# -- a tiny X12 reader ----------------------------------------------------------------------------


@dataclass
class Interchange:
    isa: str  # the ISA segment's text, terminator included
    segments: list[list[str]]  # every segment split into elements, ISA included

    @property
    def transaction_sets(self) -> list[list[list[str]]]:
        sets, current = [], None
        for segment in self.segments:
            if segment[0] == "ST":
                current = []
            if current is not None:
                current.append(segment)
            if segment[0] == "SE":
                sets.append(current)
                current = None
        return sets


def read_x12(path: Path) -> Interchange:
    text = path.read_bytes().decode("utf-8")
    element, terminator = text[3], text[105]
    segments = [chunk.strip("\r\n") for chunk in text.split(terminator)]
    return Interchange(isa=text[:106], segments=[s.split(element) for s in segments if s.strip("\r\n")])


def interchanges(drop: Path, owner: Company, code: str) -> list[Interchange]:
    return [read_x12(p) for p in sorted((drop / "x12" / owner.company_id / code).glob("*.edi"))]


#: Where each document kind's beginning segment carries the document number.
NUMBER_AT = {"810": ("BIG", 2), "850": ("BEG", 3), "856": ("BSN", 2)}


def document_number(code: str, transaction: list[list[str]]) -> str:
    tag, position = NUMBER_AT[code]
    return first(transaction, tag)[position]


def sets_by_document(drop: Path, owner: Company, code: str) -> dict[str, list[list[str]]]:
    found: dict[str, list[list[str]]] = {}
    for interchange in interchanges(drop, owner, code):
        for transaction in interchange.transaction_sets:
            number = document_number(code, transaction)
            assert number not in found, f"{number} appears twice"
            found[number] = transaction
    return found


def first(transaction: list[list[str]], tag: str, qualifier: str | None = None) -> list[str]:
    return next(s for s in transaction if s[0] == tag and (qualifier is None or s[1] == qualifier))


def listed(store: SandboxStore, owner: Company, entity: str) -> list[Record]:
    return list(store.records("x12", owner.company_id, entity, as_of=AS_OF, updated_since=SINCE, updated_before=AS_OF))


def yyyymmdd(instant: str, owner: Company) -> str:
    return datetime.fromisoformat(instant).astimezone(ZoneInfo(owner.timezone)).strftime("%Y%m%d")


# -- envelopes -------------------------------------------------------------------------------------


def assert_valid_envelope(interchange: Interchange, code: str, *, miscounted: frozenset[str] = frozenset()) -> None:
    """ISA/IEA and GS/GE agree on control numbers and counts; every set's SE01 counts ST through SE
    (except the documents in `miscounted`); ST02 is unique in the group."""
    isa, gs, *_, ge, iea = interchange.segments
    sets = interchange.transaction_sets

    assert len(interchange.isa) == 106 and len(isa) == 17 and isa[12] == "00401"
    assert gs[8] == "004010" and (iea[0], iea[1], iea[2]) == ("IEA", "1", isa[13])
    assert (ge[0], ge[1], ge[2]) == ("GE", str(len(sets)), gs[6])
    assert sum(map(len, sets)) + 4 == len(interchange.segments)  # nothing outside ST…SE
    assert len({transaction[0][2] for transaction in sets}) == len(sets)
    for transaction in sets:
        st, se = transaction[0], transaction[-1]
        assert st[1] == code and se[2] == st[2]
        assert int(se[1]) == len(transaction) + (document_number(code, transaction) in miscounted)


def test_given_a_real_partner_810_when_read_then_the_test_reader_agrees_with_its_envelope() -> None:
    sample = Path(__file__).resolve().parents[3] / "shared/fixtures/x12/810_two_invoices.edi"  # xlate/staedi
    if not sample.exists():
        pytest.skip("shared/fixtures is not beside this checkout")
    interchange = read_x12(sample)

    assert_valid_envelope(interchange, "810")
    assert [document_number("810", t) for t in interchange.transaction_sets] == ["00001", "00001"]


@pytest.mark.parametrize("owner", COMPANIES, ids=lambda c: c.currency)
def test_given_drop_when_envelopes_are_read_then_counts_and_control_numbers_hold(drop: Path, owner: Company) -> None:
    control_numbers = []
    for code, functional_id in (("810", "IN"), ("850", "PO"), ("856", "SH")):
        for interchange in interchanges(drop, owner, code):
            isa, gs = interchange.segments[:2]
            control_numbers.append(isa[13])

            assert_valid_envelope(interchange, code, miscounted=frozenset({"INV-0006"}))  # the row-poison record
            assert isa[6].strip() == owner.company_id.upper() and isa[8].strip() == "GROUNDSWELL"
            assert gs[1] == functional_id and int(gs[6]) == int(isa[13])
    assert control_numbers and len(set(control_numbers)) == len(control_numbers)


def test_given_companies_when_dropped_then_each_keeps_its_own_separator_style(drop: Path) -> None:
    styles = {owner.company_id: interchanges(drop, owner, "810")[0].isa for owner in COMPANIES}

    assert len({(isa[3], isa[104], isa[105]) for isa in styles.values()}) == 2
    assert {separators_for(f"x{n:05d}") for n in range(200)} == set(SEPARATOR_STYLES)


def test_given_values_holding_separators_when_written_then_they_cannot_split_elements(drop: Path) -> None:
    interchange = interchanges(drop, US, "810")[0]
    separators = {interchange.isa[3], interchange.isa[104], interchange.isa[105]}
    seller = first(interchange.transaction_sets[0], "N1", "SE")

    assert seller == ["N1", "SE", "".join(" " if c in separators else c for c in US.name), "ZZ", US_ID.upper()]


# -- documents -------------------------------------------------------------------------------------


@pytest.mark.parametrize("owner", COMPANIES, ids=lambda c: c.currency)
def test_given_invoices_when_dropped_then_each_is_one_810_with_its_date_currency_lines_and_total(
    store: SandboxStore, drop: Path, owner: Company
) -> None:
    sets = sets_by_document(drop, owner, "810")
    invoices = listed(store, owner, "invoice")

    assert sorted(sets) == sorted(r.body["number"] for r in invoices)
    for invoice in invoices:
        body, transaction = invoice.body, sets[invoice.body["number"]]
        big = first(transaction, "BIG")
        lines = [s for s in transaction if s[0] == "IT1"]
        assert big[1] == yyyymmdd(body["issued_at"], owner)
        assert first(transaction, "CUR") == ["CUR", "SE", body["currency"]]
        assert first(transaction, "N1", "BT")[3:] == ["91", body["party_id"]]
        assert [(Decimal(s[2]), Decimal(s[4]), s[7]) for s in lines] == [
            (Decimal(repr(line["quantity"])), Decimal(repr(line["unit_price"])), line["sku"]) for line in body["lines"]
        ]
        assert Decimal(first(transaction, "TDS")[1]) == Decimal(repr(body["total"])) * 100
        summary_tax = [s for s in transaction if s[0] == "TXI"][-1]
        assert Decimal(summary_tax[2]) == Decimal(repr(body["tax_total"]))
        assert first(transaction, "CTT")[1] == str(len(body["lines"]))


@pytest.mark.parametrize("owner", COMPANIES, ids=lambda c: c.currency)
def test_given_purchase_orders_when_dropped_then_each_is_one_850_with_its_lines_and_total(
    store: SandboxStore, drop: Path, owner: Company
) -> None:
    sets = sets_by_document(drop, owner, "850")
    orders = listed(store, owner, "purchase_order")

    assert sorted(sets) == sorted(r.body["number"] for r in orders)
    for order in orders:
        body, transaction = order.body, sets[order.body["number"]]
        assert first(transaction, "BEG")[5] == yyyymmdd(body["issued_at"], owner)
        assert first(transaction, "CUR") == ["CUR", "BY", body["currency"]]
        assert [(Decimal(s[2]), Decimal(s[4]), s[7]) for s in transaction if s[0] == "PO1"] == [
            (Decimal(repr(line["quantity"])), Decimal(repr(line["unit_price"])), line["sku"]) for line in body["lines"]
        ]
        assert first(transaction, "AMT", "TT")[2] == f"{Decimal(repr(body['total'])).normalize():f}"


@pytest.mark.parametrize("owner", COMPANIES, ids=lambda c: c.currency)
def test_given_shipping_invoices_when_dropped_then_each_has_one_856_with_hierarchy_and_quantities(
    store: SandboxStore, drop: Path, owner: Company
) -> None:
    sets = sets_by_document(drop, owner, "856")
    shipping = [r for r in listed(store, owner, "invoice") if not r.deleted and r.body["status"] != "void"]

    assert sorted(sets) == sorted(r.body["number"] for r in shipping)
    for invoice in shipping:
        transaction = sets[invoice.body["number"]]
        levels = [s[1:4] for s in transaction if s[0] == "HL"]
        assert levels[:2] == [["1", "", "S"], ["2", "1", "O"]]
        assert all(level[1:] == ["2", "I"] for level in levels[2:])
        assert first(transaction, "REF", "IV")[2] == invoice.body["number"]
        assert [Decimal(s[2]) for s in transaction if s[0] == "SN1"] == [
            Decimal(repr(line["quantity"])) for line in invoice.body["lines"]
        ]
        assert first(transaction, "CTT")[1] == str(len(levels))


def test_given_document_lifecycle_when_dropped_then_purpose_codes_say_original_replace_or_cancellation(
    drop: Path,
) -> None:
    invoices, orders = sets_by_document(drop, US, "810"), sets_by_document(drop, US, "850")
    purpose = {number: first(t, "BIG")[8] for number, t in invoices.items()}

    assert purpose["INV-0001"] == "00"
    assert purpose["INV-0002"] == "05"  # a late edit replaces
    assert purpose["INV-0003"] == "01"  # voided
    assert purpose["INV-0004"] == "01"  # deleted at the source
    assert first(orders["PO-0001"], "BEG")[1] == "00" and first(orders["PO-0002"], "BEG")[1] == "01"
    assert first(invoices["INV-0001"], "REF", "CO")[2] == "#1001"


def test_given_zero_decimal_currency_when_dropped_then_tds_still_carries_hundredths(
    store: SandboxStore, drop: Path
) -> None:
    invoice = next(r for r in listed(store, JP, "invoice") if r.body["number"] == "INV-0001")

    assert first(sets_by_document(drop, JP, "810")["INV-0001"], "TDS")[1] == str(int(invoice.body["total"]) * 100)


def test_given_poison_records_when_dropped_then_they_go_out_as_carried(drop: Path) -> None:
    invoices = sets_by_document(drop, US, "810")
    row_poisoned = invoices["INV-0006"]

    assert first(invoices["INV-0005"], "IT1")[2] == "-3"
    assert int(row_poisoned[-1][1]) == len(row_poisoned) + 1  # SE01 miscounts, as a 997 would report


def test_given_window_when_dropped_then_files_are_named_by_local_day_and_old_records_stay_out(drop: Path) -> None:
    names = {p.name for p in (drop / "x12" / US.company_id).rglob("*.edi")}

    assert "INV-0007" not in sets_by_document(drop, US, "810")
    assert names == {
        "810_20260302.edi", "810_20260303.edi", "810_20260304.edi",
        "850_20260302.edi", "850_20260305.edi",
        "856_20260302.edi", "856_20260303.edi", "856_20260304.edi",
    }


def test_given_same_store_and_window_when_dropped_twice_then_files_are_byte_identical(
    store: SandboxStore, tmp_path: Path
) -> None:
    written, first, second = drop_twice(store, tmp_path)

    assert written and first == second
