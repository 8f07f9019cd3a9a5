"""What every source mapping shares: Spark expressions that cast a parsed payload's text to canonical types
while recording, per row, why a value would not map — so one bad field sends its record to the quarantine
naming the field, and every other record flows on.

A system's module (jobs/silver/<system>.py) declares one `Mapping` per bronze stream: a function from the
parsed payload to the canonical entity's columns. `apply` adds identity and lineage, conforms the result to
the entity's Spark schema (derived from schemas/canonical) and splits mapped rows from problem rows.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping as Lookup
from dataclasses import dataclass

from pydantic import BaseModel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from schemas.canonical.derive import MONEY, spark_schema
from schemas.canonical.entities import ENTITIES

PROBLEM = T.StructType([T.StructField("rule", T.StringType()), T.StructField("field", T.StringType()), T.StructField("reason", T.StringType())])


def problem(rule: str, field: str, reason: Column | str) -> Column:
    """Why a row does not map: a machine-readable rule, the source field, and a sentence for people."""
    reason = F.lit(reason) if isinstance(reason, str) else reason
    return F.struct(F.lit(rule).alias("rule"), F.lit(field).alias("field"), reason.alias("reason"))


def canonical_id(system: Column | str, company_id: Column | str, entity: str, source_id: Column) -> Column:
    """Stable id of a canonical record: the same source record always maps to the same id."""
    parts = [F.lit(v) if isinstance(v, str) else v for v in (system, company_id)] + [F.lit(entity), source_id]
    return F.substring(F.sha2(F.concat_ws("\x1f", *parts), 256), 1, 32)


def ref_id(system: str, entity: str, raw: Column) -> Column:
    """The canonical id of the record a reference points at (another entity of the same system and company);
    null when the reference is empty."""
    ref = text(raw)
    return F.when(ref.isNotNull(), canonical_id(system, F.col("company_id"), entity, ref))


def text(value: Column) -> Column:
    """Trimmed text; empty text is null."""
    trimmed = F.trim(value)
    return F.when(trimmed != "", trimmed)


def loose(data_type: T.DataType) -> T.DataType:
    """`data_type` with every nested field and element nullable: Spark cannot cast into non-null nested
    types, so expressions are cast to this, and the canonical schema's own null rules are checked on write."""
    if isinstance(data_type, T.StructType):
        return T.StructType([T.StructField(f.name, loose(f.dataType), True, f.metadata) for f in data_type.fields])
    if isinstance(data_type, T.ArrayType):
        return T.ArrayType(loose(data_type.elementType), True)
    return data_type


def struct_of(model: type[BaseModel], **values: Column) -> Column:
    """A canonical sub-record (a document line) from the fields given; the rest null, all cast to the model's types."""
    unknown = set(values) - set(spark_schema(model).fieldNames())
    if unknown:
        raise ValueError(f"{model.__name__} has no {sorted(unknown)}")
    return F.struct(*[values.get(f.name, F.lit(None)).cast(loose(f.dataType)).alias(f.name) for f in spark_schema(model)])


def money(value: Column) -> Column:
    """Text → money, null when it is not a number (inside arrays, where `Fields` cannot name the row)."""
    return text(value).try_cast(MONEY)


def money_sum(values: Column, of: Callable[[Column], Column]) -> Column:
    """Sum of `of(element)` over an array (missing elements count 0), as money."""
    return F.aggregate(values, F.lit(0).cast(MONEY), lambda total, x: (total + F.coalesce(of(x), F.lit(0))).cast(MONEY))


class Fields:
    """Casts for one mapping, each remembering the problem it would raise (an expression per row)."""

    def __init__(self) -> None:
        self._problems: list[Column] = []

    def problem(self, when: Column, rule: str, field: str, reason: Column | str) -> None:
        self._problems.append(F.when(when, problem(rule, field, reason)))

    def required(self, field: str, value: Column) -> Column:
        self.problem(value.isNull(), "missing", field, f"{field} is missing: the source must send it for this entity")
        return value

    def _cast(self, field: str, raw: Column, value: Column, kind: str, required: bool) -> Column:
        raw = text(raw)
        self.problem(raw.isNotNull() & value.isNull(), f"not-{kind}", field,
                     F.concat(F.lit(f"{field} is not {kind}: "), F.to_json(F.struct(raw.alias("value")))))
        if required:
            self.problem(raw.isNull(), "missing", field, f"{field} is missing: the source must send it for this entity")
        return value

    def decimal(self, field: str, raw: Column, *, required: bool = True) -> Column:
        return self._cast(field, raw, text(raw).try_cast(MONEY), "a-number", required)

    def instant(self, field: str, raw: Column, *, required: bool = True, zone: Column | str = "UTC") -> Column:
        """An ISO instant; one without an offset is local time in `zone` (converted to UTC)."""
        value = text(raw)
        has_offset = value.rlike(r"(Z|[+-]\d\d:?\d\d)$")
        zone = F.lit(zone) if isinstance(zone, str) else zone
        local = F.to_utc_timestamp(F.try_to_timestamp(value), zone)
        return self._cast(field, raw, F.when(has_offset, F.try_to_timestamp(value)).otherwise(local), "an-instant", required)

    def ms_instant(self, field: str, raw: Column, *, required: bool = True) -> Column:
        """A Microsoft JSON date, "/Date(1767571200000+0000)/": milliseconds since the epoch (the offset
        only says where it was written)."""
        millis = F.regexp_extract(text(raw), r"^/Date\((-?\d+)([+-]\d{4})?\)/$", 1)
        return self._cast(field, raw, F.when(millis != "", F.timestamp_millis(millis.cast("long"))), "an-instant", required)

    def date(self, field: str, raw: Column, *, required: bool = True, formats: tuple[str, ...] = ("yyyy-MM-dd",),
             blank: tuple[str, ...] = ()) -> Column:
        """A calendar date; `blank` values are the source's way of writing none (Business Central's 0001-01-01)."""
        raw = F.when(~text(raw).isin(*blank), raw) if blank else raw
        value = text(F.substring(raw, 1, 10)) if formats == ("yyyy-MM-dd",) else text(raw)
        parsed = F.coalesce(*[F.try_to_date(value, f) for f in formats]) if len(formats) > 1 else F.try_to_date(value, formats[0])
        in_range = parsed.between(F.lit("1900-01-01").cast("date"), F.lit("2100-12-31").cast("date"))
        return self._cast(field, raw, F.when(in_range, parsed), "a-date", required)

    def enum(self, field: str, raw: Column, values: Lookup[str, str], *, default: str | None = None) -> Column:
        """The canonical value of a source code: an unknown code is a problem; no code is `default` (or a
        problem when there is none)."""
        value = text(raw)
        lookup = F.create_map(*[F.lit(x) for pair in values.items() for x in pair])
        mapped = F.when(value.isNull(), F.lit(default)).otherwise(lookup[value])
        return self._cast(field, raw, mapped, f"one-of-{'|'.join(sorted(values))}", default is None)

    def problems(self) -> Column:
        return F.filter(F.array(*self._problems), lambda p: p.isNotNull()) if self._problems else F.array().cast(T.ArrayType(PROBLEM))


@dataclass(frozen=True)
class Lines:
    """Document lines that are records of their own stream (Odoo's *.line models): `parent(p)` is the
    document's source id, `line(p)` the canonical line; normalize joins each document's latest lines in."""

    stream: str
    parent: Callable[[Column], Column]
    line: Callable[[Column], Column]


@dataclass(frozen=True)
class Mapping:
    """One bronze stream → one canonical entity. `columns(p, fields)` returns the entity's columns (without
    identity and lineage, which `apply` adds) from the parsed payload struct `p`; `source_id` is required."""

    system: str
    stream: str
    entity: str
    columns: Callable[[Column, Fields], dict[str, Column]]
    deleted: bool = False  # a deleted-records stream: every row is a tombstone
    #: which of the stream's records are this entity (Xero's invoices stream also holds supplier bills);
    #: the others stay in bronze, unmapped
    keep: Callable[[Column], Column] | None = None
    lines: Lines | None = None


def apply(mapping: Mapping, rows: DataFrame) -> DataFrame:
    """Bronze rows of the mapping's stream (with `p`, the parsed payload) → canonical rows of its entity plus
    `problems` (empty when the row mapped) and `_bronze`, the bronze row's other columns (for the quarantine)."""
    fields = Fields()
    columns = mapping.columns(F.col("p"), fields)
    source_id = fields.required("id", text(columns.pop("source_id")))
    if mapping.deleted:
        columns["is_deleted"] = F.lit(True)
    schema = spark_schema(ENTITIES[mapping.entity])
    if "issued_at" in columns and "issued_on" in schema.fieldNames():
        # a date-only source's issued_at is midnight UTC of its local date; where a source states no date, the UTC one
        utc_day = F.to_date(columns["issued_at"])
        columns["issued_on"] = F.coalesce(columns["issued_on"], utc_day) if "issued_on" in columns else utc_day
    given = {
        **columns,
        "canonical_id": canonical_id(mapping.system, F.col("company_id"), mapping.entity, source_id),
        "company_id": F.col("company_id"),
        "source_system": F.lit(mapping.system),
        "source_id": source_id,
        "source_updated_at": F.coalesce(columns.get("source_updated_at"), F.col("source_updated_at")) if "source_updated_at" in columns else F.col("source_updated_at"),
        "is_deleted": F.coalesce(columns.get("is_deleted", F.lit(False)), F.lit(False)),
        "bronze_record_key": F.col("record_key"),
        "extract_run_id": F.col("extract_run_id"),
    }
    unknown = set(given) - set(schema.fieldNames())
    if unknown:
        raise ValueError(f"mapping {mapping.system}/{mapping.stream} sets {sorted(unknown)}, which {mapping.entity} does not have")
    conformed = [(given[f.name] if f.name in given else F.lit(None)).cast(loose(f.dataType)).alias(f.name) for f in schema]
    lineage = F.struct(*[c for c in rows.columns if c not in ("payload", "p")]).alias("_bronze")
    return rows.select(*conformed, fields.problems().alias("problems"), lineage)
