"""Trend cells by sector × region × period, on the constant panel.

A period's growth compares only companies present and complete in both periods of the pair and connected
long enough (`min_history_days`): a company joining, leaving or half-covered never shows up as growth.
Growth is the ratio of the panel's sums (bigger companies weigh more, as in the economy); the index chains
those ratios from 100 at the first period; year-over-year growth compares the panel of the period and the
one a year before directly (not through the chain).

Outliers are tempered in levels, not in growth: a company-period beyond `outlier_cap` times the company's
average over the trailing quarter counts at that bound, so one restatement or bulk back-load cannot swing a
cell. Each company-period keeps one tempered value in every pair it is part of, so on a steady panel the
chain still telescopes to the ratio of the end levels (capping each pair's growth instead drifts the chain:
lumpy sellers' big weeks are cut, their empty weeks are not).

The matched-item price index compares the unit value (amount / quantity, in the document's currency) of the
same item of the same company in both periods of a pair — no new or discontinued item, no change of mix —
and averages the price relatives geometrically, weighted by each item's sales in the earlier period.

Each cell says how many companies it rests on (`contributors`), what share of the cell's observed revenue
that panel covers (`coverage`), its largest company's share (`max_share`, what disclosure control reads),
and the standard error of its growth (the ratio estimator's, from the spread of company growth).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.gold.facts import QUARTER, YEAR_LAG, Grain

CELL = ("sector", "region", "grain", "period")
#: the chained indices and the growth each chains
INDICES = {"revenue_index_usd": "growth_usd", "revenue_index_cc": "growth_cc", "purchases_index": "purchases_growth",
           "price_index": "price_growth"}
#: how many periods a cell's values reach back: a year-over-year pair and the trailing quarter of its earlier period
REACH = {grain: YEAR_LAG[grain] + QUARTER[grain] for grain in YEAR_LAG}


def exact_sum(value: Column, scale: int = 6) -> Column:
    """A sum in decimals: equal whatever order the rows meet in (a double sum is not), so recomputing a cell
    from other files, or from fewer periods, gives the very same value."""
    return F.sum(value.cast(f"decimal(38,{scale})"))


@dataclass(frozen=True)
class PanelRules:
    min_history_days: int
    outlier_cap: float


def eligible(facts: DataFrame, rules: PanelRules) -> DataFrame:
    return facts.where(F.col("complete") & (F.col("history_days") >= rules.min_history_days))


def _earlier(grain: Grain, periods: int) -> Column:
    return F.date_sub(F.col("period"), 7 * periods) if grain == "week" else F.add_months(F.col("period"), -periods)


def pairs(panel: DataFrame, grain: Grain, lag: int, value: str) -> DataFrame:
    """(company, cell, now, then) for every company in the panel at both `period` and `lag` periods before."""
    then = panel.select("company_id", F.col("period").alias("_then_period"), F.col(value).alias("then"))
    return (panel.select("company_id", "sector", "region", "grain", "period", F.col(value).alias("now"))
            .withColumn("_then_period", _earlier(grain, lag)).join(then, ["company_id", "_then_period"]).drop("_then_period"))


def _ordinal(grain: Grain) -> Column:
    """Periods counted from an epoch, so windows span periods of the calendar, not rows."""
    if grain == "week":
        return (F.datediff("period", F.lit("1970-01-05").cast("date")) / 7).cast("int")
    return F.year("period") * 12 + F.month("period")


def tempered(panel: DataFrame, grain: Grain, cap: float, *values: str) -> DataFrame:
    """`values` held within ±`cap` × the company's average over the quarter before (its periods in the panel,
    untempered); a company with no sales in that quarter keeps its value."""
    trailing = Window.partitionBy("company_id").orderBy(_ordinal(grain)).rangeBetween(-QUARTER[grain], -1)
    for value in values:
        bound = F.avg(value).over(trailing) * cap
        panel = panel.withColumn(value, F.when(bound > 0, F.least(F.greatest(F.col(value), -bound), bound)).otherwise(F.col(value)))
    return panel


def growth(pairs_: DataFrame, name: str) -> DataFrame:
    """Per cell: the panel's growth ratio `name` (now/then − 1), its standard error, contributors, the
    panel's revenue now (`name`_revenue) and the largest company's share of either period."""
    now, then = exact_sum(F.col("now")).cast("double"), exact_sum(F.col("then")).cast("double")
    cell = Window.partitionBy(*CELL)
    ratio = F.try_divide(exact_sum(F.col("now")).over(cell).cast("double"), exact_sum(F.col("then")).over(cell).cast("double"))
    per = pairs_.withColumn("_resid", F.col("now") - ratio * F.col("then"))
    n = F.count(F.lit(1))
    return per.groupBy(*CELL).agg(
        (F.try_divide(now, then) - 1).alias(name),
        F.when(n > 1, F.try_divide(F.sqrt(exact_sum(F.col("_resid") ** 2).cast("double") / (n * (n - 1))), then / n)).alias(f"{name}_se"),
        n.alias(f"{name}_contributors"),
        now.alias(f"{name}_revenue"),
        F.greatest(F.try_divide(F.max("now"), now), F.try_divide(F.max("then"), then)).alias(f"{name}_max_share"),
    )


def indexed(cells: DataFrame) -> DataFrame:
    """Add the chained indices: 100 at a series' first period, each later period the previous times
    (1 + growth); a period without a panel carries the level flat."""
    series = Window.partitionBy("sector", "region", "grain").orderBy("period").rowsBetween(Window.unboundedPreceding, Window.currentRow)
    for index, growth_column in INDICES.items():
        log_link = F.log(F.greatest(F.lit(1e-9), 1 + F.coalesce(F.col(growth_column), F.lit(0.0))))
        cells = cells.withColumn(index, 100 * F.exp(F.sum(log_link).over(series)))
    return cells


def trend_cells(facts: DataFrame, items: DataFrame, grain: Grain, rules: PanelRules) -> DataFrame:
    """Per cell of the periods in `facts`: revenue growth in USD and in constant currency, year-over-year
    growth, PO volume growth, matched-item price growth, average order value, DSO, contributors, coverage and
    the largest share (chained into indices by `indexed`). A cell's values read its companies' facts up to
    REACH periods back: cells are right from that far into `facts` on."""
    panel = eligible(facts.where(F.col("grain") == grain), rules)
    steady = tempered(panel, grain, rules.outlier_cap, "revenue_usd", "revenue_cc_usd", "purchases_usd")
    parts = [
        growth(pairs(steady, grain, 1, "revenue_usd"), "growth_usd"),
        growth(pairs(steady, grain, 1, "revenue_cc_usd"), "growth_cc"),
        growth(pairs(steady, grain, YEAR_LAG[grain], "revenue_usd"), "yoy_usd"),
        growth(pairs(steady, grain, YEAR_LAG[grain], "revenue_cc_usd"), "yoy_cc"),
        growth(pairs(steady, grain, 1, "purchases_usd"), "purchases_growth"),
    ]
    observed = (facts.where((F.col("grain") == grain) & F.col("complete")).groupBy(*CELL)
                .agg(exact_sum(F.col("revenue_usd")).cast("double").alias("_observed"), F.countDistinct("company_id").alias("companies")))
    levels = panel.groupBy(*CELL).agg(
        exact_sum(F.col("revenue_usd")).cast("double").alias("_revenue"), F.sum("orders").alias("_orders"),
        F.percentile_approx("dso_days", 0.5).alias("dso_days"), F.avg("inventory_days").alias("inventory_days"))
    cells = observed.join(levels, list(CELL), "left")
    for part in parts:
        cells = cells.join(part, list(CELL), "left")
    cells = cells.select(
        *CELL, "companies", F.col("growth_cc_contributors").alias("contributors"),
        F.when(F.col("_observed") > 0, F.col("growth_usd_revenue") / F.col("_observed")).alias("coverage"),
        F.greatest("growth_cc_max_share", "growth_usd_max_share").alias("max_share"),
        "growth_usd", "growth_cc", F.col("growth_cc_se").alias("growth_se"),
        "yoy_usd", "yoy_cc", F.col("yoy_cc_contributors").alias("yoy_contributors"), F.col("yoy_cc_max_share").alias("yoy_max_share"),
        "purchases_growth", F.when(F.col("_orders") > 0, F.col("_revenue") / F.col("_orders")).alias("average_order_usd"),
        "dso_days", "inventory_days").join(price_growth(items, panel, grain, rules), list(CELL), "left")
    return cells


def price_growth(items: DataFrame, panel: DataFrame, grain: Grain, rules: PanelRules) -> DataFrame:
    """Per cell: matched-item price growth and the items and companies it rests on."""
    priced = items.join(panel.select("company_id", *CELL), ["company_id", "period"]).withColumn("unit_value", F.col("amount") / F.col("quantity"))
    before = priced.select("company_id", "item", "currency", F.col("period").alias("_then_period"),
                           F.col("unit_value").alias("_then_value"), F.col("amount").alias("_weight"))
    matched = (priced.withColumn("_then_period", _earlier(grain, 1)).join(before, ["company_id", "item", "currency", "_then_period"])
               .withColumn("_relative", F.least(F.greatest(F.col("unit_value") / F.col("_then_value"), F.lit(1 / rules.outlier_cap)),
                                                F.lit(rules.outlier_cap))))
    cells = matched.groupBy(*CELL).agg(
        (F.exp(exact_sum(F.col("_weight") * F.log("_relative"), 12).cast("double") / exact_sum(F.col("_weight")).cast("double")) - 1).alias("price_growth"),
        F.count(F.lit(1)).alias("matched_items"), F.countDistinct("company_id").alias("price_contributors"))
    return cells
