"""Company-period facts (private: never published, never indexed): what each company sold, bought and was
owed in each week or month, and whether that period was fully covered — the rows every trend cell is
aggregated from.

Revenue is net sales: the subtotal (before tax) of the invoices silver counts (not deleted, void, cancelled
or another record's duplicate; a shop order synced to an invoice counts once, through the invoice) minus
that of counted credit notes, by the business date (`issued_on`). `revenue_usd` converts at each document's
date; `revenue_cc_usd` at the base year's average rate of its currency (constant currency: growth without
FX moves). A period is `complete` when the company was connected all of it and its extraction is fresh past
its end; a company-period with no documents is a real zero, not a gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.silver.fx import RATE
from jobs.silver.reconcile import counted
from schemas.canonical.derive import MONEY

Grain = Literal["week", "month"]
GRAINS: tuple[Grain, ...] = ("week", "month")
#: periods a year back (year-over-year growth compares period t with t − LAG)
YEAR_LAG = {"week": 52, "month": 12}
DSO_DAYS = 91  # receivables against the last quarter's sales
#: the periods of a quarter (DSO's sales window, the outlier test's trailing window)
QUARTER = {"week": 13, "month": 3}
#: `since` for a build of every period
EVERYTHING = date.min
OPENING = "decimal(38,6)"


def period(day: Column, grain: Grain) -> Column:
    """The first day of the ISO week (Monday) or month of a date."""
    return F.to_date(F.date_trunc(grain, day))


def shift(start: date, grain: Grain, periods: int) -> date:
    """The period `periods` after (before, when negative) the period starting `start` (EVERYTHING stays)."""
    if start == EVERYTHING:
        return start
    if grain == "week":
        return start + timedelta(weeks=periods)
    months = start.year * 12 + start.month - 1 + periods
    return date(months // 12, months % 12 + 1, 1)


def from_day(day: Column, since: date) -> Column:
    """`day` is `since` or later (always, for EVERYTHING)."""
    return F.lit(True) if since == EVERYTHING else day >= F.lit(since)


def period_end(start: Column, grain: Grain) -> Column:
    return F.date_sub(F.date_add(start, 7), 1) if grain == "week" else F.last_day(start)


@dataclass(frozen=True)
class Silver:
    """The silver tables the facts read."""

    companies: DataFrame
    invoices: DataFrame
    credit_notes: DataFrame
    purchase_orders: DataFrame
    payments: DataFrame
    customers: DataFrame
    fx_rates: DataFrame


def base_rates(fx_rates: DataFrame, base_year: int) -> DataFrame:
    """(currency, base_usd_per_unit): the average rate over `base_year`, or over all rates for a currency
    without fixings that year. Exact decimals, so sums of converted amounts do not depend on their order."""
    in_year = F.year("rate_date") == base_year
    average = F.coalesce(F.avg(F.when(in_year, F.col("usd_per_unit"))), F.avg("usd_per_unit"))
    return fx_rates.groupBy("currency").agg(average.cast(RATE).alias("base_usd_per_unit"))


def _sales(silver: Silver, rates: DataFrame) -> DataFrame:
    """Counted invoices (+) and credit notes (−), one row each: company, day, amounts, units, customer."""
    def signed(rows: DataFrame, sign: int) -> DataFrame:
        units = F.aggregate("lines", F.lit(0).cast(MONEY), lambda acc, line: (acc + line.quantity).cast(MONEY))
        return rows.where(counted()).join(F.broadcast(rates), "currency", "left").select(
            "company_id", "issued_on", "party_id", F.lit(sign > 0).alias("is_invoice"),
            (F.col("subtotal_usd") * sign).alias("revenue_usd"),
            (F.col("subtotal") * F.coalesce("base_usd_per_unit", F.when(F.col("currency") == "USD", F.lit(1).cast(RATE))) * sign)
            .alias("revenue_cc_usd"),
            (units * sign).alias("units"), (F.col("total_usd") * sign).alias("invoiced_usd"))

    return signed(silver.invoices, 1).unionByName(signed(silver.credit_notes, -1))


def _spans(companies: DataFrame, fresh_through: DataFrame, grain: Grain) -> DataFrame:
    """Every company × period from its onboarding to its churn or its freshness, whichever comes first,
    with whether the whole period was covered."""
    until = F.least(F.coalesce("churned_on", F.col("fresh_through")), F.col("fresh_through"))
    spans = companies.join(fresh_through, "company_id").where(F.col("onboarded_on") <= until)
    step = F.expr("INTERVAL 7 DAYS") if grain == "week" else F.expr("INTERVAL 1 MONTH")
    periods = spans.select(
        "company_id", "sector", "region", "onboarded_on", "churned_on", "fresh_through",
        F.explode(F.sequence(period(F.col("onboarded_on"), grain), period(until, grain), step)).alias("period"))
    end = period_end(F.col("period"), grain)
    complete = ((F.col("period") >= F.col("onboarded_on")) & (end <= F.coalesce("churned_on", end))
                & (end < F.col("fresh_through")))
    return periods.select("company_id", "sector", "region", "period", complete.alias("complete"),
                          F.datediff("period", "onboarded_on").alias("history_days"))


def company_periods(silver: Silver, fresh_through: DataFrame, grain: Grain, base_year: int, since: date = EVERYTHING,
                    opening: DataFrame | None = None) -> DataFrame:
    """One row per company and period of its span from period `since` on: revenue (USD, constant currency),
    orders, units, average order value, purchases, receivables and days sales outstanding, new customers,
    completeness, history. Receivables accumulate from `opening` (company_id, receivables_usd: the balance
    before the quarter ahead of `since`), so only that quarter's documents and later ones are read; a
    customer is new in the period of its first sale ever."""
    rates = base_rates(silver.fx_rates, base_year)
    window = shift(since, grain, 1 - QUARTER[grain])
    every_sale = _sales(silver, rates).withColumn("period", period(F.col("issued_on"), grain))
    sales = every_sale.where(from_day(F.col("issued_on"), window))
    masters = silver.customers.select(F.col("canonical_id").alias("party_id"), F.coalesce("master_customer_id", "canonical_id").alias("customer"))
    first_sale = (every_sale.where("is_invoice").join(masters, "party_id").groupBy("company_id", "customer")
                  .agg(F.min("period").alias("period")).groupBy("company_id", "period").agg(F.count(F.lit(1)).alias("new_customers")))
    sold = sales.groupBy("company_id", "period").agg(
        F.sum("revenue_usd").alias("revenue_usd"), F.sum("revenue_cc_usd").alias("revenue_cc_usd"),
        F.count_if("is_invoice").alias("orders"), F.sum("units").alias("units"), F.sum("invoiced_usd").alias("invoiced_usd"))
    bought = (silver.purchase_orders.where(counted() & from_day(F.col("issued_on"), window))
              .groupBy("company_id", period(F.col("issued_on"), grain).alias("period"))
              .agg(F.sum("subtotal_usd").alias("purchases_usd"), F.count(F.lit(1)).alias("purchase_orders")))
    paid = (silver.payments.where(~F.col("is_deleted") & F.col("duplicate_of").isNull() & from_day(F.to_date("paid_at"), window))
            .groupBy("company_id", period(F.to_date("paid_at"), grain).alias("period")).agg(F.sum("amount_usd").alias("paid_usd")))
    facts = (_spans(silver.companies, fresh_through, grain).where(from_day(F.col("period"), window))
             .join(sold, ["company_id", "period"], "left").join(bought, ["company_id", "period"], "left")
             .join(paid, ["company_id", "period"], "left").join(first_sale, ["company_id", "period"], "left"))
    # the carried balance back in exact decimals (a double holds a MONEY amount exactly enough to round-trip),
    # so carrying it gives the very receivables summing from the start does
    carried = F.col("receivables_usd").cast(OPENING).alias("opening_usd")
    facts = (facts.join(opening.select("company_id", carried), "company_id", "left") if opening is not None
             else facts.withColumn("opening_usd", F.lit(None).cast(OPENING)))
    zero = {c: 0 for c in ("revenue_usd", "revenue_cc_usd", "orders", "units", "invoiced_usd", "purchases_usd", "purchase_orders",
                           "paid_usd", "new_customers", "opening_usd")}
    facts = facts.fillna(zero)
    so_far = Window.partitionBy("company_id").orderBy("period").rowsBetween(Window.unboundedPreceding, Window.currentRow)
    last_quarter = Window.partitionBy("company_id").orderBy("period").rowsBetween(1 - QUARTER[grain], Window.currentRow)
    receivables = F.col("opening_usd") + F.sum("invoiced_usd").over(so_far) - F.sum("paid_usd").over(so_far)
    return facts.select(
        "company_id", "sector", "region", F.lit(grain).alias("grain"), "period",
        F.col("revenue_usd").cast("double").alias("revenue_usd"), F.col("revenue_cc_usd").cast("double").alias("revenue_cc_usd"),
        F.col("orders").cast("long").alias("orders"), F.col("units").cast("double").alias("units"),
        F.when(F.col("orders") > 0, F.col("revenue_usd") / F.col("orders")).cast("double").alias("average_order_usd"),
        F.col("purchases_usd").cast("double").alias("purchases_usd"), F.col("purchase_orders").cast("long").alias("purchase_orders"),
        receivables.cast("double").alias("receivables_usd"),
        F.when(F.sum("invoiced_usd").over(last_quarter) > 0,
               receivables / F.sum("invoiced_usd").over(last_quarter) * DSO_DAYS).cast("double").alias("dso_days"),
        F.lit(None).cast("double").alias("inventory_days"),
        F.col("new_customers").cast("long").alias("new_customers"),
        "complete", "history_days").where(from_day(F.col("period"), since))


def item_periods(silver: Silver, grain: Grain, since: date = EVERYTHING) -> DataFrame:
    """What each company sold of each item per period from period `since` on (counted invoices' lines, in the
    document's currency): company_id, period, item, currency, amount, quantity — the matched-item price
    index's input. An item is the line's product, else its SKU, else its description."""
    lines = silver.invoices.where(counted() & from_day(F.col("issued_on"), since)).select(
        "company_id", "currency", period(F.col("issued_on"), grain).alias("period"), F.explode("lines").alias("line"))
    item = F.coalesce(F.col("line.product_id"), F.concat(F.lit("sku:"), F.col("line.sku")), F.concat(F.lit("text:"), F.col("line.description")))
    return (lines.where(item.isNotNull() & (F.col("line.quantity") > 0) & (F.col("line.amount") > 0))
            .groupBy("company_id", "period", item.alias("item"), "currency")
            .agg(F.sum("line.amount").cast("double").alias("amount"), F.sum("line.quantity").cast("double").alias("quantity")))


def fresh_through(cursors: dict[tuple[str, str, str], datetime]) -> dict[str, date]:
    """A company's data is fresh up to (not including) the earliest cursor of its streams: a failed stream
    does not advance its cursor, so one stale stream holds the whole company back."""
    out: dict[str, date] = {}
    for (_, company, _), cursor in cursors.items():
        out[company] = min(cursor.date(), out.get(company, cursor.date()))
    return out
