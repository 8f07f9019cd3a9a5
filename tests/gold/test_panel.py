"""The panel method and disclosure control on hand-made company-week facts (real Spark, no warehouse):
joining companies are not growth, one company's outlier is tempered without drifting the chain, the index
chains from 100, and a cell with too few companies or a dominant one is withheld with its reason."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from jobs.gold.disclosure import DisclosureRules, disclose
from jobs.gold.panel import PanelRules, indexed, trend_cells

RULES = PanelRules(min_history_days=0, outlier_cap=4.0)
OPEN = DisclosureRules(min_contributors=1, max_share=1.0)
FACT = ("company_id string, sector string, region string, grain string, period date, revenue_usd double, revenue_cc_usd double, "
        "orders long, purchases_usd double, dso_days double, inventory_days double, complete boolean, history_days int")
ITEM = "company_id string, period date, item string, currency string, amount double, quantity double"
MONDAY = date(2026, 1, 5)


def _items(spark, sold: dict[tuple[str, str], list[tuple[float, float] | None]] | None = None):
    """(company, item) → per week (amount, quantity) or None."""
    rows = [(company, MONDAY + timedelta(weeks=week), item, "EUR", *map(float, value))
            for (company, item), values in (sold or {}).items() for week, value in enumerate(values) if value is not None]
    return spark.createDataFrame(rows, ITEM)


def _facts(spark, revenue: dict[str, list[float | None]], *, cell=("retail", "EU")):
    """One fact row per company and week (None: the company is not connected that week)."""
    rows = [(company, *cell, "week", MONDAY + timedelta(weeks=week), float(value), float(value), 10, 0.0, None, None, True, 365)
            for company, values in revenue.items() for week, value in enumerate(values) if value is not None]
    return spark.createDataFrame(rows, FACT)


def _cells(spark, revenue, disclosure=OPEN, rules=RULES, items=None) -> list[dict]:
    cells = disclose(indexed(trend_cells(_facts(spark, revenue), items or _items(spark), "week", rules)), disclosure)
    return [r.asDict() for r in cells.orderBy("period").collect()]


def test_given_a_company_joining_when_cells_are_built_then_its_revenue_is_not_growth(spark):
    cells = _cells(spark, {"a": [100, 110, 121], "b": [200, 220, 242], "late": [None, None, 5000]})
    assert cells[1]["growth_cc"] == pytest.approx(0.10) and cells[2]["growth_cc"] == pytest.approx(0.10)
    assert cells[2]["contributors"] == 2 and cells[2]["companies"] == 3
    assert cells[2]["coverage"] == pytest.approx(363 / 5363)
    assert cells[0]["suppressed"] == "fewer than 1 contributors"  # the base week has no pair to rest on
    assert [c["revenue_index_cc"] for c in cells[1:]] == pytest.approx([110, 121])  # chained from 100 at the base week


def test_given_one_company_spiking_tenfold_when_cells_are_built_then_the_spike_counts_at_the_cap_and_the_chain_recovers(spark):
    cells = _cells(spark, {"a": [100, 100, 100, 1000, 100], "b": [100, 100, 100, 100, 100]})
    assert cells[3]["growth_cc"] == pytest.approx((400 + 100) / 200 - 1)
    assert cells[4]["growth_cc"] == pytest.approx(200 / 500 - 1)
    assert cells[4]["revenue_index_cc"] == pytest.approx(100)  # one tempered level in both its pairs: no drift


def test_given_a_lumpy_seller_when_cells_are_built_then_the_index_follows_the_panel_level(spark):
    lumpy = [0, 300, 0, 0, 500, 0, 250, 0]
    cells = _cells(spark, {"lumpy": lumpy, "steady": [100.0] * len(lumpy)})
    assert cells[1]["growth_cc"] == pytest.approx(400 / 100 - 1)  # a week after nothing still counts its sales
    assert cells[-1]["revenue_index_cc"] == pytest.approx(100 * (lumpy[-1] + 100) / (lumpy[0] + 100))


def test_given_an_incomplete_week_when_cells_are_built_then_the_company_sits_out_both_pairs_around_it(spark):
    facts = _facts(spark, {"a": [100, 50, 100], "b": [100, 100, 100]})
    facts = facts.withColumn("complete", ~((facts.company_id == "a") & (facts.period == MONDAY + timedelta(weeks=1))))
    cells = [r.asDict() for r in disclose(indexed(trend_cells(facts, _items(spark), "week", RULES)), OPEN).orderBy("period").collect()]
    assert cells[1]["growth_cc"] == pytest.approx(0.0) and cells[2]["growth_cc"] == pytest.approx(0.0)
    assert cells[1]["contributors"] == cells[2]["contributors"] == 1


def test_given_too_few_companies_or_a_dominant_one_when_disclosed_then_values_are_withheld_with_the_reason(spark):
    rules = DisclosureRules(min_contributors=3, max_share=0.5)
    few = _cells(spark, {"a": [100, 110], "b": [100, 110]}, rules)
    assert few[1]["suppressed"] == "fewer than 3 contributors"
    assert few[1]["growth_cc"] is None and few[1]["revenue_index_cc"] is None and few[1]["contributors"] == 2
    dominant = _cells(spark, {"a": [1000, 1100], "b": [100, 110], "c": [100, 110]}, rules)
    assert dominant[1]["suppressed"] == "one company above 50% of the cell" and dominant[1]["growth_cc"] is None
    fine = _cells(spark, {"a": [100, 110], "b": [100, 110], "c": [100, 110]}, rules)
    assert fine[1]["suppressed"] is None and fine[1]["growth_cc"] == pytest.approx(0.10)


def test_given_a_year_of_weeks_when_cells_are_built_then_year_over_year_compares_the_same_companies(spark):
    weeks = 53
    cells = _cells(spark, {"a": [100.0] * 52 + [130.0], "b": [100.0] * 52 + [70.0], "new": [None] * 52 + [900.0]})
    assert cells[weeks - 1]["yoy_cc"] == pytest.approx(0.0) and cells[weeks - 1]["yoy_contributors"] == 2
    assert cells[0]["yoy_cc"] is None


def test_given_items_sold_in_both_weeks_when_priced_then_only_matched_items_count_weighted_by_earlier_sales(spark):
    items = _items(spark, {("a", "x"): [(100, 10), (110, 10)], ("a", "y"): [(300, 15), (300, 15)], ("a", "new"): [None, (999, 1)]})
    cells = _cells(spark, {"a": [400, 1409]}, items=items)
    assert cells[1]["price_growth"] == pytest.approx(1.1 ** 0.25 - 1) and cells[1]["matched_items"] == 2
    assert cells[1]["price_index"] == pytest.approx(100 * 1.1 ** 0.25)
