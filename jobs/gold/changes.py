"""What changed since gold's last build, as the earliest day it touches: a daily run recomputes the periods
from there on and nothing before (jobs/gold/build.py).

Each build records what it read in `gold/build_state`: every silver table's version, every company's
freshness and the gold rules. The next build reads each silver table's change data feed since then —
inserted, deleted, and updated rows before and after — and takes the earliest day a change touches:
- a document (invoice, credit note, PO, payment): its business date, so a late edit or void reaches back
  to its own period;
- a customer whose master id changed: its first sale (a customer is new in the period of its group's first
  sale, and moving one customer between groups moves no first sale to before its own);
- a company of the directory: its onboarding (sector, region or span changed);
- a company's freshness: the earlier of its old and new `fresh_through` (periods complete, or appear);
- FX: a currency's base-year average rate changing touches everything (constant-currency revenue).
With no earlier build, other rules, or a change feed no longer readable (vacuumed), everything is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.gold.facts import EVERYTHING, Silver, base_rates
from jobs.tables import change_feed

SCHEMA = T.StructType([
    T.StructField("built_at", T.TimestampType(), False),
    T.StructField("rules", T.StringType(), False),
    T.StructField("read_versions", T.MapType(T.StringType(), T.LongType()), False),
    T.StructField("fresh_through", T.MapType(T.StringType(), T.DateType()), False),
])
#: the day each silver document's change touches (a SQL expression)
DOCUMENT_DAYS = {"silver/invoice": "issued_on", "silver/credit_note": "issued_on", "silver/purchase_order": "issued_on",
                 "silver/payment": "to_date(paid_at)"}


@dataclass(frozen=True)
class Inputs:
    """What one build read: silver table versions (-1: missing), each company's freshness, the gold rules."""

    read_versions: dict[str, int]
    fresh_through: dict[str, date]
    rules: str

    def row(self, at: datetime) -> tuple:
        return at, self.rules, self.read_versions, self.fresh_through


def last_inputs(state: DataFrame) -> Inputs | None:
    row = state.orderBy(F.col("built_at").desc()).first()
    return Inputs(dict(row["read_versions"]), dict(row["fresh_through"]), row["rules"]) if row else None


def _earliest(frame: DataFrame, day: str) -> date | None:
    return frame.agg(F.min(F.expr(day))).first()[0]


def _averages(fx_rates: DataFrame, base_year: int) -> dict[str, object]:
    return {r["currency"]: r["base_usd_per_unit"] for r in base_rates(fx_rates, base_year).collect()}


def _fresh(last: dict[str, date], now: dict[str, date], onboarded: dict[str, date]) -> list[date]:
    moved = [c for c in last.keys() | now.keys() if last.get(c) != now.get(c)]
    return [min(last[c], now[c]) if c in last and c in now else onboarded.get(c, EVERYTHING) for c in moved]


def earliest_change(spark: SparkSession, uris: dict[str, str], silver: Silver, base_year: int, last: Inputs | None,
                    now: Inputs) -> date | None:
    """The earliest day a change since `last` touches (EVERYTHING when it cannot tell); None when nothing
    changed. `uris` maps the names of `read_versions` to the tables' locations."""
    if last is None or last.rules != now.rules or last.read_versions.keys() != now.read_versions.keys():
        return EVERYTHING
    days: list[date | None] = []
    try:
        for name, version in now.read_versions.items():
            before = last.read_versions[name]
            if version == before:
                continue
            if before < 0 or version < before:
                return EVERYTHING
            changed = change_feed(spark, uris[name], before + 1, version)
            if name in DOCUMENT_DAYS:
                days.append(_earliest(changed, DOCUMENT_DAYS[name]))
            elif name == "silver/customer":
                parties = changed.select(F.col("canonical_id").alias("party_id")).distinct()
                days.append(_earliest(silver.invoices.join(parties, "party_id", "left_semi"), "issued_on"))
            elif name == "silver/company":
                days.append(_earliest(changed, "onboarded_on"))
            elif name == "silver/fx_rate":
                then = spark.read.format("delta").option("versionAsOf", before).load(uris[name])
                if _averages(then, base_year) != _averages(silver.fx_rates, base_year):
                    return EVERYTHING
    except PySparkException:  # the change feed or the old version is gone (vacuumed): no way to tell
        return EVERYTHING
    if last.fresh_through != now.fresh_through:
        onboarded = {r["company_id"]: r["onboarded_on"] for r in silver.companies.select("company_id", "onboarded_on").collect()}
        days += _fresh(last.fresh_through, now.fresh_through, onboarded)
    touched = [d for d in days if d is not None]
    return min(touched) if touched else None
