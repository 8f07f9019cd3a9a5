"""Lineage of one published number: the publication (vintage) that wrote the cell and the table versions it
read; the companies its growth rests on (tokenized — a company's id never leaves the warehouse in clear);
and, read at those very versions, the documents behind it, the extraction runs that landed them, the bronze
versions silver had processed, and a sample of source record keys."""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.gold.build import current, facts_uri, publication_uri, trend_uri
from jobs.gold.facts import Grain, period
from jobs.gold.panel import PanelRules, eligible, pairs
from jobs.pii import pii_key
from jobs.settings import Settings
from jobs.silver.normalize import progress_uri, silver_uri
from jobs.silver.reconcile import counted
from jobs.tables import exists
from schemas.contracts import token

SALES = ("invoice", "credit_note")


class LineageError(LookupError):
    """No published cell matches."""


def _at(spark: SparkSession, uri: str, version: int) -> DataFrame:
    return spark.read.format("delta").option("versionAsOf", version).load(uri)


def lineage(spark: SparkSession, settings: Settings, grain: Grain, sector: str, region: str, on: date,
            vintage: str | None = None, sample: int = 10) -> dict:
    cells = spark.read.format("delta").load(trend_uri(settings, grain)) if exists(spark, trend_uri(settings, grain)) else None
    if cells is None:
        raise LineageError(f"nothing published by {grain} yet: run `groundswell build-gold`")
    chosen = cells.where(F.col("vintage") == vintage) if vintage else current(cells)
    found = chosen.where((F.col("sector") == sector) & (F.col("region") == region) & (F.col("period") == on)).collect()
    if not found:
        raise LineageError(f"no published {grain} cell {sector} × {region} × {on}{f' in vintage {vintage}' if vintage else ''}: "
                           f"periods start on a {'Monday' if grain == 'week' else 'first of the month'}")
    cell = found[0].asDict()
    publication = (spark.read.format("delta").load(publication_uri(settings))
                   .where((F.col("vintage") == cell["vintage"]) & (F.col("grain") == grain)).first().asDict())
    versions = publication["read_versions"]
    facts = _at(spark, facts_uri(settings), versions["gold/company_period"]).where(
        (F.col("grain") == grain) & (F.col("sector") == sector) & (F.col("region") == region))
    panel = eligible(facts, PanelRules(settings.gold.min_history_days, settings.gold.outlier_cap))
    companies = sorted(r["company_id"] for r in pairs(panel, grain, 1, "revenue_cc_usd").where(F.col("period") == on).collect())
    documents = None
    for entity in SALES:
        rows = (_at(spark, silver_uri(settings, entity), versions[f"silver/{entity}"])
                .where(counted() & F.col("company_id").isin(companies) & (period(F.col("issued_on"), grain) == F.lit(on)))
                .select(F.lit(entity).alias("entity"), "source_system", "source_id", "bronze_record_key", "extract_run_id"))
        documents = rows if documents is None else documents.unionByName(rows)
    runs = sorted(r["extract_run_id"] for r in documents.select("extract_run_id").distinct().collect())
    key = pii_key(settings)
    progress = spark.read.format("delta").load(progress_uri(settings)).collect() if exists(spark, progress_uri(settings)) else []
    return {
        "cell": cell,
        "publication": {k: publication[k] for k in ("vintage", "published_at", "read_versions")},
        "companies": [token(c, key) for c in companies],
        "documents": documents.count(),
        "extract_runs": runs,
        "bronze_versions_processed": {r["system"]: r["bronze_version"] for r in progress},
        "sample": [r.asDict() for r in documents.orderBy("entity", "source_system", "source_id").limit(sample).collect()],
    }
