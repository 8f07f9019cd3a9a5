"""Gold on real Spark + Delta over the silver of the landed sandbox: company-week facts match the truth,
a cell of one company is never published, building again changes nothing, and a late edit recomputes the
periods from its day on, publishing a new vintage of the cells it touches (the same a full rebuild gives)
while the earlier one stays visible; each publication records data health, and one number is traced back to
its companies, documents and extraction runs."""

from __future__ import annotations

import csv
import gzip
import shutil
from datetime import timedelta

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from jobs.bronze.ingest import ledger_uri
from jobs.gold.build import build, current, facts_uri, health_uri, publication_uri, trend_uri
from jobs.gold.lineage import LineageError, lineage
from jobs.ops import quarantine
from jobs.settings import GoldSettings, load_settings
from jobs.silver.normalize import silver_uri
from tests.warehouse_checks import checksums

pytestmark = pytest.mark.slow

#: every sandbox cell of the small landed sandbox holds one company: publish them all to test the mechanics
OPEN = GoldSettings(min_contributors=1, max_share=1.0)


@pytest.fixture(scope="module")
def gold(spark, silver, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gold")
    shutil.copytree(silver.folder, folder, dirs_exist_ok=True)
    settings = load_settings("local", warehouse=str(folder)).model_copy(update={"gold": OPEN})
    return folder, settings, build(spark, settings)


def test_given_silver_when_gold_is_built_then_company_weeks_match_the_truth(spark, gold, truth):
    _, settings, summary = gold
    facts = spark.read.format("delta").load(facts_uri(settings)).where(F.col("grain") == "week")
    built = {(r["company_id"], r["period"].isoformat()): r for r in facts.collect()}
    with gzip.open(truth / "company_week.csv.gz", "rt") as file:
        weeks = list(csv.DictReader(file))
    assert summary.company_periods["week"] == len(built) and len(weeks) >= 90
    off = [w for w in weeks if abs(built[(w["company_id"], w["week_start"])]["revenue_usd"] - float(w["revenue_usd"]))
           > max(0.005 * abs(float(w["revenue_usd"])), 0.01)]
    assert len(off) <= 0.01 * len(weeks), off[:5]
    assert all(built[(w["company_id"], w["week_start"])]["complete"] == (w["complete"] == "1") for w in weeks)
    assert all(built[(w["company_id"], w["week_start"])]["orders"] == int(w["orders"]) for w in weeks if w not in off)


def test_given_cells_of_one_company_when_built_with_the_default_rules_then_no_value_is_published(spark, silver, tmp_path):
    shutil.copytree(silver.folder, tmp_path, dirs_exist_ok=True)
    settings = load_settings("local", warehouse=str(tmp_path))  # k = 5, max share 50%
    build(spark, settings)
    cells = [c for grain in ("week", "month") for c in spark.read.format("delta").load(trend_uri(settings, grain)).collect()]
    assert cells and all(c["suppressed"] == "fewer than 5 contributors" for c in cells if c["contributors"] is not None)
    for cell in cells:  # every row of both tables, every vintage
        values = [cell[c] for c in ("growth_usd", "growth_cc", "yoy_cc", "revenue_index_cc", "coverage", "average_order_usd")]
        assert (cell["contributors"] or 0) >= 5 or all(v is None for v in values), cell


def test_given_a_built_gold_when_built_again_then_no_table_changes(spark, gold):
    folder, settings, _ = gold
    before = checksums(spark, folder)
    again = build(spark, settings)
    assert again.since is None and again.vintage is None and not again.grains  # nothing changed in silver: nothing recomputed
    assert checksums(spark, folder) == before


def test_given_a_late_edit_in_silver_when_built_then_its_periods_are_recomputed_and_a_new_vintage_keeps_the_old_one(spark, gold, tmp_path):
    folder, _, first = gold
    shutil.copytree(folder, tmp_path, dirs_exist_ok=True)
    settings = load_settings("local", warehouse=str(tmp_path)).model_copy(update={"gold": OPEN})
    invoices = DeltaTable.forPath(spark, silver_uri(settings, "invoice"))
    counted_later = ~F.col("is_deleted") & (F.col("status") != "void") & F.col("duplicate_of").isNull() & (F.col("issued_on") >= "2026-01-19")
    edited = invoices.toDF().where(counted_later).orderBy("canonical_id").first()  # a week with one before it: its growth changes
    invoices.update(F.col("canonical_id") == edited["canonical_id"],
                    {"subtotal": F.col("subtotal") * 3, "subtotal_usd": F.col("subtotal_usd") * 3})
    revised = build(spark, settings)
    assert revised.vintage is not None and revised.grains["week"].revised >= 1
    assert revised.since == edited["issued_on"]  # only the periods from the edited day on were recomputed
    assert 0 < revised.company_periods["week"] < first.company_periods["week"]
    week = F.to_date(F.date_trunc("week", F.lit(edited["issued_on"])))
    company = spark.read.format("delta").load(facts_uri(settings)).where(F.col("company_id") == edited["company_id"]).first()
    cell = (F.col("sector") == company["sector"]) & (F.col("region") == company["region"]) & (F.col("period") == week)
    history = spark.read.format("delta").load(trend_uri(settings, "week")).where(cell).orderBy("vintage").collect()
    assert [h["vintage"] for h in history] == [first.vintage, revised.vintage]
    assert history[1]["growth_cc"] != history[0]["growth_cc"]
    latest = current(spark.read.format("delta").load(trend_uri(settings, "week"))).where(cell).first()
    assert latest["vintage"] == revised.vintage
    publications = spark.read.format("delta").load(publication_uri(settings)).where(F.col("grain") == "week").orderBy("vintage").collect()
    assert [p["vintage"] for p in publications] == [first.vintage, revised.vintage]
    assert publications[1]["read_versions"]["silver/invoice"] > publications[0]["read_versions"]["silver/invoice"]
    incremental = checksums(spark, tmp_path)
    assert build(spark, settings, full=True).vintage is None  # every period recomputed: the same cells as the daily run's
    assert checksums(spark, tmp_path) == incremental


def test_given_a_publication_when_built_then_data_health_has_each_systems_trust_figures(spark, gold):
    _, settings, summary = gold
    health = {r["system"]: r for r in spark.read.format("delta").load(health_uri(settings)).where(F.col("vintage") == summary.vintage).collect()}
    landed = {r["system"] for r in spark.read.format("delta").load(ledger_uri(settings)).select("system").distinct().collect()}
    assert len(landed) >= 6 and landed <= set(health)
    assert all(h["lineage_coverage"] == 1.0 for s, h in health.items() if h["lineage_coverage"] is not None)
    assert sum(h["contract_violation_rate"] or 0 for h in health.values()) > 0  # the sandbox's 1% poison
    assert any((h["duplicate_rate"] or 0) > 0 for h in health.values())
    waiting = quarantine.table(spark, settings).toDF().where(F.col("status").isin("open", "approved")).groupBy("system").count().collect()
    assert {r["system"]: r["count"] for r in waiting} == {s: h["quarantine_depth"] for s, h in health.items() if h["quarantine_depth"]}
    assert health["quickbooks"]["reconciliation_match_rate"] is None or 0 <= health["quickbooks"]["reconciliation_match_rate"] <= 1


def test_given_a_published_cell_when_traced_then_its_companies_documents_and_runs_are_named(spark, gold):
    _, settings, summary = gold
    cell = (current(spark.read.format("delta").load(trend_uri(settings, "week")))
            .where(F.col("suppressed").isNull() & (F.col("contributors") >= 1)).orderBy("sector", "region", "period").first())
    found = lineage(spark, settings, "week", cell["sector"], cell["region"], cell["period"])
    assert found["publication"]["vintage"] == summary.vintage and len(found["companies"]) == cell["contributors"]
    assert all(not c.startswith("c0") for c in found["companies"])  # tokens, never the ids
    assert found["documents"] > 0 and found["extract_runs"] and found["sample"]
    invoices = spark.read.format("delta").load(silver_uri(settings, "invoice"))
    sampled = found["sample"][0]
    assert invoices.where((F.col("source_id") == sampled["source_id"]) & (F.col("bronze_record_key") == sampled["bronze_record_key"])).count() >= 1 \
        or sampled["entity"] == "credit_note"
    with pytest.raises(LineageError, match="Monday"):
        lineage(spark, settings, "week", cell["sector"], cell["region"], cell["period"] + timedelta(days=1))
