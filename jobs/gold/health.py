"""Data health per source system and publication: the trust figures behind every published number, written
with each vintage (`gold/data_health`).

- duplicate_rate: silver documents marked as another's duplicate, over all documents of the system;
- contract_violation_rate: landed records bronze quarantined (parse, contract, drift), over records landed;
- quarantine_depth / quarantine_oldest_days: records waiting in the quarantine (any layer) and the age of
  the oldest, in days before the run;
- freshness_lag_days: how far the system's stalest stream trails the freshest stream of the warehouse;
- reconciliation_match_rate: shop orders matched to an invoice, over shop orders, of the companies keeping
  their books in the system;
- lineage_coverage: silver rows that name their bronze record and extraction run, over all its silver rows.
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

DOCUMENTS = ("sales_order", "invoice", "credit_note", "purchase_order", "payment")


def _rate(numerator: Column, denominator: Column) -> Column:
    return F.when(denominator > 0, F.round(numerator / denominator, 6))


def health(spark: SparkSession, vintage: str, at: datetime, silver: dict[str, DataFrame], ledger: DataFrame, quarantine: DataFrame,
           cursors: dict[tuple[str, str, str], datetime], reconciliation: DataFrame, companies: DataFrame) -> DataFrame:
    """One row per system: the figures above, for publication `vintage` at `at`."""
    rows = None
    for entity, table in silver.items():
        is_document = entity in DOCUMENTS
        part = table.groupBy(F.col("source_system").alias("system")).agg(
            F.count(F.lit(1)).alias("silver_rows"),
            F.count_if(F.col("bronze_record_key").isNotNull() & F.col("extract_run_id").isNotNull()).alias("with_lineage"),
            F.count_if(F.col("duplicate_of").isNotNull() if is_document else F.lit(False)).alias("duplicates"),
            F.count_if(F.lit(is_document)).alias("documents"))
        rows = part if rows is None else rows.unionByName(part)
    silver_side = rows.groupBy("system").agg(*[F.sum(c).alias(c) for c in ("silver_rows", "with_lineage", "duplicates", "documents")])
    landed = ledger.groupBy("system").agg(F.sum("landed").alias("landed"), F.sum("quarantined").alias("rejected"))
    waiting = (quarantine.where(F.col("status").isin("open", "approved")).groupBy("system")
               .agg(F.count(F.lit(1)).alias("quarantine_depth"), F.min("first_seen").alias("_oldest")))
    freshest = max(cursors.values(), default=None)
    stalest: dict[str, datetime] = {}
    for (system, _, _), cursor in cursors.items():
        stalest[system] = min(cursor, stalest.get(system, cursor))
    lag = spark.createDataFrame([(s, (freshest - c).total_seconds() / 86400) for s, c in sorted(stalest.items())],
                                "system string, freshness_lag_days double")
    books = companies.select("company_id", F.explode("systems").alias("system"))
    matched = (reconciliation.join(books, "company_id").groupBy("system")
               .agg(_rate(F.sum("matched"), F.sum("orders")).alias("reconciliation_match_rate")))
    systems = silver_side.select("system").union(landed.select("system")).union(lag.select("system")).distinct()
    return (systems.join(silver_side, "system", "left").join(landed, "system", "left").join(waiting, "system", "left")
            .join(lag, "system", "left").join(matched, "system", "left")
            .select(F.lit(vintage).alias("vintage"), F.lit(at).cast("timestamp").alias("measured_at"), "system",
                    _rate(F.col("duplicates"), F.col("documents")).alias("duplicate_rate"),
                    _rate(F.col("rejected"), F.col("landed")).alias("contract_violation_rate"),
                    F.coalesce("quarantine_depth", F.lit(0)).cast("long").alias("quarantine_depth"),
                    F.round((F.lit(at).cast("timestamp").cast("double") - F.col("_oldest").cast("double")) / 86400, 2).alias("quarantine_oldest_days"),
                    F.round("freshness_lag_days", 2).alias("freshness_lag_days"), "reconciliation_match_rate",
                    _rate(F.col("with_lineage"), F.col("silver_rows")).alias("lineage_coverage")))
