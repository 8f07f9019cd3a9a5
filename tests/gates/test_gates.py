"""Great Expectations gates: each layer seeded with a violation of each critical rule is stopped with the rule
named, the offending rows leave the layer for the quarantine, and a warning alone does not stop anything."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError
from pyspark.sql import functions as F
from typer.testing import CliRunner

from jobs import pipeline
from jobs.bronze.ingest import bronze_uri
from jobs.cli import app
from jobs.gates.gate import docs_path, gate, results_uri
from jobs.gates.rules import Rule
from jobs.gates.suites import LAYERS, suites
from jobs.gold.disclosure import VALUES
from jobs.ops import quarantine
from jobs.settings import load_settings
from jobs.silver.normalize import silver_uri


def _rules(settings, layer, table) -> dict[str, Rule]:
    (suite,) = [s for s in suites(settings, layer) if s.table == table]
    return {rule.name: rule for rule in suite.rules}


def test_given_the_canonical_models_and_conf_when_suites_are_built_then_each_table_has_its_generated_and_hand_rules(tmp_path):
    settings = load_settings("local", warehouse=str(tmp_path))
    invoice = _rules(settings, "silver", "silver/invoice")
    assert invoice["status_known"].in_set == ["open", "fulfilled", "paid", "partially_paid", "received", "cancelled", "void"]
    assert invoice["currency_format"].matches == "^[A-Z]{3}$"
    assert invoice["canonical_id_unique"].unique == ["canonical_id"]
    assert "EUR" in invoice["currency_iso_4217"].values() and "ZZZ" not in invoice["currency_iso_4217"].values()
    assert "total_is_lines_plus_tax" in invoice and "total_is_lines_plus_tax" not in _rules(settings, "silver", "silver/payment")
    assert _rules(settings, "gold", "gold/trend_sector_region_month")["published_over_k"].between == (settings.gold.min_contributors, None)
    assert all(suites(settings, layer) for layer in LAYERS)


@pytest.mark.parametrize(("fields", "message"), [
    ({"column": "x", "not_null": True, "matches": "a"}, "exactly one of"),
    ({"column": "x", "newest_at_least_hours": 1}, "can only be a warning"),
    ({"not_null": True}, "give `column` or `derive`"),
])
def test_given_a_malformed_rule_when_loaded_then_the_error_names_the_rule_and_the_fix(fields, message):
    with pytest.raises(ValidationError, match=message):
        Rule(name="r", severity="critical", why="w", **fields)


def _append(frame, uri):
    frame.write.format("delta").mode("append").save(uri)


def _quarantined(spark, settings) -> dict[str, str]:
    rows = quarantine.table(spark, settings).toDF().where(F.col("kind") == "expectation").collect()
    return {row["record_key"]: row["rule"] for row in rows}


@pytest.fixture(scope="module")
def gated_copy(spark, silver, tmp_path_factory):
    """A copy of the silver run's warehouse whose bronze and silver passed their gates once (one test seeds
    bronze, the other silver)."""
    folder = tmp_path_factory.mktemp("gated") / "warehouse"
    shutil.copytree(silver.folder, folder)
    settings = load_settings("local", warehouse=str(folder))
    for layer in ("bronze", "silver"):
        outcome = gate(spark, settings, layer)
        assert outcome.passed, outcome.line()  # the sandbox's own data breaks no critical rule
        assert outcome.rows
    return settings


@pytest.mark.slow
def test_given_bronze_seeded_with_each_critical_violation_when_gated_then_it_stops_naming_each_rule_and_quarantines_the_rows(spark, gated_copy):
    settings = gated_copy
    uri = bronze_uri(settings, "shopify")
    clean = spark.read.format("delta").load(uri)
    before = clean.count()
    repeated, *samples = [r.asDict() for r in clean.orderBy("record_key").limit(4).collect()]
    breaks = {
        "payload_present": {"payload": None},
        "updated_not_in_future": {"source_updated_at": samples[1]["source_updated_at"] + timedelta(days=800)},
        "record_key_present": {"record_key": None},
    }
    seeded = [{**sample, "record_key": f"{sample['record_key']}-{rule}", **change} for sample, (rule, change) in zip(samples, breaks.items())]
    _append(spark.createDataFrame([repeated, *seeded], clean.schema), uri)

    outcome = gate(spark, settings, "bronze")

    assert not outcome.passed and "FAILED" in outcome.line()
    assert {(b.table, b.rule) for b in outcome.critical} == {("bronze/shopify", rule) for rule in [*breaks, "content_key_unique"]}
    after = spark.read.format("delta").load(uri)
    assert after.count() == before - 1  # the repeated record left with its repeat, the seeded rows left
    assert after.where(F.col("record_key").isNull() | F.col("record_key").isin([r["record_key"] for r in seeded if r["record_key"]])).count() == 0
    held = _quarantined(spark, settings)
    assert held[repeated["record_key"]] == "content_key_unique"
    assert held[f"{samples[0]['record_key']}-payload_present"] == "payload_present"
    assert held[f"{samples[1]['record_key']}-updated_not_in_future"] == "updated_not_in_future"
    assert held[None] == "record_key_present"
    assert gate(spark, settings, "bronze").passed  # the offenders are out: the next gate finds nothing to stop


@pytest.mark.slow
def test_given_silver_seeded_with_each_critical_violation_when_gated_then_it_stops_and_the_rows_wait_in_quarantine_for_replay(spark, gated_copy):
    settings = gated_copy
    uri = silver_uri(settings, "invoice")
    clean = spark.read.format("delta").load(uri)
    before = clean.count()
    repeated, *samples = [r.asDict() for r in clean.where("size(lines) > 0 AND NOT is_deleted").orderBy("canonical_id").limit(7).collect()]
    assert len(samples) == 6
    breaks = {
        "currency_iso_4217": {"currency": "ZZZ"},
        "currency_format": {"currency": "usd"},
        "status_known": {"status": "lost"},
        "amount_usd_sane": {"total_usd": Decimal("500000000")},
        "issued_not_in_future": {"issued_on": date.today() + timedelta(days=30)},
    }
    seeded = [{**sample, **change, "canonical_id": f"seeded-{rule}"} for sample, (rule, change) in zip(samples, breaks.items())]
    short = {**samples[5], "total": samples[5]["total"] + 5, "canonical_id": "seeded-short"}  # breaks a warning only
    _append(spark.createDataFrame([repeated, *seeded, short], clean.schema), uri)
    payments = spark.read.format("delta").load(silver_uri(settings, "payment"))
    paid = [r.asDict() for r in payments.where("NOT is_deleted").orderBy("canonical_id").limit(2).collect()]
    payment_breaks = {"payment_usd_sane": {"amount_usd": Decimal("500000000")}, "paid_not_in_future": {"paid_at": datetime.now() + timedelta(days=30)}}
    _append(spark.createDataFrame([{**payment, **change, "canonical_id": f"seeded-{rule}"} for payment, (rule, change) in zip(paid, payment_breaks.items())],
                                  payments.schema), silver_uri(settings, "payment"))

    outcome = gate(spark, settings, "silver")

    assert {(b.table, b.rule) for b in outcome.critical} == {
        *(("silver/invoice", rule) for rule in [*breaks, "canonical_id_unique"]), *(("silver/payment", rule) for rule in payment_breaks)}
    assert ("silver/invoice", "total_is_lines_plus_tax", "warning", 1) in {(b.table, b.rule, b.severity, b.unexpected) for b in outcome.breaches}
    after = spark.read.format("delta").load(uri)
    assert [r["canonical_id"] for r in after.where(F.col("canonical_id").startswith("seeded-")).collect()] == ["seeded-short"]
    assert spark.read.format("delta").load(silver_uri(settings, "payment")).where(F.col("canonical_id").startswith("seeded-")).count() == 0
    assert after.count() == before  # the repeated invoice left with its repeat; the short one stayed
    held = quarantine.table(spark, settings).toDF().where((F.col("kind") == "expectation") & (F.col("layer") == "silver")).collect()
    # one row per source record version, named by the first rule it broke ("usd" breaks the format and ISO 4217)
    assert sorted(r["rule"] for r in held) == sorted([*breaks, "canonical_id_unique", *payment_breaks])
    assert all(r["payload_ref"].startswith("landing/") and r["stream"] for r in held)  # each points at its source record, for replay
    results = spark.read.format("delta").load(results_uri(settings)).where((F.col("run_id") == outcome.run_id) & (F.col("table") == "silver/invoice"))
    assert {r["rule"] for r in results.where(~F.col("success")).collect()} == {*breaks, "canonical_id_unique", "total_is_lines_plus_tax"}
    assert results.count() == len(_rules(settings, "silver", "silver/invoice"))  # every rule of the suite reported: here all broke


@pytest.mark.slow
def test_given_gold_cells_when_gated_then_a_cell_under_k_or_not_finite_stops_it_and_a_large_jump_only_warns(spark, tmp_path):
    settings = load_settings("local", warehouse=str(tmp_path))
    (week, _) = suites(settings, "gold")
    values = [f"CAST(0.01 AS DOUBLE) AS {v}" for v in VALUES if v != "growth_usd"]

    def cells(*rows: tuple[str, int, str | None, float]):
        frame = spark.createDataFrame(
            [("retail", region, "week", date(2026, 1, 5), "v1", suppressed, contributors, growth) for region, contributors, suppressed, growth in rows],
            "sector string, region string, grain string, period date, vintage string, suppressed string, contributors int, growth_usd double")
        return frame.selectExpr("*", *values)

    _append(cells(("EU", 9, None, 0.02), ("US", 9, None, 1.7), ("APAC", 2, "fewer than 5 contributors", None)), week.uri)
    warned = gate(spark, settings, "gold")
    assert warned.passed and [(b.rule, b.severity, b.unexpected) for b in warned.breaches] == [("growth_jump", "warning", 1)]
    assert spark.read.format("delta").load(week.uri).count() == 3

    _append(cells(("LATAM", 3, None, 0.01), ("MEA", 8, None, float("nan"))), week.uri)
    result = CliRunner().invoke(app, ["gate", "gold", "--warehouse", str(tmp_path)])

    assert result.exit_code == 1, result.output
    assert "published_over_k" in result.output and "values_finite" in result.output
    assert {r["region"] for r in spark.read.format("delta").load(week.uri).collect()} == {"EU", "US", "APAC"}
    assert set(_quarantined(spark, settings).values()) == {"published_over_k", "values_finite"}
    assert "Data Docs:" in result.output and docs_path(settings, "gold") == str(tmp_path / "ops" / "data_docs" / "gold" / "index.html")
    assert "gold.trend_sector_region_week" in (tmp_path / "ops" / "data_docs" / "gold" / "index.html").read_text()

    _append(cells(("LATAM", 2, None, 0.01)), week.uri)
    reached = []
    with pytest.raises(pipeline.StageFailed, match="stage gate-gold failed: .*published_over_k"):
        for outcome in pipeline.run(pipeline.RunContext(settings), pipeline.select("gate-gold", "index")):
            reached.append(outcome.stage)
    assert reached == []  # the index stage never ran
