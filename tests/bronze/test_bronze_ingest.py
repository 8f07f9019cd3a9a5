"""Bronze ingest on real Spark + Delta over a landed sandbox: exactly once (rerun, replay, kill -9), poison
records quarantined naming their field and replayed once after approval, drift recorded or quarantined
and reviewable, and no person data in clear text."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys

import orjson
import pytest
from pyspark.sql import functions as F
from typer.testing import CliRunner

from jobs.bronze.ingest import bronze_uri, drift_uri, ingest, ledger_uri, replay
from jobs.cli import app
from jobs.ops import quarantine, review
from jobs.ops.quarantine import Selection
from jobs.settings import ROOT
from schemas.contracts import ContractStore
from tests.warehouse_checks import checksums

pytestmark = pytest.mark.slow

SYSTEMS = ("shopify", "quickbooks", "netsuite", "odoo", "xero", "businesscentral", "csv", "x12")


def _bronze(spark, settings):
    frames = [spark.read.format("delta").load(bronze_uri(settings, s)) for s in SYSTEMS
              if os.path.isdir(bronze_uri(settings, s))]
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    return union


def test_given_landed_runs_when_ingested_then_every_record_is_admitted_or_quarantined(spark, ingested):
    settings, summary = ingested.settings, ingested.summary
    ledger = spark.read.format("delta").load(ledger_uri(settings))
    totals = ledger.agg(F.sum("landed").alias("landed"), F.sum("admitted").alias("admitted"), F.sum("quarantined").alias("quarantined")).first()
    assert summary.runs == ledger.count() > 100
    assert totals["landed"] == totals["admitted"] + totals["quarantined"] == summary.landed
    bronze = _bronze(spark, settings)
    # Exactly once by content: no record version twice, and every admitted one carries its lineage.
    assert bronze.count() == bronze.select("stream", "company_id", "record_key", "payload_sha256").distinct().count() == summary.written.admitted
    assert bronze.where(F.col("landing_file").isNull() | F.col("contract_version").isNull() | F.col("shape_fingerprint").isNull()).count() == 0
    assert summary.written.quarantined == quarantine.table(spark, settings).toDF().count() > 0


def test_given_an_ingested_warehouse_when_ingested_again_or_replayed_then_no_table_changes(spark, ingested, landed, tmp_path):
    folder = tmp_path / "again"
    settings = landed.warehouse(folder)
    ingest(spark, settings)
    before = checksums(spark, folder)
    assert ingest(spark, settings).runs == 0
    replay(spark, settings, Selection())
    replay(spark, settings, Selection())
    assert checksums(spark, folder) == before
    assert checksums(spark, ingested.folder) == before  # and a second warehouse from the same landing is identical


def test_given_a_kill_9_mid_ingest_when_rerun_then_tables_equal_a_clean_run(spark, ingested, landed, tmp_path):
    clean = checksums(spark, ingested.folder)
    folder = tmp_path / "killed"
    landed.warehouse(folder)
    command = [sys.executable, str(ROOT / "jobs" / "bronze_ingest.py"), "--warehouse", str(folder), "--no-gate"]  # the ingest alone
    seed = random.randrange(10**6)
    delay = random.Random(seed).uniform(8.0, 40.0)  # JVM start, listing, deciding, the ~12 table commits
    job = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        job.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)
        job.wait()
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert checksums(spark, folder) == clean, f"killed after {delay:.1f}s (seed {seed})"


def _landed_key(record) -> str:
    """The key the connector lands a record under: its id, but a CSV invoice's number (connectors.csv_drop)."""
    return record.body["number"] if (record.system, record.entity) == ("csv", "invoice") else record.record_id


def _poisoned(landed) -> dict[tuple[str, str], str]:
    """(system, landed key) → the generic field the sandbox made impossible."""
    return {(r.system, _landed_key(r)): r.truth["poison"] for r in landed.versions() if "poison" in r.truth}


def _quarantined_line(settings, rows, system: str, header_id: str):
    """The quarantined line of a document whose lines are records of their own (Odoo's *.line streams)."""
    for row in rows:
        if row["system"] == system and ".line" in row["stream"]:
            line = review.show_payload(settings, row["payload_ref"])["record"]
            parent = line.get("order_id") or line.get("move_id")
            if isinstance(parent, list) and str(parent[0]) == header_id:
                return row
    return None


def test_given_poison_records_when_ingested_then_each_is_quarantined_naming_its_field_and_replays_once_after_approval(spark, ingested, landed, tmp_path):
    folder = tmp_path / "poison"
    settings = ingested.copy(folder)
    poisoned = _poisoned(landed)
    assert len(poisoned) >= 10
    rows = quarantine.table(spark, settings).toDF().collect()
    by_key = {(r["system"], r["record_key"]): r for r in rows}
    for (system, record_id), field in poisoned.items():
        if field == "row":  # the file drop broke the row itself: the connector could not even read its key
            raw = [r for r in rows if r["system"] == system and r["kind"] == "parse"
                   and record_id in orjson.dumps(review.show_payload(settings, r["payload_ref"])).decode()]
            assert raw, f"{system} {record_id}: broken row not quarantined"
            continue
        found = by_key.get((system, record_id)) or _quarantined_line(settings, rows, system, record_id)
        assert found is not None, f"{system} {record_id} (poisoned {field}) was not quarantined"
        assert found["kind"] in ("contract", "drift") and ":" in found["rule"], found
        assert found["rule"].split(":")[1] in found["reason"]  # the reason names the field
    content = ["system", "stream", "record_key", "payload_sha256"]
    admitted = {tuple(r) for r in _bronze(spark, settings).select(*content).collect()}
    assert not [r for r in rows if tuple(r[c] for c in content) in admitted]  # a rejected version is not also in bronze

    approve = CliRunner().invoke(app, ["review", "approve", "--kind", "contract", "--reason", "values confirmed with the company", "--by", "ops@test", "--warehouse", str(folder)])
    assert approve.exit_code == 0, approve.output
    replay(spark, settings, Selection())
    bronze = _bronze(spark, settings)
    contract_rows = [r for r in rows if r["kind"] == "contract"]
    for row in contract_rows:
        assert bronze.where((F.col("system") == row["system"]) & (F.col("record_key") == row["record_key"])
                            & (F.col("payload_sha256") == row["payload_sha256"])).count() == 1
    assert bronze.where(F.col("review_decision").isNotNull()).count() == len(contract_rows)
    after = checksums(spark, folder)
    replay(spark, settings, Selection())
    assert checksums(spark, folder) == after  # replaying twice changes nothing
    decisions = review.decisions(spark, settings).toDF()
    assert decisions.where((F.col("decided_by") == "ops@test") & (F.col("reason") == "values confirmed with the company")).count() == len(contract_rows)


def test_given_the_drift_day_when_ingested_then_additive_passes_breaking_is_reviewable_and_approval_brings_it_in(spark, ingested, landed, tmp_path):
    folder = tmp_path / "drift"
    settings = ingested.copy(folder)
    drift = spark.read.format("delta").load(drift_uri(settings))
    assert drift.where((F.col("system") == "quickbooks") & (F.col("path") == "ProjectRef") & (F.col("action") == "passed")).count() > 0
    retyped = quarantine.table(spark, settings).toDF().where((F.col("kind") == "drift") & (F.col("rule") == "retyped:TotalAmt:number->string"))
    waiting = retyped.count()
    assert waiting > 0
    items = review.items(spark, settings).toDF().where(F.col("subject") == "retyped:TotalAmt:number->string").collect()
    assert len(items) == 1 and items[0]["status"] == "open"

    shown = CliRunner().invoke(app, ["review", "show", items[0]["review_id"], "--warehouse", str(folder)])
    assert shown.exit_code == 0 and "TotalAmt" in shown.output
    approved = CliRunner().invoke(app, ["review", "approve", items[0]["review_id"], "--reason", "QuickBooks now sends amounts as strings", "--warehouse", str(folder)])
    assert approved.exit_code == 0, approved.output
    from jobs.storage import warehouse_filesystem

    contract = ContractStore(approved=warehouse_filesystem(settings)).latest("quickbooks", items[0]["stream"])
    assert contract.version == items[0]["contract_version"] + 1
    replay(spark, settings, Selection(kind="drift"))
    admitted = _bronze(spark, settings).where((F.col("system") == "quickbooks") & (F.col("contract_version") == contract.version))
    assert admitted.count() >= waiting - retyped.where(F.col("status") == "open").count() > 0
    assert retyped.where(F.col("status") == "resolved").count() > 0
    assert review.items(spark, settings).toDF().where(F.col("review_id") == items[0]["review_id"]).first()["status"] == "approved"


def test_given_ingested_bronze_when_scanned_then_no_person_email_phone_or_street_is_in_clear_text(spark, ingested, landed):
    settings = ingested.settings
    secrets = set()
    for version in landed.versions():
        street = (version.body.get("address") or {}).get("line1")
        for value in (version.body.get("email"), version.body.get("phone"), street):
            if isinstance(value, str) and len(value) > 5:
                secrets.add(value)
    assert len(secrets) > 50
    text = "\n".join(r["payload"] for r in _bronze(spark, settings).select("payload").collect())
    leaked = [s for s in secrets if s in text]
    assert not leaked, leaked[:5]
