"""Every sale counted once, and the checks that show it.

- Duplicates: a document stored twice in one system (same company and number, new id), or a payment stored
  twice (same invoice, instant and amount), is marked `duplicate_of` the record of its group that speaks
  for it — a deleted or void one first (a sale voided in the books is not revived by its copy), else the
  latest updated — so it is counted once, through that record.
- Shop orders ↔ invoices: a company selling through a shop and keeping books elsewhere reports each sale
  twice, as a shop order and as the invoice synced from it (its `reference` is the order's number). The
  invoice gets `reconciled_order_id`; revenue counts invoices, never the orders behind them.
- `silver/reconciliation_company_month`: per company and month, orders and invoices matched and unmatched
  each side with their amount difference (pairs by the order's month), and the accounting checks: invoices
  whose total is not lines + tax, and the receivables gap (invoiced − paid − open balance, over invoices
  whose source reports both a balance and payments, in USD at the invoice's rate).
"""

from __future__ import annotations

from functools import reduce

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jobs.settings import Settings
from jobs.silver.normalize import silver_uri
from jobs.tables import ensure_table, exists, first_per_key, set_where_differs, sync
from schemas.canonical.derive import MONEY

#: what makes two records of an entity (in one company and system) the same record
DUPLICATE_KEYS = {
    "sales_order": ("number",), "invoice": ("number",), "credit_note": ("number",), "purchase_order": ("number",),
    "payment": ("invoice_id", "paid_at", "amount"),
}
SHOP_CHANNEL = "shop"
TOLERANCE = 0.01  # money rounding: a cent


def reconciliation_uri(settings: Settings) -> str:
    return settings.table_uri("silver", "reconciliation_company_month")


def counted() -> Column:
    """The documents a total may add up: not deleted, not void or cancelled, not another's duplicate."""
    return ~F.col("is_deleted") & ~F.col("status").isin("void", "cancelled") & F.col("duplicate_of").isNull()


def duplicates(rows: DataFrame, key: tuple[str, ...]) -> DataFrame:
    """(canonical_id, duplicate_of) for every row of one entity: null, or the id of the row its group's
    record speaks through. Rows missing part of the key are never duplicates."""
    group = Window.partitionBy("company_id", "source_system", *key)
    dead = F.col("status").isin("void", "cancelled") if "status" in rows.columns else F.lit(False)
    speaks_first = group.orderBy(F.col("is_deleted").desc(), dead.desc(), F.col("source_updated_at").desc_nulls_last(), F.col("canonical_id"))
    first = F.first("canonical_id").over(speaks_first.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing))
    keyed = reduce(lambda a, b: a & b, [F.col(k).isNotNull() for k in key])
    return rows.select("canonical_id", F.when(keyed & (first != F.col("canonical_id")), first).cast("string").alias("duplicate_of"))


def order_links(orders: DataFrame, invoices: DataFrame) -> DataFrame:
    """(canonical_id of the invoice, reconciled_order_id) for every invoice: the counted shop order of its
    company whose number is the invoice's reference, if any."""
    shop = (orders.where((F.col("channel") == SHOP_CHANNEL) & counted())
            .select("company_id", F.col("number").alias("reference"), F.col("canonical_id").alias("order_id")))
    shop = first_per_key(shop, ["company_id", "reference"], "order_id")
    return (invoices.join(shop, ["company_id", "reference"], "left")
            .select("canonical_id", F.col("order_id").cast("string").alias("reconciled_order_id")))


def _month(column: str) -> Column:
    return F.trunc(F.col(column), "month").alias("month")


def _sum(value: Column, name: str) -> Column:
    return F.coalesce(F.sum(value), F.lit(0)).cast(MONEY).alias(name)


def company_month(orders: DataFrame, invoices: DataFrame, payments: DataFrame) -> DataFrame:
    """The reconciliation and accounting checks per company and month (of the document's issue date)."""
    shop = orders.where((F.col("channel") == SHOP_CHANNEL) & counted())
    books = invoices.where(counted())
    synced_companies = shop.select("company_id").distinct()
    matched = books.alias("i").join(shop.alias("o"), F.col("i.reconciled_order_id") == F.col("o.canonical_id"))
    order_side = (shop.alias("o").join(books.select("reconciled_order_id").where(F.col("reconciled_order_id").isNotNull()).distinct().alias("m"),
                                       F.col("o.canonical_id") == F.col("m.reconciled_order_id"), "left")
                  .groupBy("o.company_id", _month("o.issued_on"))
                  .agg(F.count(F.lit(1)).alias("orders"), F.count_if(F.col("m.reconciled_order_id").isNull()).alias("orders_unmatched")))
    pair_side = (matched.groupBy("i.company_id", _month("o.issued_on"))
                 .agg(F.count(F.lit(1)).alias("matched"), _sum(F.col("o.subtotal_usd"), "order_subtotal_usd"),
                      _sum(F.col("i.subtotal_usd"), "invoice_subtotal_usd"),
                      _sum(F.abs(F.col("o.subtotal_usd") - F.col("i.subtotal_usd")), "amount_difference_usd")))
    live = payments.where(~F.col("is_deleted") & F.col("duplicate_of").isNull())
    # a payment against a duplicate record pays the sale its group counts as
    speaks_for = invoices.select(F.col("canonical_id").alias("invoice_id"), F.coalesce("duplicate_of", "canonical_id").alias("counted_id"))
    paid = live.join(speaks_for, "invoice_id").groupBy(F.col("counted_id").alias("invoice_id")).agg(F.sum("amount").alias("paid"))
    # the receivables check needs both sides: a balance on the invoice and the source's payments
    with_payments = live.select("company_id", "source_system").distinct().withColumn("_paid_here", F.lit(True))
    lines_total = F.aggregate("lines", F.lit(0).cast(MONEY), lambda acc, line: (acc + line.amount).cast(MONEY))
    invoice_side = (books.join(paid, books["canonical_id"] == paid["invoice_id"], "left")
                    .join(with_payments, ["company_id", "source_system"], "left")
                    .join(synced_companies.withColumn("_synced", F.lit(True)), "company_id", "left")
                    .groupBy("company_id", _month("issued_on"))
                    .agg(F.count(F.lit(1)).alias("invoices"),
                         F.count_if(F.col("_synced") & F.col("reconciled_order_id").isNull()).alias("invoices_unmatched"),
                         F.count_if(F.abs(F.col("total") - (lines_total + F.col("tax_total"))) > TOLERANCE).alias("invoices_total_mismatch"),
                         _sum(F.col("total_usd"), "invoiced_usd"),
                         _sum(F.coalesce("paid", F.lit(0)) * F.col("fx_rate_usd"), "paid_usd"),
                         _sum(F.col("balance") * F.col("fx_rate_usd"), "open_balance_usd"),
                         _sum(F.when(F.col("_paid_here"), (F.col("total") - F.coalesce("paid", F.lit(0)) - F.col("balance")) * F.col("fx_rate_usd")),
                              "receivables_gap_usd")))
    out = invoice_side.join(order_side, ["company_id", "month"], "full").join(pair_side, ["company_id", "month"], "left")
    zero = {c: 0 for c in ("invoices", "invoices_unmatched", "invoices_total_mismatch", "orders", "orders_unmatched", "matched")}
    money = ("order_subtotal_usd", "invoice_subtotal_usd", "amount_difference_usd", "invoiced_usd", "paid_usd", "open_balance_usd",
             "receivables_gap_usd")
    out = out.fillna(zero).select(
        "company_id", "month", *[F.col(c).cast("long").alias(c) for c in ("orders", "invoices", "matched", "orders_unmatched", "invoices_unmatched")],
        *[F.coalesce(F.col(c), F.lit(0).cast(MONEY)).alias(c) for c in money[:3]],
        F.when(F.col("orders") > 0, F.round(F.col("matched") / F.col("orders"), 4)).alias("order_match_rate"),
        F.col("invoices_total_mismatch").cast("long").alias("invoices_total_mismatch"),
        *[F.coalesce(F.col(c), F.lit(0).cast(MONEY)).alias(c) for c in money[3:]],
    )
    return out


def reconcile(spark: SparkSession, settings: Settings) -> int:
    """Mark duplicates and synced invoices in silver and bring the reconciliation table in line; returns its rows."""
    uris = {e: silver_uri(settings, e) for e in DUPLICATE_KEYS}
    for entity, key in DUPLICATE_KEYS.items():
        if exists(spark, uris[entity]):
            set_where_differs(spark, uris[entity], duplicates(spark.read.format("delta").load(uris[entity]), key), "duplicate_of")
    if not all(exists(spark, uris[e]) for e in ("sales_order", "invoice", "payment")):
        return 0
    orders, invoices = (spark.read.format("delta").load(uris[e]) for e in ("sales_order", "invoice"))
    set_where_differs(spark, uris["invoice"], order_links(orders, invoices), "reconciled_order_id")
    invoices = spark.read.format("delta").load(uris["invoice"])
    table = company_month(orders, invoices, spark.read.format("delta").load(uris["payment"]))
    sync(ensure_table(spark, reconciliation_uri(settings), table.schema), table, ["company_id", "month"])
    return spark.read.format("delta").load(reconciliation_uri(settings)).count()
