"""What a source contract says, and what checking a payload against it finds.

A contract file is TOML, one table per field path, so a reviewer reads a drift approval as a diff.
Paths are dotted, `[]` stands for every element of an array ("Line[].SalesItemLineDetail.Qty"); a key
that itself holds "." or "[" is written with a backslash before it ("@odata\\.etag").
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

JsonType = Literal["string", "number", "integer", "boolean", "object", "array"]
Pii = Literal["tokenize", "drop"]
Format = Literal["date", "date-time", "decimal"]

_FIELD_KEYS = ("type", "required", "nullable", "meaning", "pii", "format", "minimum")


class ContractError(Exception):
    """A contract is missing or unreadable; the message names system/stream and the file to fix."""


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: JsonType
    required: bool = False
    nullable: bool = False
    meaning: str = ""
    pii: Pii | None = None
    format: Format | None = None
    minimum: float | None = None


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str
    stream: str
    entity: str
    version: int = Field(ge=1)
    change_policy: str
    fields: dict[str, FieldSpec]

    @field_validator("change_policy")
    @classmethod
    def _trimmed(cls, text: str) -> str:
        return text.strip()

    @classmethod
    def from_toml(cls, text: str, *, source: str) -> Contract:
        try:
            return cls.model_validate(tomllib.loads(text))
        except (tomllib.TOMLDecodeError, ValueError) as error:
            raise ContractError(f"contract {source} is not valid: {error}; fix the file") from error

    def to_toml(self) -> str:
        """Stable, diff-friendly text: header, then each field's table in path order, keys in one order."""
        out = [
            f"system = {_quote(self.system)}",
            f"stream = {_quote(self.stream)}",
            f"entity = {_quote(self.entity)}",
            f"version = {self.version}",
            f'change_policy = """\n{self.change_policy.strip()}\n"""',
        ]
        for path in sorted(self.fields):
            spec = self.fields[path]
            out.append(f"\n[fields.{_quote(path)}]")
            for key in _FIELD_KEYS:
                value = getattr(spec, key)
                if value is not None:
                    out.append(f"{key} = {_literal(value)}")
        return "\n".join(out) + "\n"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong with one field of a payload: `rule` is machine-readable, `message` for people."""

    path: str
    rule: str
    message: str


@dataclass(frozen=True, slots=True)
class Check:
    """What one payload's check found (plain dataclasses: one is made per landed record)."""

    additive: tuple[str, ...] = ()
    breaking: tuple[Finding, ...] = ()
    violations: tuple[Finding, ...] = ()

    @property
    def clean(self) -> bool:
        """Nothing to quarantine (additive drift alone flows on)."""
        return not self.breaking and not self.violations


@dataclass(frozen=True, slots=True)
class Compatibility:
    additive: tuple[str, ...] = ()
    breaking: tuple[str, ...] = ()


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return _quote(str(value))
