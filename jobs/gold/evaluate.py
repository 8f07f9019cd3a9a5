"""How close the published weekly indices come to the sandbox's answer key, per sector × region, beside a
naive index (everyone's revenue summed in USD, no panel) — so what the panel method buys is shown.

Two answer keys, both from the sandbox's truth export:
- `latent`: the economy the companies' activity was drawn from (mean daily demand × price of the week);
- `census`: what a statistician with every company's true books would publish — the same-company growth
  of true net sales over the companies connected all of both weeks, each company's sales at its base
  year's average exchange rate (constant currency, so a yen seller does not outweigh a dollar seller).
The first includes the sampling noise of a panel of few, small companies; the second is what the pipeline's
data handling (duplicates, poison, currencies, drift, churn, late edits) must reproduce.

Figures per cell: correlation of year-over-year and week-over-week growth with the key; the index level
error, the mean absolute relative difference after the first year, with both series scaled to 100 over
their first year's common weeks (a base year, not one noisy week); the same for the naive index;
contributors (median).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from jobs.gold.facts import YEAR_LAG

KEYS = ("latent", "census")
WEEKS_A_YEAR = YEAR_LAG["week"]
_READ = {"keep_default_na": False, "na_values": [""]}  # "NA" is a region, not a missing value


def latent_weekly(truth: Path) -> pd.DataFrame:
    """(sector, region, period, level): the mean of daily demand × price over each ISO week."""
    latent = pd.read_csv(truth / "latent_index.csv.gz", **_READ)
    day = pd.to_datetime(latent["date"])
    latent["period"] = day - pd.to_timedelta(day.dt.weekday, unit="D")
    latent["level"] = latent["demand"] * latent["price"]
    weekly = latent.groupby(["sector", "region", "period"], as_index=False)["level"].mean()
    return _with_growth(weekly)


def census_weekly(truth: Path, base_year: int) -> pd.DataFrame:
    """(sector, region, period, level, wow, yoy): the same-company index of true net sales."""
    weeks = pd.read_csv(truth / "company_week.csv.gz", **_READ)
    companies = pd.read_csv(truth / "companies.csv.gz", **_READ)[["company_id", "sector", "region"]]
    weeks = weeks.merge(companies, on="company_id")
    weeks["period"] = pd.to_datetime(weeks["week_start"])
    weeks["revenue"] *= _base_rates(weeks, base_year).reindex(weeks["currency"]).to_numpy()
    complete = weeks[weeks["complete"] == 1][["company_id", "sector", "region", "period", "revenue"]]

    def same_company(lag: int) -> pd.DataFrame:
        before = complete.assign(period=complete["period"] + pd.Timedelta(weeks=lag))
        both = complete.merge(before, on=["company_id", "sector", "region", "period"], suffixes=("", "_then"))
        sums = both.groupby(["sector", "region", "period"])[["revenue", "revenue_then"]].sum()
        return (sums["revenue"] / sums["revenue_then"] - 1).rename("wow" if lag == 1 else "yoy")

    cells = pd.concat([same_company(1), same_company(WEEKS_A_YEAR)], axis=1).reset_index().sort_values(["sector", "region", "period"])
    cells["level"] = cells.groupby(["sector", "region"])["wow"].transform(lambda g: 100 * np.exp(np.log1p(g.fillna(0)).cumsum()))
    return cells


def _base_rates(weeks: pd.DataFrame, base_year: int) -> pd.Series:
    """USD per unit of each currency: the truth's own conversion of the year's net sales (of every week where
    that currency has no sales in `base_year`)."""
    def rate(frame: pd.DataFrame) -> pd.Series:
        sums = frame.groupby("currency")[["revenue_usd", "revenue"]].sum()
        return sums["revenue_usd"] / sums["revenue"]

    return rate(weeks[weeks["period"].dt.year == base_year]).combine_first(rate(weeks))


def _with_growth(levels: pd.DataFrame) -> pd.DataFrame:
    levels = levels.sort_values(["sector", "region", "period"]).copy()
    by_cell = levels.groupby(["sector", "region"])["level"]
    levels["wow"] = by_cell.pct_change(fill_method=None)
    levels["yoy"] = by_cell.pct_change(WEEKS_A_YEAR, fill_method=None)
    return levels


def naive_weekly(facts: pd.DataFrame) -> pd.DataFrame:
    """Everyone's revenue in USD summed per cell and week, no panel: (sector, region, period, level, wow, yoy)."""
    summed = facts.groupby(["sector", "region", "period"], as_index=False)["revenue_usd"].sum().rename(columns={"revenue_usd": "level"})
    return _with_growth(summed)


def _level_error(estimate: pd.Series, key: pd.Series) -> float:
    """Mean |estimate/key − 1| after the first year, both scaled to 100 over the first year's weeks that both
    have (a withheld week is no level, and must not tilt one side's base)."""
    both = estimate.notna() & key.notna()
    base = both & (np.arange(len(both)) < WEEKS_A_YEAR)
    if not base.any():
        return float("nan")
    ratio = (estimate / estimate[base].mean()) / (key / key[base].mean())
    later = (ratio - 1).iloc[WEEKS_A_YEAR:].abs()
    return float(later.mean()) if later.notna().any() else float("nan")


def _corr(a: pd.Series, b: pd.Series) -> float:
    both = a.notna() & b.notna()
    return float(np.corrcoef(a[both], b[both])[0, 1]) if both.sum() > 2 else float("nan")


def evaluate(published: pd.DataFrame, naive: pd.DataFrame, key: pd.DataFrame) -> list[dict]:
    """One figure set per published cell (cells whose every week is suppressed are left out)."""
    cells = []
    for (sector, region), cell in published.groupby(["sector", "region"]):
        shown = cell[cell["suppressed"].isna()]
        if shown.empty:
            continue
        joined = (cell.set_index("period")[["revenue_index_cc", "growth_cc", "yoy_cc"]]
                  .join(key[(key["sector"] == sector) & (key["region"] == region)].set_index("period")[["level", "wow", "yoy"]], how="inner")
                  .join(naive[(naive["sector"] == sector) & (naive["region"] == region)].set_index("period")[["level", "yoy"]]
                        .add_prefix("naive_"), how="left").sort_index())
        cells.append({
            "sector": sector, "region": region,
            "yoy_corr": _corr(joined["yoy_cc"], joined["yoy"]), "wow_corr": _corr(joined["growth_cc"], joined["wow"]),
            "level_err": _level_error(joined["revenue_index_cc"], joined["level"]),
            "naive_yoy_corr": _corr(joined["naive_yoy"], joined["yoy"]),
            "naive_level_err": _level_error(joined["naive_level"], joined["level"]),
            "contributors": int(shown["contributors"].median()),
        })
    return cells


def score(spark, settings, truth: Path, key: str = "latent") -> list[dict]:
    """`evaluate` of the warehouse's current weekly publication against the sandbox truth export at `truth`."""
    from pyspark.sql import functions as F

    from jobs.gold.build import current, facts_uri, trend_uri

    published = current(spark.read.format("delta").load(trend_uri(settings, "week"))).toPandas()
    facts = spark.read.format("delta").load(facts_uri(settings)).where(F.col("grain") == "week").toPandas()
    for frame in (published, facts):
        frame["period"] = pd.to_datetime(frame["period"])
    answer = latent_weekly(truth) if key == "latent" else census_weekly(truth, settings.gold.constant_currency_year)
    return evaluate(published, naive_weekly(facts), answer)
