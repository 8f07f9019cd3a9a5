"""Silver normalize on real Spark + Delta over the landed sandbox (after bronze ingest): every system's
documents become canonical rows matching the sandbox's truth, in USD; building again or replaying changes
no table (derived ones included); a record that cannot map is quarantined naming its field."""

from __future__ import annotations

import gzip
import hashlib
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs.bronze.ingest import bronze_uri, ingest
from jobs.ops import quarantine
from jobs.ops.quarantine import Selection
from jobs.silver import fx, shopify
from jobs.silver.build import build, replay_and_derive
from jobs.silver.normalize import SYSTEMS, _document_lines, all_versions, normalize, normalize_rows, replay, silver_uri
from schemas.contracts import ContractStore
from tests.warehouse_checks import checksums

pytestmark = pytest.mark.slow


def _latest(landed, system: str, entity: str) -> dict[tuple[str, str], object]:
    latest = {}
    for record in landed.versions():
        if (record.system, record.entity) == (system, entity):
            key = (record.company_id, record.record_id)
            if key not in latest or record.version > latest[key].version:
                latest[key] = record
    return latest


@pytest.mark.parametrize(("system", "entity"), [
    ("shopify", "sales_order"), ("quickbooks", "invoice"), ("quickbooks", "purchase_order"), ("xero", "invoice"), ("xero", "purchase_order"),
    ("businesscentral", "sales_order"), ("businesscentral", "invoice"), ("businesscentral", "purchase_order"),
    ("netsuite", "sales_order"), ("netsuite", "invoice"), ("netsuite", "purchase_order"),
    ("odoo", "sales_order"), ("odoo", "invoice"), ("odoo", "purchase_order"), ("csv", "invoice"),
])
def test_given_bronze_when_normalized_then_documents_match_the_truth_in_original_currency_and_usd(spark, silver, landed, system, entity):
    settings = silver.settings
    assert silver.summary.normalized.mapped[entity] > 5
    silver = spark.read.format("delta").load(silver_uri(settings, entity)).where(F.col("source_system") == system)
    documents = {(r["company_id"], r["source_id"]): r for r in silver.collect()}
    truth = _latest(landed, system, entity)
    waiting = {(r["company_id"], r["record_key"]) for r in quarantine.table(spark, settings).toDF().where(F.col("system") == system).collect()}
    held = {k: v for k, v in truth.items()
            if "poison" not in v.truth and not v.deleted and v.body["status"] not in ("void", "cancelled") and k not in waiting}
    assert len(held) > 5 and set(held) <= set(documents)  # every record not waiting in the quarantine (drift, poison) is in silver
    for key, record in held.items():
        row = documents[key]
        assert row["total"] == Decimal(str(record.body["total"])).quantize(Decimal("0.0001")), key
        keyed = record.body["currency"].upper()
        assert row["currency"] == fx.CURRENCY_ALIASES.get(keyed, keyed)  # "usd" and "STG" read as USD and GBP
        assert row["fx_rate_usd"] > 0 and row["total_usd"] == (row["total"] * row["fx_rate_usd"]).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        assert len(row["lines"]) == len(record.body["lines"])


def test_given_built_silver_when_built_again_or_replayed_then_no_table_changes(spark, silver):
    before = checksums(spark, silver.folder)
    again = build(spark, silver.settings)
    assert again.normalized.bronze_rows == 0
    replay_and_derive(spark, silver.settings, Selection(layer="silver"))
    assert checksums(spark, silver.folder) == before


def _clean_order(record: dict) -> bool:
    """Not one of the sandbox's poison records (bronze quarantines those before silver sees them)."""
    try:
        return float(record["total_price"]) >= 0 and all(float(line["quantity"]) >= 0 for line in record["line_items"])
    except (KeyError, TypeError, ValueError):
        return False


def _send_unknown_fulfillment_status(warehouse: Path) -> tuple[str, str]:
    """Make the first landed Shopify order carry a fulfillment status the mapping does not know (the
    contract cannot catch it: any text is a valid string); returns its company and key."""
    manifest_path = sorted(warehouse.glob("landing/shopify/orders/*/*/_manifest.json"))[0]
    manifest = json.loads(manifest_path.read_text())
    part = manifest_path.parent / manifest["files"][0]["name"]
    lines = gzip.decompress(part.read_bytes()).splitlines()
    at = next(i for i, line in enumerate(lines) if _clean_order(json.loads(line)["record"]))
    first = json.loads(lines[at])
    first["record"]["fulfillment_status"] = "lost-in-transit"
    lines[at] = json.dumps(first).encode()
    data = gzip.compress(b"\n".join(lines) + b"\n")
    part.write_bytes(data)
    manifest["files"][0]["sha256"] = hashlib.sha256(data).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    return manifest["company_id"], first["key"]


def test_given_a_record_that_cannot_map_when_normalized_then_it_is_quarantined_naming_the_field_and_replays_once_fixed(
        spark, landed, tmp_path, monkeypatch):
    settings = landed.warehouse(tmp_path)
    company, key = _send_unknown_fulfillment_status(tmp_path)
    ingest(spark, settings, ["shopify"])
    summary = normalize(spark, settings, ["shopify"])
    assert summary.quarantined >= 1
    rows = quarantine.table(spark, settings).toDF().where(
        (F.col("layer") == "silver") & (F.col("company_id") == company) & (F.col("record_key") == key)).collect()
    assert len(rows) == 1 and rows[0]["kind"] == "mapping" and rows[0]["rule"].endswith(":fulfillment_status")
    assert "lost-in-transit" in rows[0]["reason"] and rows[0]["payload_ref"].startswith("landing/shopify/orders/")
    assert summary.mapped["sales_order"] > 100  # the rest flowed

    monkeypatch.setitem(shopify.FULFILLMENT_STATUS, "lost-in-transit", "open")  # the fix: the mapping learns the code
    replayed = replay(spark, settings, Selection(layer="silver", system="shopify"))
    assert replayed.mapped["sales_order"] >= 1
    row = quarantine.table(spark, settings).toDF().where(F.col("quarantine_id") == rows[0]["quarantine_id"]).first()
    assert row["status"] == "resolved" and row["resolved_run"].startswith("replay-")
    silver = spark.read.format("delta").load(silver_uri(settings, "sales_order"))
    assert silver.where((F.col("company_id") == company) & (F.col("source_id") == key) & (F.col("source_system") == "shopify")).count() == 1
    after = checksums(spark, tmp_path)
    replay(spark, settings, Selection(layer="silver"))
    assert checksums(spark, tmp_path) == after


def test_given_two_companies_whose_odoo_ids_repeat_when_lines_are_joined_then_each_document_holds_only_its_own_lines(spark, silver):
    mapping = next(m for m in SYSTEMS["odoo"].MAPPINGS if m.entity == "invoice")
    store = ContractStore()
    bronze = spark.read.format("delta").load(bronze_uri(silver.settings, "odoo"))
    header = bronze.where(F.col("stream") == mapping.stream).orderBy("record_key").first()
    parent = F.get_json_object("payload", "$.move_id[0]").cast("string")
    own = bronze.where((F.col("company_id") == header["company_id"]) & ((F.col("record_key") == header["record_key"]) | (parent == header["record_key"])))
    # another company's database numbers its own invoice and lines alike; its line ids happen to differ
    twin = (own.withColumn("company_id", F.lit("another-company"))
            .withColumn("record_key", F.when(F.col("stream") == mapping.lines.stream, F.concat("record_key", F.lit("0"))).otherwise(F.col("record_key"))))
    rows = own.unionByName(twin)
    headers, lines = _document_lines(rows, rows, mapping, store)
    result = normalize_rows(headers, mapping, all_versions(store, "odoo", mapping.stream), fx.load(spark, silver.settings), lines)
    count = {r["company_id"]: len(r["lines"]) for r in result.collect()}
    own_lines = own.where(F.col("stream") == mapping.lines.stream).where(F.get_json_object("payload", "$.display_type") == "product").count()
    assert own_lines > 0 and count == {header["company_id"]: own_lines, "another-company": own_lines}
