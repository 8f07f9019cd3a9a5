"""Silver → gold in one call: company-period facts (private), the trend cells by sector × region × week and
month under disclosure control, and a vintage for every publication that changed a published value, with
the data health of every source system at that moment.

A build recomputes only the periods from the earliest day changed since the last build (jobs/gold/changes.py):
facts for those periods, and the cells that read them, into `gold/trend_private` — every cell's values
before chaining, rounding and disclosure (private: never published). Chaining the indices, rounding and
disclosure then run over that table's whole series, which is small (sectors × regions × periods), so a
daily run's cost follows the days it brought, not the years before it. `--full` recomputes everything
(after a change of method).

Published tables keep every vintage of a cell: a build appends a row only for a cell that is new or whose
values differ from its latest row, stamped with this publication's vintage; `current` reads the latest row
per cell. A build that derives what is already published writes nothing, so rerunning it changes no table.
`gold/publication` records each vintage: when, what it changed and the silver table versions it read;
`gold/data_health` the trust figures per system (jobs/gold/health.py) as they stood when it was published.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import structlog
from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from connectors.state import CursorStore
from jobs.bronze.ingest import LEDGER_SCHEMA, ledger_uri
from jobs.gold import changes
from jobs.gold.changes import Inputs, earliest_change, last_inputs
from jobs.gold.disclosure import VALUES, DisclosureRules, disclose
from jobs.gold.facts import EVERYTHING, GRAINS, QUARTER, Grain, Silver, company_periods, fresh_through, from_day, item_periods, shift
from jobs.gold.health import health
from jobs.gold.panel import CELL, REACH, PanelRules, indexed, trend_cells
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
FULL_HELP = "recompute every period, not only those silver changed since the last build (after a change of method)"
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


def private_uri(settings: Settings) -> str:
    return settings.table_uri("gold", "trend_private")


def state_uri(settings: Settings) -> str:
    return settings.table_uri("gold", "build_state")


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


def _silver_uris(settings: Settings) -> dict[str, str]:
    return {**{f"silver/{e}": silver_uri(settings, e) for e in SILVER_INPUTS},
            "silver/company": companies.uri(settings), "silver/fx_rate": fx.uri(settings)}


def _silver(spark: SparkSession, settings: Settings) -> tuple[Silver, dict[str, int]]:
    schemas = {**{f"silver/{e}": table_schema(e) for e in SILVER_INPUTS}, "silver/company": companies.SCHEMA, "silver/fx_rate": fx.SCHEMA}
    tables, versions = {}, {}
    for name, uri in _silver_uris(settings).items():
        tables[name], versions[name] = _read(spark, uri, schemas[name])
    return Silver(*(tables[f"silver/{e}"] for e in ("company", "invoice", "credit_note", "purchase_order", "payment", "customer", "fx_rate"))), versions


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
    since: date | None = None  # the earliest day recomputed; None: nothing changed
    company_periods: dict[str, int] = field(default_factory=dict)  # recomputed, per grain
    grains: dict[str, GrainOutcome] = field(default_factory=dict)

    def line(self) -> str:
        if self.since is None:
            return "gold: nothing changed in silver since the last build"
        start = "every period" if self.since == EVERYTHING else f"from {self.since.isoformat()}"
        facts = ", ".join(f"{n} company-{g}s" for g, n in self.company_periods.items())
        cells = "; ".join(f"{g}: {o.cells} cells ({o.suppressed} suppressed), {o.new} new, {o.revised} revised" for g, o in self.grains.items())
        return f"gold ({start}): {facts}; {cells}; vintage {self.vintage or 'unchanged'}"


def _since(spark: SparkSession, settings: Settings, silver: Silver, last: Inputs | None, now: Inputs, full: bool) -> date | None:
    if full or not (exists(spark, facts_uri(settings)) and exists(spark, private_uri(settings))):
        return EVERYTHING
    return earliest_change(spark, _silver_uris(settings), silver, settings.gold.constant_currency_year, last, now)


def _start(since: date, grain: Grain) -> date:
    """The first day of the period `since` falls in."""
    if since == EVERYTHING:
        return since
    return date.fromordinal(since.toordinal() - since.weekday()) if grain == "week" else since.replace(day=1)


def _recompute(spark: SparkSession, settings: Settings, silver: Silver, fresh: DataFrame, grain: Grain, start: date) -> int:
    """Facts and private cells of `grain` from period `start` on; the company-periods recomputed."""
    gold = settings.gold
    scope = f"t.grain = '{grain}'" + ("" if start == EVERYTHING else f" AND t.period >= DATE'{start.isoformat()}'")
    opening = None if start == EVERYTHING else spark.read.format("delta").load(facts_uri(settings)).where(
        (F.col("grain") == grain) & (F.col("period") == shift(start, grain, -QUARTER[grain])))
    facts = company_periods(silver, fresh, grain, gold.constant_currency_year, start, opening).cache()
    sync(ensure_table(spark, facts_uri(settings), facts.schema, partition_by=["grain"]), facts, ["company_id", "grain", "period"], scope=scope)
    recomputed = facts.count()
    facts.unpersist()
    window = spark.read.format("delta").load(facts_uri(settings)).where(
        (F.col("grain") == grain) & from_day(F.col("period"), shift(start, grain, -REACH[grain])))
    items = item_periods(silver, grain, shift(start, grain, -1))
    cells = trend_cells(window, items, grain, PanelRules(gold.min_history_days, gold.outlier_cap)).where(from_day(F.col("period"), start))
    sync(ensure_table(spark, private_uri(settings), cells.schema, partition_by=["grain"]), cells, list(CELL), scope=scope)
    return recomputed


def build(spark: SparkSession, settings: Settings, systems: list[str] | None = None, *, full: bool = False) -> GoldSummary:
    """Facts and trend cells for every grain, from the earliest day changed since the last build (every
    period when `full`); `systems` is accepted for the jobs' shared command line (gold reads all of
    silver: a cell mixes companies of every system)."""
    silver, versions = _silver(spark, settings)
    cursors = _cursors(settings)
    now = Inputs(dict(versions), fresh_through(cursors), settings.gold.model_dump_json())
    state = ensure_table(spark, state_uri(settings), changes.SCHEMA)
    last = last_inputs(state.toDF())
    summary = GoldSummary(None, _since(spark, settings, silver, last, now, full))
    if summary.since is not None:
        fresh = spark.createDataFrame(sorted(now.fresh_through.items()), "company_id string, fresh_through date")
        disclosure = DisclosureRules(settings.gold.min_contributors, settings.gold.max_share)
        vintage = new_run_id("gold")
        for grain in GRAINS:
            summary.company_periods[grain] = _recompute(spark, settings, silver, fresh, grain, _start(summary.since, grain))
            series = spark.read.format("delta").load(private_uri(settings)).where(F.col("grain") == grain)
            cells = disclose(_rounded(indexed(series)), disclosure).cache()
            summary.grains[grain] = publish(spark, settings, grain, cells, vintage)
            cells.unpersist()
        versions["gold/company_period"] = DeltaTable.forPath(spark, facts_uri(settings)).history(1).first()["version"]
        published = [(g, o) for g, o in summary.grains.items() if o.new or o.revised]
        if published:
            summary.vintage, at = vintage, datetime.now(timezone.utc)
            rows = [(vintage, at, g, o.cells, o.suppressed, o.new, o.revised, versions) for g, o in published]
            _append(spark, publication_uri(settings), spark.createDataFrame(rows, PUBLICATION_SCHEMA))
            _append(spark, health_uri(settings), _health(spark, settings, vintage, at, cursors, silver.companies))
    if summary.since is not None and now != last:  # new table versions whose changes touch no day change nothing
        _append(spark, state_uri(settings), spark.createDataFrame([now.row(datetime.now(timezone.utc))], changes.SCHEMA))
    log.info("gold built", summary=summary.line())
    return summary
