"""A validated canonical record fits its derived Spark schema, exactly (decimals included)."""

from __future__ import annotations

from datetime import timezone
from decimal import Decimal

from schemas.canonical.derive import spark_schema
from schemas.canonical.entities import Invoice
from tests.test_canonical_schemas import INVOICE


def test_given_a_valid_invoice_when_written_with_its_derived_schema_then_it_reads_back_exactly(spark, tmp_path):
    invoice = Invoice(**INVOICE)
    frame = spark.createDataFrame([invoice.model_dump()], schema=spark_schema(Invoice))
    frame.write.format("delta").save(str(tmp_path / "invoice"))

    (row,) = spark.read.format("delta").load(str(tmp_path / "invoice")).collect()
    read_back = row.asDict(recursive=True)
    for instant in ("issued_at", "source_updated_at"):  # Spark hands back UTC instants as naive datetimes
        read_back[instant] = read_back[instant].replace(tzinfo=timezone.utc)
    assert Invoice(**read_back) == invoice
    assert row.lines[0].amount == Decimal("100.0000")
