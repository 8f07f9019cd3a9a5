"""Delta table primitives every layer shares: create-if-missing, insert-only MERGE by a declared key, a
table brought in line with its derivation (rewriting only what differs, committing nothing when nothing
does), a column set only where it differs, the first row per key, and an order-independent content
checksum (what the idempotency tests compare)."""

from __future__ import annotations

from collections.abc import Sequence

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StructType


def ensure_table(spark: SparkSession, uri: str, schema: StructType, partition_by: Sequence[str] = ()) -> DeltaTable:
    """The Delta table at `uri`, created empty with `schema` when missing (so readers never meet a hole)."""
    if not DeltaTable.isDeltaTable(spark, uri):
        builder = DeltaTable.createIfNotExists(spark).location(uri).addColumns(schema)
        if partition_by:
            builder = builder.partitionedBy(*partition_by)
        builder.execute()
    return DeltaTable.forPath(spark, uri)


def exists(spark: SparkSession, uri: str) -> bool:
    return DeltaTable.isDeltaTable(spark, uri)


def change_feed(spark: SparkSession, uri: str, first: int, last: int) -> DataFrame:
    """The Delta change data feed of the table at `uri`, versions `first` to `last` inclusive: its rows with
    `_change_type` (insert, delete, update_preimage, update_postimage), `_commit_version` and `_commit_timestamp`."""
    return (spark.read.format("delta").option("readChangeFeed", "true")
            .option("startingVersion", first).option("endingVersion", last).load(uri))


def key_match(key: Sequence[str]) -> str:
    """The MERGE condition matching target `t` and source `s` rows by `key`, nulls equal to nulls."""
    return " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in key)


def insert_new(table: DeltaTable, rows: DataFrame, key: Sequence[str], *, prune: Column | None = None) -> None:
    """Insert the rows whose `key` the table does not hold yet: writing the same rows twice adds nothing.

    `prune` is an extra condition on the target (`t.` columns) that lets Delta skip files which cannot
    match, e.g. the partitions the new rows fall in.
    """
    condition = key_match(key)
    merge = table.alias("t").merge(rows.alias("s"), F.expr(condition) if prune is None else F.expr(condition) & prune)
    merge.whenNotMatchedInsertAll().execute()


def _in_line(table: DeltaTable, rows: DataFrame, key: Sequence[str], scope: str | None) -> bool:
    """Whether the table (within `scope`) holds exactly `rows` already."""
    target = table.toDF().alias("t")
    if scope is not None:
        target = target.where(F.expr(scope))
    new_or_changed = rows.alias("s").join(target, F.expr(key_match(rows.columns)), "left_anti")
    vanished = target.join(rows.alias("s"), F.expr(key_match(key)), "left_anti")
    return new_or_changed.isEmpty() and vanished.isEmpty()


def sync(table: DeltaTable, rows: DataFrame, key: Sequence[str], *, scope: str | None = None) -> None:
    """Make the table hold exactly `rows` (within `scope`, a condition on the target's `t.` columns, when
    given): new keys inserted, changed rows updated, vanished keys deleted, equal rows left alone. A table
    already in line is not touched at all (Delta commits even a MERGE that changes nothing, and a new
    version sends every reader of its change feed looking), so a rerun that derives the same rows commits
    nothing."""
    if _in_line(table, rows, key, scope):
        return
    on = key_match(key)
    changed = " OR ".join(f"NOT (t.`{c}` <=> s.`{c}`)" for c in rows.columns if c not in key)
    merge = (table.alias("t").merge(rows.alias("s"), on if scope is None else f"({on}) AND {scope}")
             .whenMatchedUpdateAll(condition=changed or None).whenNotMatchedInsertAll())
    merge.whenNotMatchedBySourceDelete(condition=scope).execute()


def set_where_differs(spark: SparkSession, uri: str, values: DataFrame, column: str) -> None:
    """Set `column` of the table at `uri` from `values` (canonical_id, column) on the rows where it differs:
    a rerun that derives the same values rewrites no file."""
    DeltaTable.forPath(spark, uri).alias("t").merge(values.alias("s"), "t.canonical_id = s.canonical_id").whenMatchedUpdate(
        condition=f"NOT (t.`{column}` <=> s.`{column}`)", set={column: f"s.`{column}`"}).execute()


def first_per_key(rows: DataFrame, key: Sequence[str | Column], *order: str | Column) -> DataFrame:
    """One row per `key`: the first in `order` (which must break every tie, so any run picks the same row)."""
    first = Window.partitionBy(*key).orderBy(*order)
    return rows.withColumn("_first", F.row_number().over(first)).where("_first = 1").drop("_first")


def content_checksum(frame: DataFrame) -> str:
    """Rows and a sum of per-row hashes over every column in name order: equal for equal content whatever
    the file layout, row order or table version (a map is hashed as its sorted entries: maps cannot be hashed)."""
    types = dict(frame.dtypes)
    columns = [F.array_sort(F.map_entries(f"`{c}`")) if types[c].startswith("map<") else F.col(f"`{c}`") for c in sorted(frame.columns)]
    row_hash = F.xxhash64(*columns).cast("decimal(38,0)")
    row = frame.agg(F.count(F.lit(1)).alias("rows"), F.coalesce(F.sum(row_hash), F.lit(0)).alias("hash")).first()
    return f"{row['rows']}:{int(row['hash']) & (2**64 - 1):016x}"


def table_checksum(spark: SparkSession, uri: str) -> str:
    return content_checksum(spark.read.format("delta").load(uri))
