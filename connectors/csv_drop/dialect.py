"""The CSV export dialects (dialects.toml), reading side: which tool wrote a file, in which encoding,
and how its cells read back.

This is the one dialect map of the project: the sandbox extends these classes with the writing side
(connectors/sandbox/drops/csv_dialect.py), so a writer and a reader can never disagree on a format.
"""

from __future__ import annotations

import codecs
import csv
import io
import tomllib
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

DIALECTS_PATH = Path(__file__).with_name("dialects.toml")

Kind = Literal["text", "date", "number", "money", "bool", "status"]


class Column(NamedTuple):
    header: str  # as the exporting tool writes it
    field: str  # our neutral field name
    kind: Kind


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CsvDialect(_Strict):
    """One exporting tool in one locale; the fields are documented in dialects.toml."""

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
    """Every dialect and the kind of every neutral field."""

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
        for entity in self.kinds:
            seen: dict[tuple[str, ...], str] = {}
            for dialect in self.dialects.values():
                header_row = tuple(dialect.headers[entity])
                if header_row in seen:
                    raise ValueError(
                        f"dialects {seen[header_row]} and {dialect.name} write the same {entity} header row: "
                        "a reader could not tell them apart; rename a header in one of them"
                    )
                seen[header_row] = dialect.name
        return self

    def columns(self, dialect: CsvDialect, entity: str) -> list[Column]:
        kinds = self.kinds[entity]
        return [Column(header, field, kinds[field]) for header, field in dialect.headers[entity].items()]

    def by_header(self, entity: str, header_row: list[str]) -> CsvDialect | None:
        """The dialect whose `entity` export starts with exactly this header row, if any."""
        return next((d for d in self.dialects.values() if list(d.headers[entity]) == header_row), None)

    def encodings(self) -> tuple[str, ...]:
        """Every encoding any tool writes, UTF-8 forms first (strict UTF-8 rarely decodes by accident)."""
        names = dict.fromkeys(e for d in self.dialects.values() for e in d.encodings)
        return tuple(sorted(names, key=lambda name: not name.startswith("utf-8")))

    def delimiters(self) -> str:
        return "".join(dict.fromkeys(d.delimiter for d in self.dialects.values()))


def load_dialects(path: Path = DIALECTS_PATH) -> DialectMap:
    with path.open("rb") as file:
        return DialectMap.model_validate(tomllib.load(file))


@cache
def default_dialects() -> DialectMap:
    return load_dialects()
