"""CSV file drops → canonical invoices, customers and products. Every cell is text written in its
exporting tool's dialect (connectors/csv_drop/dialects.toml: decimal and digit-group separators, date
pattern, status words), named on each record by the connector (`_source.dialect`); the mapping reads each
dialect's conventions from the same map, as Spark expressions. Invoice dates are local calendar dates,
dated at midnight UTC."""

from __future__ import annotations

import re
from functools import cache

from pyspark.sql import Column
from pyspark.sql import functions as F

from connectors.csv_drop.dialect import CsvDialect, default_dialects
from jobs.silver.mapping import Fields, Mapping, ref_id, struct_of, text
from schemas.canonical.derive import MONEY
from schemas.canonical.entities import DocumentLine

SYSTEM = "csv"

_STRFTIME_TO_JAVA = {"%d": "dd", "%m": "MM", "%Y": "yyyy", "%y": "yy", "%b": "MMM"}


@cache
def dialects() -> tuple[CsvDialect, ...]:
    return tuple(default_dialects().dialects.values())


def _java_pattern(strftime: str) -> str:
    return re.sub(r"%[a-zA-Z]", lambda m: _STRFTIME_TO_JAVA[m.group(0)], strftime)


def _per_dialect(p: Column, build) -> Column:
    """`build(dialect)` for the record's dialect (a CASE over the known dialects; unknown → null)."""
    name = text(p["_source"]["dialect"])
    cases = None
    for dialect in dialects():
        cases = (F.when if cases is None else cases.when)(name == dialect.name, build(dialect))
    return cases


def _number(p: Column, raw: Column, grouped: bool) -> Column:
    def parse(dialect: CsvDialect) -> Column:
        digits = F.replace(text(raw), F.lit(dialect.thousands), F.lit("")) if grouped and dialect.thousands else text(raw)
        return F.replace(digits, F.lit(dialect.decimal), F.lit(".")).try_cast(MONEY)
    return _per_dialect(p, parse)


def _date(p: Column, raw: Column) -> Column:
    return _per_dialect(p, lambda dialect: F.try_to_date(text(raw), _java_pattern(dialect.date_format)))


def invoice(p: Column, f: Fields) -> dict[str, Column]:
    def money(raw: Column) -> Column:
        return _number(p, raw, grouped=True)

    lines = F.transform(p["lines"], lambda line, i: struct_of(
        DocumentLine,
        line_no=F.coalesce(text(line["line_no"]).try_cast("long"), i + 1),
        sku=text(line["sku"]),
        description=text(line["description"]),
        quantity=_number(p, line["quantity"], grouped=False),
        unit_price=money(line["unit_price"]),
        amount=money(line["amount"]),
        tax_amount=F.coalesce(money(line["tax_amount"]), F.lit(0)),
    ))
    bad = F.filter(lines, lambda line: line["quantity"].isNull() | line["amount"].isNull() | (line["quantity"] < 0))
    f.problem(F.size(bad) > 0, "not-a-number", "lines[].quantity",
              F.concat(F.lit("line "), F.get(bad, 0)["line_no"].cast("string"), F.lit(" has no readable quantity ≥ 0 and amount in the file's dialect")))
    status = _per_dialect(p, lambda d: F.create_map(*[F.lit(x) for ours, word in d.statuses.items() for x in (word, ours)])[text(p["status"])])
    f.problem(text(p["status"]).isNotNull() & status.isNull(), "unknown-status", "status",
              F.concat(F.lit("status is none of the dialect's status words: "), text(p["status"])))
    issued = _date(p, p["issued_on"])
    f.problem(text(p["issued_on"]).isNotNull() & issued.isNull(), "not-a-date", "issued_on",
              F.concat(F.lit("issued_on is not a date in the file's dialect: "), text(p["issued_on"])))
    return {
        "source_id": p["record_id"],
        "number": text(p["number"]),
        "party_id": ref_id(SYSTEM, "customer", p["party_id"]),
        "issued_at": f.required("issued_on", F.to_timestamp(issued)),
        "currency": f.required("currency", F.upper(text(p["currency"]))),
        "status": f.required("status", status),
        "subtotal": f.required("subtotal", money(p["subtotal"])),
        "tax_total": f.required("tax_total", money(p["tax_total"])),
        "total": f.required("total", money(p["total"])),
        "due_on": _date(p, p["due_on"]),
        "balance": money(p["balance"]),
        "reference": text(p["reference"]),
        "lines": lines,
    }


def customer(p: Column, f: Fields) -> dict[str, Column]:
    return {
        "source_id": p["record_id"],
        "name_token": f.required("name", text(p["name"])),
        "email_token": text(p["email"]),
        "phone_token": text(p["phone"]),
        "country": text(p["address.country"]),
    }


def product(p: Column, f: Fields) -> dict[str, Column]:
    return {
        "source_id": p["record_id"],
        "sku": text(p["sku"]),
        "name": f.required("name", text(p["name"])),
        "category": text(p["category"]),
        "unit_price": _number(p, p["unit_price"], grouped=True),
    }


MAPPINGS = (
    Mapping(SYSTEM, "invoice", "invoice", invoice),
    Mapping(SYSTEM, "customer", "customer", customer),
    Mapping(SYSTEM, "product", "product", product),
)
