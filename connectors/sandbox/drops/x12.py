"""X12 drops: the 004010 interchanges a company trading by EDI copies to Groundswell each day —
810 invoices, 850 purchase orders and 856 ship notices for the invoices that ship.

Layout: `x12/<company_id>/<810|850|856>/<code>_YYYYMMDD.edi`, one interchange per document kind and
local day of update, one transaction set per document, sent by the company (ISA06 = its id) to
Groundswell (ISA08). Control numbers are deterministic: the interchange/group number is the day's
ordinal * 10 + a digit per kind, so it is unique per sender and a re-drop of the same day reuses
it, as a resend would; transaction set numbers count 0001… within the group.

Purpose codes (element 353 in BIG08, BEG01, BSN01): "00" original for a document's first version,
"05" replace for a later version (a late edit), "01" cancellation for a voided or cancelled document
and for one the source deleted. The cancellation repeats the document as last held so a receiver
can match it by number; no 856 is sent for a cancelled invoice.

Amounts are decimals as held (unit prices, AMT) except TDS01, which is N2: the total in hundredths
of the currency, whatever its minor unit. Dates are the company's local calendar dates. A poison
value goes out as carried; a record whose truth "poison" is "row" gets a wrong SE01 segment count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from connectors.sandbox.defects import ROW_POISON
from connectors.sandbox.drops.pick import stable_pick
from connectors.sandbox.drops.values import as_decimal, calendar_date, local_instant, plain_decimal, raw_text, yyyymmdd
from connectors.sandbox.drops.window import DropWindow, by_local_day, company_timezone
from connectors.sandbox.drops.x12_envelope import SEPARATOR_STYLES, EnvelopeHeader, Interchange, Segment, Separators
from connectors.sandbox.model import Company, Record
from connectors.sandbox.store import SandboxStore

SYSTEM = "x12"
RECEIVER_ID = "GROUNDSWELL"

ORIGINAL, CANCELLATION, REPLACE = "00", "01", "05"
_CANCELLED_STATUSES = ("void", "cancelled")


@dataclass(frozen=True, slots=True)
class _Sender:
    """The company on the wire; its customers and vendors appear only by their ids."""

    id: str
    name: str


def separators_for(company_id: str) -> Separators:
    return stable_pick(f"x12-separators/{company_id}", SEPARATOR_STYLES)


def control_number(day: date, kind_digit: int) -> int:
    return day.toordinal() * 10 + kind_digit


def purpose(record: Record) -> str:
    if record.deleted or record.body.get("status") in _CANCELLED_STATUSES:
        return CANCELLATION
    return ORIGINAL if record.version == 1 else REPLACE


# -- element values ------------------------------------------------------------------------------


def _number(value: object) -> str:
    number = as_decimal(value)
    return raw_text(value) if number is None else plain_decimal(number)


def _hundredths(value: object) -> str:
    """N2: implied two decimals ("1234.5" -> "123450")."""
    number = as_decimal(value)
    return raw_text(value) if number is None else str(int((number * 100).to_integral_value()))


def _date(value: object, tz: ZoneInfo) -> str:
    day = calendar_date(value, tz)
    return raw_text(value) if day is None else yyyymmdd(day)


def _text(value: object, max_length: int) -> str:
    return raw_text(value)[:max_length]


def _line_tax(line: dict[str, Any]) -> list[Segment]:
    """TXI in the IT1 loop; left out for a line without tax, since TXI needs an amount or a rate."""
    return [] if line.get("tax_amount") is None else [("TXI", "TX", _number(line["tax_amount"]))]


# -- transaction sets ------------------------------------------------------------------------------


def invoice_810(record: Record, sender: _Sender, tz: ZoneInfo) -> list[Segment]:
    body = record.body
    lines = body.get("lines") or []
    segments: list[Segment] = [
        ("BIG", _date(body.get("issued_at"), tz), _text(body.get("number"), 22), "", "", "", "", "",
         purpose(record)),
        ("CUR", "SE", raw_text(body.get("currency"))),
    ]
    if body.get("reference"):
        segments.append(("REF", "CO", _text(body["reference"], 30)))
    segments += [
        ("N1", "SE", _text(sender.name, 60), "ZZ", sender.id),
        ("N1", "BT", "", "91", _text(body.get("party_id"), 80)),
    ]
    if body.get("due_on"):
        segments.append(("ITD", "01", "3", "", "", "", _date(body["due_on"], tz)))
    for line in lines:
        segments += [
            ("IT1", _number(line.get("line_no")), _number(line.get("quantity")), "EA", _number(line.get("unit_price")),
             "", "SK", _text(line.get("sku"), 48)),
            *_line_tax(line),
            ("PID", "F", "", "", "", _text(line.get("description"), 80)),
        ]
    segments += [
        ("TDS", _hundredths(body.get("total"))),
        ("TXI", "TX", _number(body.get("tax_total"))),
        ("CTT", str(len(lines))),
    ]
    return segments


def purchase_order_850(record: Record, sender: _Sender, tz: ZoneInfo) -> list[Segment]:
    body = record.body
    lines = body.get("lines") or []
    segments: list[Segment] = [
        ("BEG", purpose(record), "SA", _text(body.get("number"), 22), "", _date(body.get("issued_at"), tz)),
        ("CUR", "BY", raw_text(body.get("currency"))),
    ]
    if body.get("due_on"):
        segments.append(("DTM", "002", _date(body["due_on"], tz)))
    segments += [
        ("N1", "BY", _text(sender.name, 60), "ZZ", sender.id),
        ("N1", "SE", "", "92", _text(body.get("party_id"), 80)),
    ]
    for line in lines:
        segments += [
            ("PO1", _number(line.get("line_no")), _number(line.get("quantity")), "EA", _number(line.get("unit_price")),
             "", "SK", _text(line.get("sku"), 48)),
            ("PID", "F", "", "", "", _text(line.get("description"), 80)),
        ]
    segments += [("CTT", str(len(lines))), ("AMT", "TT", _number(body.get("total")))]
    return segments


def ship_notice_856(record: Record, sender: _Sender, tz: ZoneInfo) -> list[Segment]:
    """Shipment → order → item levels (BSN05 0004), one item per invoice line; CTT01 counts HLs."""
    body = record.body
    shipped = local_instant(body.get("issued_at"), tz)
    segments: list[Segment] = [
        ("BSN", purpose(record), _text(body.get("number"), 30), _date(body.get("issued_at"), tz),
         f"{shipped:%H%M}" if shipped else "", "0004"),
        ("HL", "1", "", "S"),
        ("DTM", "011", _date(body.get("issued_at"), tz)),
        ("N1", "SF", _text(sender.name, 60), "ZZ", sender.id),
        ("N1", "ST", "", "91", _text(body.get("party_id"), 80)),
        ("HL", "2", "1", "O"),
        ("REF", "IV", _text(body.get("number"), 30)),
    ]
    if body.get("reference"):
        segments.append(("REF", "CO", _text(body["reference"], 30)))
    lines = body.get("lines") or []
    for level, line in enumerate(lines, start=3):
        segments += [
            ("HL", str(level), "2", "I"),
            ("LIN", _number(line.get("line_no")), "SK", _text(line.get("sku"), 48)),
            ("SN1", _number(line.get("line_no")), _number(line.get("quantity")), "EA"),
        ]
    segments.append(("CTT", str(2 + len(lines))))
    return segments


# -- files -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _DocumentKind:
    code: str
    entity: str
    functional_id: str
    digit: int  # the last digit of the control number: kinds of one day never share a number
    build: Callable[[Record, _Sender, ZoneInfo], list[Segment]]
    ships_only: bool = False


DOCUMENT_KINDS = (
    _DocumentKind("810", "invoice", "IN", 1, invoice_810),
    _DocumentKind("850", "purchase_order", "PO", 2, purchase_order_850),
    _DocumentKind("856", "invoice", "SH", 3, ship_notice_856, ships_only=True),
)


def write_company(store: SandboxStore, company: Company, out_dir: Path, window: DropWindow) -> list[Path]:
    tz = company_timezone(company)
    separators = separators_for(company.company_id)
    sender = _Sender(id=company.company_id.upper(), name=company.name)
    written: list[Path] = []
    for kind in DOCUMENT_KINDS:
        records: Iterable[Record] = window.records(store, SYSTEM, company.company_id, kind.entity)
        if kind.ships_only:
            records = (r for r in records if purpose(r) != CANCELLATION and r.body.get("lines"))
        for day, day_records in by_local_day(records, tz):
            path = out_dir / SYSTEM / company.company_id / kind.code / f"{kind.code}_{day:%Y%m%d}.edi"
            path.parent.mkdir(parents=True, exist_ok=True)
            header = EnvelopeHeader(
                sender_id=sender.id, receiver_id=RECEIVER_ID, functional_id=kind.functional_id,
                control_number=control_number(day, kind.digit), prepared_at=window.export_time(day, tz),
            )
            with path.open("w", encoding="utf-8", newline="") as out, Interchange(out, separators, header) as sets:
                for record in day_records:
                    miscount = record.truth.get("poison") == ROW_POISON
                    sets.add(kind.code, kind.build(record, sender, tz), miscount=miscount)
            written.append(path)
    return written
