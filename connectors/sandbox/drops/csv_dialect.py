"""The CSV export dialects, writing side: how the sandbox's exporting tools write their cells and
which dialect a company exports in.

The map itself and its reading side belong to the CSV connector (connectors/csv_drop/dialect.py,
dialects.toml); these classes only add the inverse of its `parse`, so writer and reader share one map.
"""

from __future__ import annotations

import csv
import tomllib
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, TextIO

from connectors.csv_drop.dialect import DIALECTS_PATH, Column, CsvDialect, DialectMap, Kind
from connectors.sandbox.drops.pick import stable_pick
from connectors.sandbox.drops.values import as_decimal, plain_decimal, raw_text

__all__ = ["DIALECTS_PATH", "Column", "CsvDialect", "DialectMap", "ExportDialect", "ExportDialectMap",
           "Kind", "default_dialects", "load_dialects"]


class ExportDialect(CsvDialect):
    """A dialect that also writes its cells, exactly as its `parse` reads them back."""

    def format(self, kind: Kind, value: object, *, places: int) -> str:
        """A cell as this tool writes it; a value that does not fit its kind (poison) goes out as is.
        `places` is the minor-unit decimals of the record's currency, used by money cells."""
        if kind == "date" and isinstance(value, date):
            return value.strftime(self.date_format.replace("%Y", f"{value.year:04d}"))
        if kind == "bool" and isinstance(value, bool):
            return self.booleans[0] if value else self.booleans[1]
        if kind == "status" and isinstance(value, str):
            return self.statuses.get(value, value)
        number = as_decimal(value) if kind in ("number", "money") else None
        if number is not None:
            if kind == "number":
                return plain_decimal(number).replace(".", self.decimal)
            rounded = number.quantize(Decimal(1).scaleb(-places))
            grouped = f"{rounded.copy_abs() if rounded.is_zero() else rounded:,.{places}f}"
            return grouped.translate({ord(","): self.thousands, ord("."): self.decimal})
        return raw_text(value)

    def writer(self, file: TextIO) -> Any:
        return csv.writer(file, delimiter=self.delimiter, lineterminator=self.line_terminator)


class ExportDialectMap(DialectMap):
    """The connector's map with writing dialects, and which dialect a company exports in."""

    dialects: dict[str, ExportDialect]

    def for_company(self, company_id: str, locale: str) -> tuple[ExportDialect, str]:
        """The dialect and encoding a company exports in: one of its locale's dialects, else of its
        language's, else the fallback; chosen stably per company."""
        ordered = [self.dialects[name] for name in sorted(self.dialects)]
        language = locale.split("_")[0]
        candidates = (
            [d for d in ordered if locale in d.locales]
            or [d for d in ordered if any(loc.split("_")[0] == language for loc in d.locales)]
            or [self.dialects[self.fallback]]
        )
        dialect = stable_pick(f"csv-dialect/{company_id}", candidates)
        return dialect, stable_pick(f"csv-encoding/{company_id}", dialect.encodings)


def load_dialects(path: Path = DIALECTS_PATH) -> ExportDialectMap:
    with path.open("rb") as file:
        return ExportDialectMap.model_validate(tomllib.load(file))


@cache
def default_dialects() -> ExportDialectMap:
    return load_dialects()
