"""Silver counts every sale once, against the sandbox's truth: revenue per company-week, shop orders
reconciled with the invoices synced from them (no sale counted twice), and the accounting checks."""

from __future__ import annotations

import csv
import gzip
from decimal import Decimal

import pytest
from pyspark.sql import functions as F

from jobs.silver.normalize import silver_uri
from jobs.silver.reconcile import company_month, counted, reconciliation_uri

pytestmark = pytest.mark.slow


def _table(spark, silver, entity):
    return spark.read.format("delta").load(silver_uri(silver.settings, entity))


def _silver_revenue(spark, silver) -> dict[tuple[str, str], Decimal]:
    """Net sales in USD per company and ISO week: counted invoices minus counted credit notes."""
    signed = [_table(spark, silver, entity).where(counted()).select("company_id", "issued_on", (F.col("subtotal_usd") * sign).alias("usd"))
              for entity, sign in (("invoice", 1), ("credit_note", -1))]
    weekly = (signed[0].unionByName(signed[1]).groupBy("company_id", F.to_date(F.date_trunc("week", "issued_on")).alias("week"))
              .agg(F.sum("usd").alias("usd")))
    return {(r["company_id"], r["week"].isoformat()): r["usd"] for r in weekly.collect()}


def test_given_the_sandbox_when_silver_is_built_then_revenue_per_company_week_is_within_half_a_percent_for_99_percent(spark, silver, truth):
    revenue = _silver_revenue(spark, silver)
    with gzip.open(truth / "company_week.csv.gz", "rt") as file:
        weeks = [(r["company_id"], r["week_start"], Decimal(r["revenue_usd"])) for r in csv.DictReader(file)]
    off = [(c, w, expected, revenue.get((c, w), Decimal(0))) for c, w, expected in weeks
           if abs(revenue.get((c, w), Decimal(0)) - expected) > max(Decimal("0.005") * abs(expected), Decimal("0.01"))]
    assert len(weeks) >= 90 and sum(expected != 0 for *_, expected in weeks) > 50
    assert len(off) <= 0.01 * len(weeks), f"{len(off)} of {len(weeks)} company-weeks off by more than 0.5%: {off[:5]}"


def _truth_pairs(landed) -> dict[tuple[str, str], str]:
    """(company, invoice number) → shop order number, for every sale that is both a live shop order and a
    live invoice (a sale is known by its numbers: a duplicate record repeats them under a new id)."""
    latest = {}
    for record in landed.versions():
        key = (record.system, record.company_id, record.entity, record.record_id)
        if key not in latest or record.version > latest[key].version:
            latest[key] = record
    live = {k: r for k, r in latest.items() if not (r.deleted or "duplicate_of" in r.truth or "poison" in r.truth
                                                     or r.body.get("status") in ("void", "cancelled"))}
    orders = {(k[1], r.body["number"]) for k, r in live.items() if k[0] == "shopify" and k[2] == "sales_order"}
    return {(k[1], r.body["number"]): r.body["reference"] for k, r in live.items()
            if k[2] == "invoice" and (k[1], r.body.get("reference")) in orders}


def test_given_shop_orders_and_their_invoices_when_reconciled_then_each_sale_is_linked_once_and_counted_once(spark, silver, landed):
    invoices = _table(spark, silver, "invoice").where(counted())
    orders = _table(spark, silver, "sales_order").where(counted()).select(F.col("canonical_id").alias("order_id"), F.col("number").alias("order"))
    linked = invoices.join(orders, invoices["reconciled_order_id"] == orders["order_id"])
    silver_pairs = {(r["company_id"], r["number"]): r["order"] for r in linked.collect()}
    truth_pairs = _truth_pairs(landed)
    counted_invoices = {(r["company_id"], r["number"]) for r in invoices.collect()}
    assert len(truth_pairs) > 50
    assert silver_pairs == {k: v for k, v in truth_pairs.items() if k in counted_invoices}
    assert linked.groupBy("order_id").count().where("count > 1").count() == 0  # no order behind two counted invoices: double counting 0
    table = spark.read.format("delta").load(reconciliation_uri(silver.settings))
    totals = table.agg(*[F.sum(c).alias(c) for c in ("matched", "orders", "orders_unmatched", "invoices_total_mismatch")]).first()
    assert totals["matched"] == len(silver_pairs) and totals["orders"] == totals["matched"] + totals["orders_unmatched"]
    assert totals["invoices_total_mismatch"] == 0  # the sandbox's books add up: total = lines + tax everywhere
    assert table.where(F.abs("receivables_gap_usd") > 0.05).count() == 0


def test_given_an_invoice_whose_total_is_not_lines_plus_tax_when_checked_then_its_company_month_counts_it(spark, silver):
    invoices = _table(spark, silver, "invoice").where(counted())
    victim = invoices.orderBy("canonical_id").first()
    broken = invoices.withColumn("total", F.when(F.col("canonical_id") == victim["canonical_id"], F.col("total") + 5).otherwise(F.col("total")))
    checked = company_month(_table(spark, silver, "sales_order"), broken, _table(spark, silver, "payment"))
    month = victim["issued_on"].replace(day=1)
    row = checked.where((F.col("company_id") == victim["company_id"]) & (F.col("month") == month)).first()
    assert row["invoices_total_mismatch"] == 1
    assert checked.agg(F.sum("invoices_total_mismatch")).first()[0] == 1
