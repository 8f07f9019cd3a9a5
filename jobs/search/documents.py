"""What reaches the search index, as pure DataFrame → DataFrame functions: the published trend cells (cells
disclosure control withheld stay out: a gap, not a number), the data health of every publication, and the
quarantine counted by layer, system and rule. Nothing here carries a company: cells are aggregates of at
least k companies, health and quarantine rows are per source system.

Each document type is declared once as a schema; the documents are cast to it (a gold column that changes
type fails here, not in Elasticsearch) and the index templates are derived from it (templates.py)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.gold.disclosure import VALUES
from jobs.gold.panel import CELL
from jobs.settings import ROOT

TAXONOMY = ROOT / "conf" / "taxonomy.toml"
#: counts a cell rests on (published with its values: they are counts of companies, not company values)
COUNTS = ("companies", "contributors", "yoy_contributors", "price_contributors", "matched_items")
#: descriptive names, searchable as words and filterable as keywords
NAMES = ("sector_name", "region_name", "categories")

TREND = T.StructType([
    *[T.StructField(c, T.DateType() if c == "period" else T.StringType()) for c in CELL],
    T.StructField("series", T.StringType()),
    *[T.StructField(c, T.StringType()) for c in ("sector_name", "region_name")],
    T.StructField("categories", T.ArrayType(T.StringType())),
    T.StructField("vintage", T.StringType()),
    *[T.StructField(c, T.LongType()) for c in COUNTS],
    *[T.StructField(c, T.DoubleType()) for c in VALUES],
])
HEALTH = T.StructType([
    T.StructField("vintage", T.StringType()), T.StructField("measured_at", T.TimestampType()), T.StructField("system", T.StringType()),
    *[T.StructField(c, T.DoubleType()) for c in ("duplicate_rate", "contract_violation_rate", "quarantine_oldest_days",
                                                  "freshness_lag_days", "reconciliation_match_rate", "lineage_coverage")],
    T.StructField("quarantine_depth", T.LongType()),
])
QUARANTINE_GROUP = ("layer", "system", "kind", "rule", "status")
QUARANTINE = T.StructType([
    *[T.StructField(c, T.StringType()) for c in QUARANTINE_GROUP],
    T.StructField("records", T.LongType()),
    T.StructField("oldest_first_seen", T.TimestampType()),
    T.StructField("latest_seen", T.TimestampType()),
])
SCHEMAS = {"trends": TREND, "health": HEALTH, "quarantine": QUARANTINE}


@dataclass(frozen=True)
class Taxonomy:
    """The published vocabulary (conf/taxonomy.toml): a name and product categories per sector, a name per region."""

    sectors: dict[str, dict]
    regions: dict[str, dict]

    @classmethod
    def load(cls, path: Path = TAXONOMY) -> Taxonomy:
        conf = tomllib.loads(path.read_text())
        return cls(conf["sectors"], conf["regions"])

    def _label(self, codes: dict[str, dict], column: str, field: str, default: Column) -> Column:
        label = default
        for code, entry in codes.items():
            label = F.when(F.col(column) == code, F.lit(entry[field])).otherwise(label)
        return label

    def labelled(self, cells: DataFrame) -> DataFrame:
        """Add sector_name, region_name and categories; a code the taxonomy lacks is named by itself."""
        no_categories = F.array().cast("array<string>")
        return (cells.withColumn("sector_name", self._label(self.sectors, "sector", "name", F.initcap(F.regexp_replace("sector", "_", " "))))
                .withColumn("region_name", self._label(self.regions, "region", "name", F.col("region")))
                .withColumn("categories", self._label(self.sectors, "sector", "categories", no_categories)))


def _shaped(rows: DataFrame, schema: T.StructType, document_id: Column) -> DataFrame:
    """(`_id`, `_source`): the id and the JSON the index receives, the row cast to its document schema."""
    fields = [F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields]
    return rows.select(document_id.alias("_id"), F.to_json(F.struct(*fields), {"ignoreNullFields": "true"}).alias("_source"))


def trend_documents(current_cells: DataFrame, taxonomy: Taxonomy) -> DataFrame:
    """One document per published cell of the latest vintage, id grain:sector:region:period."""
    published = current_cells.where(F.col("suppressed").isNull())
    labelled = taxonomy.labelled(published.withColumn("series", F.concat_ws("/", "sector", "region", "grain")))
    return _shaped(labelled, TREND, F.concat_ws(":", "grain", "sector", "region", F.col("period").cast("string")))


def health_documents(health: DataFrame) -> DataFrame:
    """Every publication's data health per system, id vintage:system (earlier publications stay: a history)."""
    return _shaped(health, HEALTH, F.concat_ws(":", "vintage", "system"))


def quarantine_documents(quarantine: DataFrame) -> DataFrame:
    """The quarantine counted by layer, system, kind, rule and status: depth and age, never a record."""
    counted = quarantine.groupBy(*QUARANTINE_GROUP).agg(
        F.count(F.lit(1)).alias("records"), F.min("first_seen").alias("oldest_first_seen"), F.max("last_seen").alias("latest_seen"))
    return _shaped(counted, QUARANTINE, F.concat_ws(":", *QUARANTINE_GROUP))


def digest(documents: DataFrame) -> tuple[int, int]:
    """(documents, an order-independent checksum of their ids and contents): equal publications, equal pair."""
    row = documents.agg(F.count(F.lit(1)).alias("n"), F.sum(F.xxhash64("_id", "_source").cast("decimal(38,0)")).alias("sum")).first()
    return row["n"], int(row["sum"] or 0)
