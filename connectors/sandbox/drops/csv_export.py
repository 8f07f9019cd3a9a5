"""CSV drops: the daily customer, product and invoice exports of a company whose books are a
small-business tool, in that tool's dialect (csv_dialects.toml).

Layout: `csv/<company_id>/<entity>/<entity>_YYYYMMDD.csv`, one file per local day of update. Deleted
records are absent (an export lists what exists); voided invoices are listed with their status.
Invoices have one row per line, the invoice's fields repeated on each. A poison record is written
with its impossible value in its cell; one whose truth "poison" is "row" gets a malformed first row
(a cell short, or a quote opened and never closed — which, as in a real export, swallows what
follows it in the file).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from connectors.sandbox.defects import ROW_POISON
from connectors.sandbox.drops.csv_dialect import Column, ExportDialect, default_dialects
from connectors.sandbox.drops.pick import stable_pick
from connectors.sandbox.drops.values import calendar_date, minor_units
from connectors.sandbox.drops.window import DropWindow, by_local_day, company_timezone
from connectors.sandbox.model import SYSTEM_ENTITIES, Company, Record
from connectors.sandbox.store import SandboxStore

SYSTEM = "csv"
_ROW_FAULTS = ("short_row", "open_quote")
_LINE = "line."  # prefix of the neutral fields that differ per row of one invoice


def write_company(store: SandboxStore, company: Company, out_dir: Path, window: DropWindow) -> list[Path]:
    dialects = default_dialects()
    dialect, encoding = dialects.for_company(company.company_id, company.locale)
    row_values = _RowValues(store, company, company_timezone(company), window)
    written: list[Path] = []
    for entity in SYSTEM_ENTITIES[SYSTEM]:
        columns = dialects.columns(dialect, entity)
        listed = (r for r in window.records(store, SYSTEM, company.company_id, entity) if not r.deleted)
        for day, records in by_local_day(listed, row_values.tz):
            path = out_dir / SYSTEM / company.company_id / entity / f"{entity}_{day:%Y%m%d}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding=encoding, errors="replace", newline="") as file:
                _write_day(file, dialect, columns, records, row_values)
            written.append(path)
    return written


def _write_day(
    file: TextIO, dialect: ExportDialect, columns: list[Column], records: Iterable[Record], values: _RowValues
) -> None:
    writer = dialect.writer(file)
    writer.writerow([column.header for column in columns])
    for record in records:
        places = minor_units(record.body.get("currency", values.company.currency))
        fields, lines = values.fields(record)
        shared = {
            c.field: dialect.format(c.kind, fields.get(c.field), places=places)
            for c in columns if not c.field.startswith(_LINE)
        }
        rows = [
            [shared[c.field] if c.field in shared else dialect.format(c.kind, line.get(c.field), places=places)
             for c in columns]
            for line in lines
        ]
        if record.truth.get("poison") == ROW_POISON:
            fault = stable_pick(f"{record.company_id}/{record.record_id}", _ROW_FAULTS)
            file.write(_malformed(rows[0], dialect, fault))
            rows = rows[1:]
        writer.writerows(rows)


def _malformed(cells: list[str], dialect: ExportDialect, fault: str) -> str:
    """A row no CSV reader takes at face value: one cell short, or an opening quote never closed."""
    line = io.StringIO()
    dialect.writer(line).writerow(cells[:-1] if fault == "short_row" else cells)
    return line.getvalue() if fault == "short_row" else '"' + line.getvalue()


class _RowValues:
    """A record's cells as neutral field -> value (the names the dialect headers map to): the fields
    of the record itself, and one set per row of its own ("line.*"; invoices have one per line)."""

    def __init__(self, store: SandboxStore, company: Company, tz: ZoneInfo, window: DropWindow) -> None:
        self.store, self.company, self.tz, self.window = store, company, tz, window

    def fields(self, record: Record) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        fields = {"record_id": record.record_id, **_flatten(record.body)}
        if record.entity != "invoice":
            return fields, [{}]
        fields["issued_on"] = calendar_date(record.body.get("issued_at"), self.tz) or record.body.get("issued_at")
        fields["due_on"] = calendar_date(record.body.get("due_on"), self.tz) or record.body.get("due_on")
        fields["party_name"] = self._party_name(record.body.get("party_id"))
        lines = record.body.get("lines") or [{}]
        return fields, [{f"{_LINE}{key}": value for key, value in line.items()} for line in lines]

    def _party_name(self, party_id: object) -> str | None:
        """The customer's name as the tool shows it at export time (the customer list is its own)."""
        if not isinstance(party_id, str):
            return None
        party = self.store.get(SYSTEM, self.company.company_id, "customer", party_id, as_of=self.window.as_of)
        return party.body.get("name") if party else None


def _flatten(body: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted fields ("address.city"); lists are left to the caller."""
    flat: dict[str, Any] = {}
    for key, value in body.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        elif not isinstance(value, list):
            flat[f"{prefix}{key}"] = value
    return flat
