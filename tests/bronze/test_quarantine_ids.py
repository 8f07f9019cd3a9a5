"""The quarantine id is computed in Python (bronze admission) and in Spark (silver mapping): both must give
the same id for the same record, or a replay would not find what it resolves."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from jobs.ops.quarantine import id_column, quarantine_id


@pytest.mark.parametrize("stream, company, key", [("orders", "c00001", "4001"), (None, None, None), ("Invoice", "c9", "ünïcode-key")])
def test_given_one_record_when_its_quarantine_id_is_computed_in_python_and_in_spark_then_they_agree(spark, stream, company, key):
    row = spark.createDataFrame([(company, key, "ab" * 32)], "company_id string, record_key string, payload_sha256 string")
    in_spark = row.select(id_column("silver", "shopify", stream, F.col("company_id"), F.col("record_key"), F.col("payload_sha256"))).first()[0]
    assert in_spark == quarantine_id("silver", "shopify", stream, company, key, "ab" * 32)
