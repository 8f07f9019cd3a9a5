"""Delta Lake on both warehouse kinds: the local folder and s3a:// on the real S3 server."""

from __future__ import annotations

import uuid

import pytest
from delta.tables import DeltaTable
from pyspark.testing import assertDataFrameEqual

from jobs.settings import Settings


@pytest.fixture(params=["local", "s3"])
def table_uri(request, warehouse, services: Settings) -> str:
    name = f"companies_{uuid.uuid4().hex[:8]}"
    if request.param == "local":
        return f"{warehouse}/silver/{name}"
    return f"s3a://{services.services.s3_bucket}/tests/silver/{name}"


def test_given_a_delta_table_when_appended_merged_and_time_travelled_then_each_version_reads_back(spark, table_uri):
    spark.createDataFrame([("c1", "retail", 10.0), ("c2", "software", 20.0)], "id string, sector string, revenue double") \
        .write.format("delta").save(table_uri)
    spark.createDataFrame([("c3", "wholesale", 30.0)], "id string, sector string, revenue double") \
        .write.format("delta").mode("append").save(table_uri)

    updates = spark.createDataFrame([("c2", "software", 25.0), ("c4", "retail", 40.0)], "id string, sector string, revenue double")
    (
        DeltaTable.forPath(spark, table_uri).alias("t")
        .merge(updates.alias("u"), "t.id = u.id")
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute()
    )

    assertDataFrameEqual(
        spark.read.format("delta").load(table_uri),
        [("c1", "retail", 10.0), ("c2", "software", 25.0), ("c3", "wholesale", 30.0), ("c4", "retail", 40.0)],
    )
    assertDataFrameEqual(
        spark.read.format("delta").option("versionAsOf", 0).load(table_uri),
        [("c1", "retail", 10.0), ("c2", "software", 20.0)],
    )
    history = DeltaTable.forPath(spark, table_uri).history().select("version", "operation").orderBy("version").collect()
    assert [(row.version, row.operation) for row in history] == [(0, "WRITE"), (1, "WRITE"), (2, "MERGE")]


def test_given_a_delta_table_on_s3_when_written_then_its_log_objects_are_in_the_bucket(spark, services: Settings):
    from jobs.services import S3Service

    prefix = f"tests/bronze/orders_{uuid.uuid4().hex[:8]}"
    spark.range(3).write.format("delta").save(f"s3a://{services.services.s3_bucket}/{prefix}")

    listed = S3Service(services).client().list_objects_v2(Bucket=services.services.s3_bucket, Prefix=f"{prefix}/_delta_log/")
    keys = {item["Key"].rsplit("/", 1)[1] for item in listed.get("Contents", [])}
    assert "00000000000000000000.json" in keys
