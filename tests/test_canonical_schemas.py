"""The canonical models are the one source of the entities' shape; Spark and JSON Schema are derived."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError
from pyspark.sql import types as T

from schemas.canonical.derive import json_schema, spark_schema
from schemas.canonical.entities import ENTITIES, Invoice

INVOICE = dict(
    canonical_id="inv-1", company_id="c00001", source_system="quickbooks", source_id="239",
    source_updated_at=datetime(2026, 1, 5, 10, tzinfo=timezone.utc), bronze_record_key="k", extract_run_id="r1",
    issued_at=datetime(2026, 1, 5, tzinfo=timezone.utc), issued_on=date(2026, 1, 5), currency="EUR", status="open",
    subtotal=Decimal("100"), tax_total=Decimal("19"), total=Decimal("119"),
    lines=[dict(line_no=1, quantity=Decimal("2"), unit_price=Decimal("50"), amount=Decimal("100"), tax_amount=Decimal("19"))],
)


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_every_entity_has_a_spark_schema_and_a_json_schema(entity):
    model = ENTITIES[entity]
    schema = spark_schema(model)
    assert [f.name for f in schema.fields] == list(model.model_fields)
    assert json_schema(model)["title"] == model.__name__


def test_money_is_exact_decimal_optional_fields_are_nullable_and_lines_nest():
    fields = {f.name: f for f in spark_schema(Invoice).fields}

    assert fields["total"].dataType == T.DecimalType(18, 4) and not fields["total"].nullable
    assert fields["fx_rate_usd"].dataType == T.DecimalType(20, 10) and fields["fx_rate_usd"].nullable
    assert fields["issued_at"].dataType == T.TimestampType()
    assert fields["status"].dataType == T.StringType()
    line = fields["lines"].dataType.elementType
    assert {f.name: f.dataType for f in line.fields}["quantity"] == T.DecimalType(18, 4)


def test_given_a_lowercase_currency_when_validated_then_the_field_is_named():
    with pytest.raises(ValidationError, match="currency"):
        Invoice(**(INVOICE | {"currency": "eur"}))


def test_the_json_schema_requires_what_the_model_requires():
    schema = json_schema(Invoice)
    assert {"canonical_id", "issued_at", "currency", "total"} <= set(schema["required"])
    assert "due_on" not in schema["required"]
