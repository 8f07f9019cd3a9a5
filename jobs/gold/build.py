"""Silver → gold in one call: company-period facts (private), the trend cells by sector × region × week and
month under disclosure control, and a vintage for every publication that changed a published value, with
the data health of every source system at that moment.

Published tables keep every vintage of a cell: a build appends a row only for a cell that is new or whose
values differ from its latest row, stamped with this publication's vintage; `current` reads the latest row
per cell. A build that derives what is already published writes nothing, so rerunning it changes no table.
`gold/publication` records each vintage: when, what it changed and the silver table versions it read;
`gold/data_health` the trust figures per system (jobs/gold/health.py) as they stood when it was published.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import structlog
from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from connectors.state import CursorStore
from jobs.bronze.ingest import LEDGER_SCHEMA, ledger_uri
from jobs.gold.disclosure import VALUES, DisclosureRules, disclose
from jobs.gold.facts import GRAINS, Grain, Silver, company_periods, fresh_through, item_periods
from jobs.gold.health import health
from jobs.gold.panel import CELL, PanelRules, trend_cells
from jobs.ops import quarantine
from jobs.ops.quarantine import new_run_id
from jobs.settings import Settings
from jobs.silver import companies, fx
from jobs.silver.normalize import silver_uri, table_schema
from jobs.silver.reconcile import reconciliation_uri
from jobs.storage import warehouse_filesystem
from jobs.tables import ensure_table, exists, first_per_key, sync
from schemas.canonical.entities import ENTITIES

log = structlog.get_logger("groundswell.gold")

SILVER_INPUTS = ("invoice", "credit_note", "purchase_order", "payment", "customer")
#: decimals kept of each published value: what a rerun must reproduce exactly
ROUNDING = {"coverage": 4, "growth_usd": 6, "growth_cc": 6, "growth_se": 6, "yoy_usd": 6, "yoy_cc": 6, "purchases_growth": 6,
            "average_order_usd": 2, "dso_days": 1, "inventory_days": 1, "revenue_index_usd": 4, "revenue_index_cc": 4,
            "purchases_index": 4, "price_growth": 6, "price_index": 4}
RECONCILED = T.StructType([T.StructField(c, t) for c, t in (("company_id", T.StringType()), ("orders", T.LongType()), ("matched", T.LongType()))])
PUBLICATION_SCHEMA = T.StructType([
    T.StructField("vintage", T.StringType(), False),
    T.StructField("published_at", T.TimestampType(), False),
    T.StructField("grain", T.StringType(), False),
    T.StructField("cells", T.LongType(), False),
    T.StructField("suppressed", T.LongType(), False),
    T.StructField("new_cells", T.LongType(), False),
    T.StructField("revised_cells", T.LongType(), False),
    T.StructField("read_versions", T.MapType(T.StringType(), T.LongType()), False),
])


def facts_uri(settings: Settings) -> str:
    return settings.table_uri("gold", "company_period")


def trend_uri(settings: Settings, grain: Grain) -> str:
    return settings.table_uri("gold", f"trend_sector_region_{grain}")


def publication_uri(settings: Settings) -> str:
    return settings.table_uri("gold", "publication")


def health_uri(settings: Settings) -> str:
    return settings.table_uri("gold", "data_health")


def current(trend: DataFrame) -> DataFrame:
    """The latest vintage of every cell (vintage ids sort by the time they were published)."""
    return first_per_key(trend, list(CELL), F.col("vintage").desc())


def _read(spark: SparkSession, uri: str, schema: T.StructType) -> tuple[DataFrame, int]:
    """A silver table and its version (-1 and no rows when it does not exist yet)."""
    if not exists(spark, uri):
        return spark.createDataFrame([], schema), -1
    return spark.read.format("delta").load(uri), DeltaTable.forPath(spark, uri).history(1).first()["version"]


def _silver(spark: SparkSession, settings: Settings) -> tuple[Silver, dict[str, int]]:
    tables, versions = {}, {}
    for entity in SILVER_INPUTS:
        tables[entity], versions[f"silver/{entity}"] = _read(spark, silver_uri(settings, entity), table_schema(entity))
    directory, versions["silver/company"] = _read(spark, companies.uri(settings), companies.SCHEMA)
    rates, versions["silver/fx_rate"] = _read(spark, fx.uri(settings), fx.SCHEMA)
    return Silver(directory, tables["invoice"], tables["credit_note"], tables["purchase_order"], tables["payment"],
                  tables["customer"], rates), versions


def _cursors(settings: Settings) -> dict[tuple[str, str, str], datetime]:
    return CursorStore(*warehouse_filesystem(settings)).all()


def _rounded(cells: DataFrame) -> DataFrame:
    return cells.select(*[F.round(c, ROUNDING[c]).alias(c) if c in ROUNDING else F.col(c) for c in cells.columns])


@dataclass
class GrainOutcome:
    cells: int
    suppressed: int
    new: int
    revised: int


def publish(spark: SparkSession, settings: Settings, grain: Grain, cells: DataFrame, vintage: str) -> GrainOutcome:
    """Append the cells that are new or changed since their latest vintage, stamped `vintage`."""
    stamped = cells.withColumn("vintage", F.lit(vintage))
    table = ensure_table(spark, trend_uri(settings, grain), stamped.schema)
    latest = current(table.toDF())
    compared = [*VALUES, "suppressed", "contributors", "companies", "yoy_contributors", "price_contributors", "matched_items"]
    same = " AND ".join(f"c.`{v}` <=> l.`{v}`" for v in compared)
    keys = " AND ".join(f"c.`{k}` = l.`{k}`" for k in CELL)
    changed = stamped.alias("c").join(latest.alias("l"), F.expr(f"{keys} AND {same}"), "left_anti").cache()
    revised = changed.alias("c").join(latest.alias("l"), F.expr(keys), "left_semi").count()
    outcome = GrainOutcome(cells.count(), cells.where(F.col("suppressed").isNotNull()).count(), changed.count() - revised, revised)
    if outcome.new or outcome.revised:
        changed.write.format("delta").mode("append").save(trend_uri(settings, grain))
    changed.unpersist()
    return outcome


def _append(spark: SparkSession, uri: str, rows: DataFrame) -> None:
    ensure_table(spark, uri, rows.schema)
    rows.write.format("delta").mode("append").save(uri)


def _health(spark: SparkSession, settings: Settings, vintage: str, at: datetime, cursors: dict, directory: DataFrame) -> DataFrame:
    silver = {e: spark.read.format("delta").load(silver_uri(settings, e)) for e in ENTITIES
              if e != "company" and exists(spark, silver_uri(settings, e))}
    ledger, _ = _read(spark, ledger_uri(settings), LEDGER_SCHEMA)
    rejected, _ = _read(spark, quarantine.uri(settings), quarantine.SCHEMA)
    reconciliation, _ = _read(spark, reconciliation_uri(settings), RECONCILED)
    return health(spark, vintage, at, silver, ledger, rejected, cursors, reconciliation, directory)


@dataclass
class GoldSummary:
    vintage: str | None
    company_periods: dict[str, int] = field(default_factory=dict)
    grains: dict[str, GrainOutcome] = field(default_factory=dict)

    def line(self) -> str:
        facts = ", ".join(f"{n} company-{g}s" for g, n in self.company_periods.items())
        cells = "; ".join(f"{g}: {o.cells} cells ({o.suppressed} suppressed), {o.new} new, {o.revised} revised" for g, o in self.grains.items())
        return f"gold: {facts}; {cells}; vintage {self.vintage or 'unchanged'}"


def build(spark: SparkSession, settings: Settings, systems: list[str] | None = None) -> GoldSummary:
    """Facts and trend cells for every grain; `systems` is accepted for the jobs' shared command line
    (gold reads all of silver: a cell mixes companies of every system)."""
    silver, versions = _silver(spark, settings)
    cursors = _cursors(settings)
    fresh = spark.createDataFrame(sorted(fresh_through(cursors).items()), "company_id string, fresh_through date")
    panel = PanelRules(settings.gold.min_history_days, settings.gold.outlier_cap)
    disclosure = DisclosureRules(settings.gold.min_contributors, settings.gold.max_share)
    vintage = new_run_id("gold")
    summary = GoldSummary(None)
    facts_table = None
    for grain in GRAINS:
        facts = company_periods(silver, fresh, grain, settings.gold.constant_currency_year).cache()
        facts_table = facts_table or ensure_table(spark, facts_uri(settings), facts.schema, partition_by=["grain"])
        sync(facts_table, facts, ["company_id", "grain", "period"], scope=f"t.grain = '{grain}'")
        summary.company_periods[grain] = facts.count()
        cells = disclose(_rounded(trend_cells(facts, item_periods(silver, grain), grain, panel)), disclosure)
        summary.grains[grain] = publish(spark, settings, grain, cells, vintage)
        facts.unpersist()
    versions["gold/company_period"] = facts_table.history(1).first()["version"]
    published = [(g, o) for g, o in summary.grains.items() if o.new or o.revised]
    if published:
        summary.vintage, at = vintage, datetime.now(timezone.utc)
        rows = [(vintage, at, g, o.cells, o.suppressed, o.new, o.revised, versions) for g, o in published]
        _append(spark, publication_uri(settings), spark.createDataFrame(rows, PUBLICATION_SCHEMA))
        _append(spark, health_uri(settings), _health(spark, settings, vintage, at, cursors, silver.companies))
    log.info("gold built", summary=summary.line())
    return summary
