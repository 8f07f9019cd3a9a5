"""Everything else derived from the canonical models: Spark schemas, JSON Schema documents and the facts data-quality rules check."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pyspark.sql import types as T

MONEY = T.DecimalType(18, 4)
_SCALARS: dict[type, T.DataType] = {
    str: T.StringType(),
    bool: T.BooleanType(),
    int: T.LongType(),
    float: T.DoubleType(),
    Decimal: MONEY,
    datetime: T.TimestampType(),
    date: T.DateType(),
}


def _unwrap(annotation: Any, constraints: list[Any] | None = None) -> tuple[Any, bool]:
    """(the type inside Optional/Annotated, whether None is allowed); Annotated's metadata is collected
    into `constraints`."""
    nullable = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation, *metadata = typing.get_args(annotation)
            if constraints is not None:
                for item in metadata:
                    constraints.extend(getattr(item, "metadata", [item]))
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            nullable = nullable or len(members) < len(typing.get_args(annotation))
            if len(members) != 1:
                raise TypeError(f"a canonical field may be one type or None, not {annotation}")
            annotation = members[0]
        else:
            return annotation, nullable


def _decimal(constraints: list[Any]) -> T.DecimalType:
    digits = next((c.max_digits for c in constraints if getattr(c, "max_digits", None)), MONEY.precision)
    places = next((c.decimal_places for c in constraints if getattr(c, "decimal_places", None) is not None), MONEY.scale)
    return T.DecimalType(digits, places)


def spark_type(annotation: Any, constraints: list[Any] | None = None) -> T.DataType:
    constraints = list(constraints or [])
    annotation, _ = _unwrap(annotation, constraints)
    if annotation is Decimal:
        return _decimal(constraints)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return spark_schema(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return T.StringType()
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        return T.ArrayType(spark_type(item), containsNull=False)
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    raise TypeError(f"no Spark type for {annotation!r}: add it to schemas/canonical/derive.py")


def _nullable(field: FieldInfo) -> bool:
    return _unwrap(field.annotation)[1]


def spark_schema(model: type[BaseModel]) -> T.StructType:
    """The Spark schema of a model: field order kept, Optional fields nullable, descriptions as comments."""
    return T.StructType([
        T.StructField(name, spark_type(field.annotation, field.metadata), nullable=_nullable(field), metadata={"comment": field.description or ""})
        for name, field in model.model_fields.items()
    ])


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) a consumer of the entity can validate against."""
    return model.model_json_schema(mode="serialization")


@dataclass(frozen=True)
class ColumnFacts:
    """What a model says about one column that a data-quality rule can check."""

    name: str
    nullable: bool
    choices: tuple[str, ...] | None  # an enum's values
    pattern: str | None  # a regular expression the value matches


def column_facts(model: type[BaseModel]) -> list[ColumnFacts]:
    facts = []
    for name, field in model.model_fields.items():
        constraints = list(field.metadata)
        annotation, nullable = _unwrap(field.annotation, constraints)
        choices = tuple(member.value for member in annotation) if isinstance(annotation, type) and issubclass(annotation, Enum) else None
        pattern = next((c.pattern for c in constraints if getattr(c, "pattern", None)), None)
        facts.append(ColumnFacts(name, nullable, choices, pattern))
    return facts
