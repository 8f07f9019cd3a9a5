"""X12 004010 drops → canonical invoices (810) and purchase orders (850); 856 ship notices describe
shipments of invoiced goods and stay in bronze. The connector keeps every segment as its list of
elements, split into header, line loops and summary, so the mapping reads elements by position as the
standard defines them. Dates are the sender's local calendar dates (dated at midnight UTC); TDS01 is N2
(hundredths); purpose code 01 cancels the document. Without a CUR segment the amounts are in US dollars,
the X12 default between partners; an 850 without AMT totals its PO1 lines."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.silver.mapping import Fields, Mapping, money, money_sum, ref_id, struct_of, text
from schemas.canonical.entities import DocumentLine

SYSTEM = "x12"
CANCELLATION = "01"


def element(segments: Column, tag: str, index: int, qualifier: str | None = None) -> Column:
    """Element `index` of the first segment `tag` (whose first element is `qualifier`, when given); null
    when there is no such segment or it is shorter."""
    found = F.filter(segments, lambda s: (F.get(s, 0) == tag) & (F.lit(True) if qualifier is None else F.get(s, 1) == qualifier))
    return F.get(F.get(found, 0), index)


def _lines(p: Column, item: str) -> Column:
    """IT1 (810) or PO1 (850) loops: 01 line number, 02 quantity, 04 unit price, 07 the SKU (06 = SK)."""
    return F.transform(p["lines"], lambda loop, i: struct_of(
        DocumentLine,
        line_no=F.coalesce(text(element(loop, item, 1)).try_cast("long"), i + 1),
        sku=text(element(loop, item, 7)),
        description=text(element(loop, "PID", 5)),
        quantity=money(element(loop, item, 2)),
        unit_price=money(element(loop, item, 4)),
        amount=(money(element(loop, item, 2)) * money(element(loop, item, 4))),
        tax_amount=F.coalesce(money(element(loop, "TXI", 2, "TX")), F.lit(0)),
    ))


def _document(p: Column, f: Fields, item: str, date: tuple[str, Column], currency: Column, party: Column, party_entity: str) -> dict[str, Column]:
    """`date` is (element name, element) of the document date."""
    lines = _lines(p, item)
    bad = F.filter(lines, lambda line: line["quantity"].isNull() | (line["quantity"] < 0) | line["unit_price"].isNull())
    f.problem(F.size(bad) > 0, "not-a-quantity", f"{item}02",
              F.concat(F.lit(f"{item} line "), F.get(bad, 0)["line_no"].cast("string"), F.lit(f" has no readable quantity ≥ 0 ({item}02) and price ({item}04)")))
    return {
        "source_id": p["number"],
        "number": text(p["number"]),
        "party_id": ref_id(SYSTEM, party_entity, party),
        "issued_at": F.to_timestamp(f.date(*date, formats=("yyyyMMdd",))),
        "currency": F.upper(F.coalesce(text(currency), F.lit("USD"))),
        "lines": lines,
        "is_deleted": text(p["purpose"]) == CANCELLATION,
    }


def invoice(p: Column, f: Fields) -> dict[str, Column]:
    header, summary = p["header"], p["summary"]
    columns = _document(p, f, "IT1", ("BIG01", element(header, "BIG", 1)), element(header, "CUR", 2), element(header, "N1", 4, "BT"), "customer")
    total = f.decimal("TDS01", element(summary, "TDS", 1)) / 100
    tax = F.coalesce(f.decimal("TXI02", element(summary, "TXI", 2, "TX"), required=False), F.lit(0))
    return columns | {
        "status": F.when(text(p["purpose"]) == CANCELLATION, "void").otherwise("open"),
        "subtotal": total - tax,
        "tax_total": tax,
        "total": total,
        "due_on": f.date("ITD06", element(header, "ITD", 6), required=False, formats=("yyyyMMdd",)),
        "reference": text(element(header, "REF", 2, "CO")),
    }


def purchase_order(p: Column, f: Fields) -> dict[str, Column]:
    header, summary = p["header"], p["summary"]
    columns = _document(p, f, "PO1", ("BEG05", element(header, "BEG", 5)), element(header, "CUR", 2), F.coalesce(element(header, "N1", 4, "SE"), element(header, "N1", 4, "SU")), "vendor")
    subtotal = money_sum(columns["lines"], lambda line: line["amount"])
    total = F.coalesce(f.decimal("AMT02", element(summary, "AMT", 2, "TT"), required=False), subtotal)
    return columns | {
        "status": F.when(text(p["purpose"]) == CANCELLATION, "cancelled").otherwise("open"),
        "subtotal": subtotal,
        "tax_total": total - subtotal,
        "total": total,
        "expected_on": f.date("DTM02", element(header, "DTM", 2, "002"), required=False, formats=("yyyyMMdd",)),
    }


MAPPINGS = (
    Mapping(SYSTEM, "810", "invoice", invoice),
    Mapping(SYSTEM, "850", "purchase_order", purchase_order),
)
