"""What a pipeline run left, in one place (`groundswell summary`, the end of `make demo`): records per layer,
the quarantine still open, published and suppressed cells, the evaluate figures against the sandbox's answer
key, documents in Elasticsearch, where the Data Docs are, and a PNG of the headline indices."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.bronze.ingest import bronze_uri
from jobs.gates.gate import docs_path
from jobs.gates.suites import LAYERS
from jobs.gold import chart
from jobs.gold.build import current, trend_uri
from jobs.gold.evaluate import KEYS, score
from jobs.gold.facts import GRAINS
from jobs.ops import quarantine
from jobs.settings import Settings
from jobs.silver.normalize import SYSTEMS, silver_uri
from jobs.tables import exists
from schemas.canonical.entities import ENTITIES


@dataclass
class RunSummary:
    bronze: dict[str, int] = field(default_factory=dict)  # rows per source system
    silver: dict[str, int] = field(default_factory=dict)  # live rows per canonical entity
    gold: dict[str, dict[str, int]] = field(default_factory=dict)  # per grain: cells published / suppressed
    quarantined: dict[str, int] = field(default_factory=dict)  # open records per layer
    evaluate: dict[str, list[dict]] = field(default_factory=dict)  # per answer key, per sector × region (none without truth)
    documents: dict[str, int] | None = None  # per search alias; None when Elasticsearch is not reachable
    data_docs: dict[str, str] = field(default_factory=dict)
    chart: str | None = None

    def as_json(self) -> dict:
        return asdict(self)


def _count(spark: SparkSession, uri: str, where: str | None = None) -> int | None:
    if not exists(spark, uri):
        return None
    frame = spark.read.format("delta").load(uri)
    return (frame.where(where) if where else frame).count()


def _documents(settings: Settings) -> dict[str, int] | None:
    """Documents behind each search alias (0 before the first publication); None when Elasticsearch is down."""
    from elasticsearch import NotFoundError, TransportError

    from jobs.search.publish import KINDS, alias, client

    es, counts = client(settings), {}
    try:
        for kind in KINDS:
            try:
                counts[alias(settings, kind)] = es.count(index=alias(settings, kind))["count"]
            except NotFoundError:
                counts[alias(settings, kind)] = 0
    except TransportError:
        return None
    return counts


def summarize(spark: SparkSession, settings: Settings, truth: Path | None, chart_path: Path) -> RunSummary:
    summary = RunSummary()
    summary.bronze = {s: n for s in SYSTEMS if (n := _count(spark, bronze_uri(settings, s))) is not None}
    summary.silver = {e: n for e in ENTITIES if (n := _count(spark, silver_uri(settings, e), "NOT coalesce(is_deleted, false)"
                                                              if "is_deleted" in ENTITIES[e].model_fields else None)) is not None}
    if exists(spark, quarantine.uri(settings)):
        waiting = quarantine.table(spark, settings).toDF().where(F.col("status") == "open").groupBy("layer").count().collect()
        summary.quarantined = {r["layer"]: r["count"] for r in waiting}
    for grain in GRAINS:
        if exists(spark, trend_uri(settings, grain)):
            cells = current(spark.read.format("delta").load(trend_uri(settings, grain)))
            counted = cells.agg(F.count_if(F.col("suppressed").isNull()).alias("published"),
                                F.count_if(F.col("suppressed").isNotNull()).alias("suppressed")).first()
            summary.gold[grain] = counted.asDict()
    if truth is not None and (truth / "latent_index.csv.gz").exists() and "week" in summary.gold:
        summary.evaluate = {key: score(spark, settings, truth, key) for key in KEYS}
    summary.documents = _documents(settings)
    summary.data_docs = {layer: docs_path(settings, layer) for layer in LAYERS}
    if summary.gold.get("week", {}).get("published"):
        weekly = current(spark.read.format("delta").load(trend_uri(settings, "week"))).toPandas()
        weekly["period"] = weekly["period"].astype("datetime64[ns]")
        summary.chart = str(chart.headline(weekly, chart_path, "Groundswell: weekly revenue index by sector (constant currency, 95% band)"))
    return summary
