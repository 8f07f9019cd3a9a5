"""The answer keys and scores of `groundswell evaluate` on a hand-made truth export (no Spark): the census
weighs companies at constant exchange rates, a perfect index scores level error 0, and a drifting one does not."""

from __future__ import annotations

import gzip
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from jobs.gold import evaluate as scoring

WEEKS = 60
MONDAY = date(2025, 1, 6)


def _truth(folder, companies: dict[str, tuple[str, float, list[float]]]):
    """company → (currency, USD per unit, weekly revenue): one cell, retail × NA."""
    rows = [(c, (MONDAY + timedelta(weeks=w)).isoformat(), cur, revenue, revenue * rate, 1)
            for c, (cur, rate, weekly) in companies.items() for w, revenue in enumerate(weekly)]
    weeks = pd.DataFrame(rows, columns=["company_id", "week_start", "currency", "revenue", "revenue_usd", "complete"])
    directory = pd.DataFrame([(c, "retail", "NA") for c in companies], columns=["company_id", "sector", "region"])
    for name, frame in (("company_week", weeks), ("companies", directory)):
        with gzip.open(folder / f"{name}.csv.gz", "wt") as file:
            frame.to_csv(file, index=False)
    return folder


def _published(key: pd.DataFrame, level: np.ndarray) -> pd.DataFrame:
    growth = pd.Series(level).pct_change().to_numpy()
    return pd.DataFrame({"sector": "retail", "region": "NA", "period": key["period"].to_numpy(), "revenue_index_cc": level,
                         "growth_cc": growth, "yoy_cc": key["yoy"].to_numpy(), "suppressed": None, "contributors": 2})


def test_given_companies_in_two_currencies_when_the_census_is_keyed_then_each_weighs_at_its_constant_rate(tmp_path):
    growing = [100.0 * 1.01 ** w for w in range(WEEKS)]
    key = scoring.census_weekly(_truth(tmp_path, {"dollar": ("USD", 1.0, growing), "yen": ("JPY", 0.0067, [150_000.0] * WEEKS)}), 2025)
    usd = np.array(growing) + 150_000 * 0.0067  # yen seller's sales at the base rate: 1,005 USD a week
    assert key["period"].iloc[0] == pd.Timestamp(MONDAY + timedelta(weeks=1))  # growth from the second week
    assert key["wow"].to_numpy() == pytest.approx(usd[1:] / usd[:-1] - 1)
    assert key["yoy"].iloc[51] == pytest.approx(usd[52] / usd[0] - 1)


def test_given_an_index_that_follows_the_key_when_scored_then_its_level_error_is_zero_and_a_drifting_one_is_not(tmp_path):
    key = scoring.census_weekly(_truth(tmp_path, {"a": ("USD", 1.0, [100.0 + w for w in range(WEEKS)]),
                                                  "b": ("USD", 1.0, [50.0 + 3 * (w % 4) for w in range(WEEKS)])}), 2025)
    naive = key.rename(columns={"level": "naive"}).assign(level=key["level"] * 2)[["sector", "region", "period", "level", "yoy"]]
    exact = scoring.evaluate(_published(key, key["level"].to_numpy()), naive, key)[0]
    assert exact["level_err"] == pytest.approx(0, abs=1e-12) and exact["yoy_corr"] == pytest.approx(1)
    assert exact["naive_level_err"] == pytest.approx(0, abs=1e-12)  # a constant factor is no level error: both scale to their first year
    drifting = scoring.evaluate(_published(key, key["level"].to_numpy() * 0.999 ** np.arange(len(key))), naive, key)[0]
    assert drifting["level_err"] > 0.02
