"""Gold published the way gold_build publishes it (jobs.gold.build.publish, real Delta tables), from cells made
up here: what the search tests and the search benchmark index, without building a sandbox first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from pyspark.sql import types as T

from jobs.gold.build import PUBLICATION_SCHEMA, health_uri, publication_uri, publish
from jobs.search.documents import COUNTS, HEALTH, TREND

VALUE_COLUMNS = [f.name for f in TREND.fields if isinstance(f.dataType, T.DoubleType)]
WITHHELD = "fewer than 5 contributors"


@dataclass(frozen=True)
class Economy:
    series: list[tuple[str, str]]  # (sector, region)
    start: date  # a Monday
    weeks: int
    months: int
    contributors: int = 6

    def periods(self, grain: str) -> list[date]:
        if grain == "week":
            return [self.start + timedelta(weeks=w) for w in range(self.weeks)]
        return [date(self.start.year + (self.start.month - 1 + m) // 12, (self.start.month - 1 + m) % 12 + 1, 1) for m in range(self.months)]


def cells(spark, economy: Economy, grain: str, bump: float = 0.0):
    """Cells of every series and period; the last series' last cell is withheld by disclosure control; `bump`
    revises the fourth period of every series."""
    rows = []
    for s, (sector, region) in enumerate(economy.series):
        periods = economy.periods(grain)
        for p, period in enumerate(periods):
            withheld = s == len(economy.series) - 1 and p == len(periods) - 1
            revised = bump if p == 3 else 0.0
            values = {c: None if withheld else round(0.01 * ((s + 1) * (p + 1) % 17) - 0.05 + revised, 4) for c in VALUE_COLUMNS}
            if not withheld:
                values["revenue_index_usd"] = round(100 + s % 50 + p * 0.5 + revised, 4)
            counts = {c: 3 if withheld else economy.contributors + s % 7 for c in COUNTS}
            rows.append({"sector": sector, "region": region, "grain": grain, "period": period, **counts, **values,
                         "suppressed": WITHHELD if withheld else None})
    schema = T.StructType([*[f for f in TREND.fields if f.name in rows[0]], T.StructField("suppressed", T.StringType())])
    return spark.createDataFrame([tuple(r[f.name] for f in schema.fields) for r in rows], schema)


def publish_vintage(spark, settings, economy: Economy, number: int, bump: float = 0.0) -> str:
    """Publish vintage `number` of both grains with its publication record and data health; returns its id."""
    vintage = f"gold-202612{number:02d}T000000Z-abc{number:03d}"
    at = datetime(2026, 12, number, tzinfo=timezone.utc)
    for grain in ("week", "month"):
        outcome = publish(spark, settings, grain, cells(spark, economy, grain, bump), vintage)
        rows = [(vintage, at, grain, outcome.cells, outcome.suppressed, outcome.new, outcome.revised, {"silver/invoice": number})]
        spark.createDataFrame(rows, PUBLICATION_SCHEMA).write.format("delta").mode("append").save(publication_uri(settings))
    health = [(vintage, at, system, 0.01, 0.002, 3.5, 0.5, 0.97, 1.0, 4) for system in ("quickbooks", "shopify")]
    spark.createDataFrame(health, HEALTH).write.format("delta").mode("append").save(health_uri(settings))
    return vintage
