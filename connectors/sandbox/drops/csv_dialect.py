"""The CSV export dialects (csv_dialects.toml): one description, used to write the sandbox's CSV
drops and by the CSV connector to read them back.

Each dialect knows how to write and read its own cells (dates, decimal commas, grouped amounts,
yes/no words, status words), so a writer and a reader can never disagree on a format.
"""

from __future__ import annotations

import codecs
import csv
import io
import tomllib
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any, Literal, NamedTuple, TextIO

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.sandbox.drops.pick import stable_pick
from connectors.sandbox.drops.values import as_decimal, plain_decimal, raw_text

DIALECTS_PATH = Path(__file__).with_name("csv_dialects.toml")

Kind = Literal["text", "date", "number", "money", "bool", "status"]


class Column(NamedTuple):
    header: str  # as the exporting tool writes it
    field: str  # our neutral field name
    kind: Kind


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CsvDialect(_Strict):
    """One exporting tool in one locale; the fields are documented in csv_dialects.toml."""

    name: str
    locales: tuple[str, ...]
    delimiter: str = Field(min_length=1, max_length=1)
    decimal: str = Field(min_length=1, max_length=1)
    thousands: str = Field(max_length=1)
    date_format: str
    encodings: tuple[str, ...] = Field(min_length=1)
    line_terminator: str
    booleans: tuple[str, str]
    statuses: dict[str, str]
    headers: dict[str, dict[str, str]]

    @model_validator(mode="after")
    def _distinct_separators(self) -> CsvDialect:
        if self.decimal in (self.delimiter, self.thousands):
            raise ValueError(f"dialect {self.name}: decimal {self.decimal!r} clashes with another separator")
        for encoding in self.encodings:
            try:
                codecs.lookup(encoding)
            except LookupError as error:
                raise ValueError(f"dialect {self.name}: unknown encoding {encoding!r}") from error
        return self

    # -- cells -------------------------------------------------------------------------------------

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

    def parse(self, kind: Kind, text: str) -> Any:
        """A cell's value: None when empty, Decimal for numbers and money, date, bool, our status."""
        if text == "":
            return None
        try:
            if kind == "date":
                return datetime.strptime(text, self.date_format).date()
            if kind in ("number", "money"):
                digits = text.replace(self.thousands, "") if kind == "money" and self.thousands else text
                return Decimal(digits.replace(self.decimal, "."))
        except (ValueError, InvalidOperation) as error:
            raise ValueError(f"dialect {self.name}: {text!r} is not a {kind} cell") from error
        if kind == "bool":
            if text not in self.booleans:
                raise ValueError(f"dialect {self.name}: {text!r} is none of the booleans {self.booleans}")
            return text == self.booleans[0]
        if kind == "status":
            return {word: status for status, word in self.statuses.items()}.get(text, text)
        return text

    # -- files -------------------------------------------------------------------------------------

    def writer(self, file: TextIO) -> Any:
        return csv.writer(file, delimiter=self.delimiter, lineterminator=self.line_terminator)

    def reader(self, text: str) -> Iterator[list[str]]:
        return csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)

    def decode(self, raw: bytes) -> str:
        """File bytes as text: a BOM decides; else UTF-8 (strict, so it rarely passes by accident),
        then the tool's other encodings in order."""
        if raw.startswith(codecs.BOM_UTF8) and "utf-8-sig" in self.encodings:
            return raw.decode("utf-8-sig")
        for encoding in sorted(self.encodings, key=lambda name: not name.startswith("utf-8")):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
        raise ValueError(f"dialect {self.name}: the file is in none of the encodings {self.encodings}")


class DialectMap(_Strict):
    """Every dialect, the kind of every neutral field, and which dialect a company exports in."""

    fallback: str
    kinds: dict[str, dict[str, Kind]]
    dialects: dict[str, CsvDialect]

    @model_validator(mode="before")
    @classmethod
    def _name_dialects(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("dialects"), dict):
            data = {**data, "dialects": {name: {**d, "name": name} for name, d in data["dialects"].items()}}
        return data

    @model_validator(mode="after")
    def _complete(self) -> DialectMap:
        if self.fallback not in self.dialects:
            raise ValueError(f"fallback dialect {self.fallback!r} is not defined under [dialects]")
        for dialect in self.dialects.values():
            if dialect.headers.keys() != self.kinds.keys():
                raise ValueError(
                    f"dialect {dialect.name}: headers cover {sorted(dialect.headers)}, kinds {sorted(self.kinds)}"
                )
            for entity, header_map in dialect.headers.items():
                fields = list(header_map.values())
                if sorted(fields) != sorted(self.kinds[entity]):
                    missing = set(self.kinds[entity]) - set(fields)
                    extra = [f for f in fields if f not in self.kinds[entity] or fields.count(f) > 1]
                    raise ValueError(
                        f"dialect {dialect.name}, {entity} headers: every neutral field exactly once "
                        f"(missing {sorted(missing)}, unknown or repeated {sorted(set(extra))})"
                    )
        return self

    def columns(self, dialect: CsvDialect, entity: str) -> list[Column]:
        kinds = self.kinds[entity]
        return [Column(header, field, kinds[field]) for header, field in dialect.headers[entity].items()]

    def for_company(self, company_id: str, locale: str) -> tuple[CsvDialect, str]:
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


def load_dialects(path: Path = DIALECTS_PATH) -> DialectMap:
    with path.open("rb") as file:
        return DialectMap.model_validate(tomllib.load(file))


@cache
def default_dialects() -> DialectMap:
    return load_dialects()
