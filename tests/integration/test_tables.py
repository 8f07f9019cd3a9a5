"""The Delta primitives on real Spark + Delta: `sync` brings a table in line with its derivation — inserts,
updates, deletes within its scope — and commits nothing at all when the table is in line already."""

from __future__ import annotations

from delta.tables import DeltaTable
from pyspark.sql import types as T

from jobs.tables import ensure_table, sync

SCHEMA = T.StructType([T.StructField("part", T.StringType()), T.StructField("id", T.LongType()), T.StructField("value", T.StringType())])


def _version(table: DeltaTable) -> int:
    return table.history(1).first()["version"]


def test_given_a_synced_table_when_synced_again_with_the_same_rows_then_no_version_is_committed(spark, tmp_path):
    table = ensure_table(spark, str(tmp_path / "t"), SCHEMA)
    rows = [("a", 1, "x"), ("a", 2, None), ("b", 1, "y")]
    sync(table, spark.createDataFrame(rows, SCHEMA), ["part", "id"])
    synced = _version(table)

    sync(table, spark.createDataFrame(list(reversed(rows)), SCHEMA), ["part", "id"])
    assert _version(table) == synced  # a null equals a null: (a, 2, None) is in line

    sync(table, spark.createDataFrame([("a", 1, "z"), ("a", 3, "w")], SCHEMA), ["part", "id"], scope="t.part = 'a'")
    assert _version(table) == synced + 1
    assert sorted(tuple(r) for r in table.toDF().collect()) == [("a", 1, "z"), ("a", 3, "w"), ("b", 1, "y")]
