"""Disclosure control, before anything is published: a cell rests on at least `min_contributors` companies
and no company makes up more than `max_share` of it, or its values are withheld. A withheld cell stays in the
table as a row without values and with its reason (analysts see a gap, not a missing row), and is counted.
Year-over-year growth rests on its own panel (the companies of both years) and is checked on its own."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

#: the cell columns that reveal something about its companies (withheld when the cell fails)
VALUES = ("coverage", "growth_usd", "growth_cc", "growth_se", "yoy_usd", "yoy_cc", "purchases_growth", "average_order_usd",
          "dso_days", "inventory_days", "revenue_index_usd", "revenue_index_cc", "purchases_index", "price_growth", "price_index")
#: values resting on a panel of their own, checked on their own: its contributors, its largest share
OWN_PANELS = {"yoy_usd": ("yoy_contributors", "yoy_max_share"), "yoy_cc": ("yoy_contributors", "yoy_max_share"),
              "price_growth": ("price_contributors", None), "price_index": ("price_contributors", None)}


@dataclass(frozen=True)
class DisclosureRules:
    min_contributors: int
    max_share: float


def _failure(contributors: Column, share: Column, rules: DisclosureRules) -> Column:
    return (F.when(F.coalesce(contributors, F.lit(0)) < rules.min_contributors,
                   F.concat(F.lit("fewer than "), F.lit(str(rules.min_contributors)), F.lit(" contributors")))
            .when(share > rules.max_share, F.concat(F.lit("one company above "), F.lit(f"{rules.max_share:.0%}"), F.lit(" of the cell"))))


def disclose(cells: DataFrame, rules: DisclosureRules) -> DataFrame:
    """The cells as they may be published: `suppressed` (null when published) says why values are withheld."""
    withheld = cells.withColumn("suppressed", _failure(F.col("contributors"), F.col("max_share"), rules))
    for column in VALUES:
        hide = F.col("suppressed").isNotNull()
        if column in OWN_PANELS:
            contributors, share = OWN_PANELS[column]
            hide = hide | _failure(F.col(contributors), F.col(share) if share else F.lit(0.0), rules).isNotNull()
        withheld = withheld.withColumn(column, F.when(~hide, F.col(column)))
    return withheld.drop("max_share", "yoy_max_share")
