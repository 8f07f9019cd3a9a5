"""One CSV export file to records: find its dialect (encoding and delimiter sniffed against the known
header rows, unless the connection names the dialect), map its headers to our neutral field names,
group an invoice's rows into one document with its lines, and report malformed rows by line.

Values stay the text the tool wrote ("1.234,56", "24.11.2026"): `_source.dialect` names the dialect
whose `parse` reads them, so bronze keeps the source's values and silver converts them.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from connectors.base import error_record
from connectors.csv_drop.dialect import CsvDialect, DialectMap
from connectors.file_drop import DropFile, source_of

_LINE = "line."  # neutral fields that differ per row of one invoice


@dataclass(frozen=True, slots=True)
class _Sniffed:
    dialect: CsvDialect
    encoding: str
    lines: list[str]  # physical lines, line breaks kept


def read_export(
    drop: DropFile, raw: bytes, entity: str, dialects: DialectMap, *, known: CsvDialect | None = None
) -> list[dict[str, Any]]:
    """The file's records (one per customer, product or invoice) and error records, in file order."""
    sniffed = _sniff(raw, entity, dialects, [known] if known else list(dialects.dialects.values()))
    if sniffed is None:
        first_line = raw.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()
        expected = f"dialect {known.name}" if known else "any dialect in connectors/csv_drop/dialects.toml"
        return [error_record(drop.path, 1, f"the {entity} header row matches {expected} in any of its "
                             "encodings and delimiters: add the exporting tool's dialect, or fix the "
                             "connection's csv_dialect setting", first_line)]
    columns = dialects.columns(sniffed.dialect, entity)
    records: dict[str, dict[str, Any]] = {}
    errors: list[dict[str, Any]] = []
    for line_no, cells in _rows(sniffed.lines, sniffed.dialect.delimiter, len(columns), errors, drop.path):
        fields = {column.field: cell.strip() for column, cell in zip(columns, cells, strict=True)}
        record_id = fields["record_id"]
        if not record_id:
            errors.append(error_record(drop.path, line_no, f"the {entity} row has no {columns[0].header!r}: "
                                       "every row needs its record's id", sniffed.lines[line_no - 1]))
            continue
        line = {key.removeprefix(_LINE): value for key, value in fields.items() if key.startswith(_LINE)}
        if record_id not in records:
            shared = {key: value for key, value in fields.items() if not key.startswith(_LINE)}
            source = source_of(drop, line_no, dialect=sniffed.dialect.name, encoding=sniffed.encoding)
            records[record_id] = {**shared, **({"lines": []} if line else {}), "_source": source}
        if line:
            records[record_id]["lines"].append(line)
    return sorted([*records.values(), *errors], key=_line_of)


def _line_of(record: dict[str, Any]) -> int:
    return (record.get("_error") or record["_source"])["line"]


def _sniff(raw: bytes, entity: str, dialects: DialectMap, candidates: list[CsvDialect]) -> _Sniffed | None:
    """The first (encoding, delimiter) under which the header row is a candidate dialect's. The header
    row is the check: a wrong encoding or delimiter gives a row no dialect writes."""
    encodings = dialects.encodings()
    if raw.startswith(codecs.BOM_UTF8):
        encodings = ("utf-8-sig", *encodings)
    for encoding in dict.fromkeys(encodings):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        lines = io.StringIO(text, newline="").readlines()
        if not lines:
            return None
        for dialect in candidates:
            header = next(csv.reader(lines[:1], delimiter=dialect.delimiter), [])
            if [cell.strip() for cell in header] == list(dialect.headers[entity]):
                return _Sniffed(dialect, encoding, lines)
    return None


def _rows(
    lines: list[str], delimiter: str, width: int, errors: list[dict[str, Any]], file: str
) -> Iterator[tuple[int, list[str]]]:
    """(1-based line, cells) of each well-formed data row. A row with the wrong number of cells, or
    that the csv module rejects, is reported at its first line and reading resumes on the next line:
    so an opening quote never closed costs its own row, not the rest of the file it swallowed."""
    start = 1  # index of the physical line to read from (0 is the header)
    while start < len(lines):
        reader = csv.reader(iter(lines[start:]), delimiter=delimiter)
        consumed = 0
        while True:
            row_start = start + consumed
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                errors.append(error_record(file, row_start + 1, f"unreadable CSV row ({error})", lines[row_start]))
                break
            consumed = reader.line_num
            if not cells:
                continue
            if len(cells) != width:
                errors.append(error_record(
                    file, row_start + 1,
                    f"row has {len(cells)} cells where the header has {width}"
                    + (f" (it runs over {start + consumed - row_start} lines: an unclosed quote?)"
                       if start + consumed - row_start > 1 else ""),
                    lines[row_start]))
                break
            yield row_start + 1, cells
        start = row_start + 1

