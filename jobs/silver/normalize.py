"""Bronze → silver, incrementally: each system's bronze rows added since the last bronze version this job
processed (Delta's change feed) are parsed with their stream's contract, mapped by the system's mappings,
converted to USD at the document date, and MERGEd into `silver/<entity>` by canonical id — the latest
source update wins, so late edits and voids correct the facts they replace. A row that does not map, or has
no FX rate, goes to the quarantine naming the field; the rest flows.

Silver tables are partitioned by source system: each system's normalize task MERGEs into its own partition,
so tasks of different systems never contend for the same files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType

import structlog
from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.bronze.ingest import bronze_uri
from jobs.ops import quarantine
from jobs.settings import Settings
from jobs.silver import businesscentral, csv_drop, fx, netsuite, odoo, quickbooks, shopify, x12_drop, xero
from jobs.silver.mapping import Mapping, apply, loose, problem
from jobs.silver.payload import parsed
from jobs.storage import warehouse_filesystem
from jobs.tables import change_feed, ensure_table, exists, first_per_key, insert_new
from schemas.canonical.derive import MONEY, spark_schema
from schemas.canonical.entities import ENTITIES, Document
from schemas.contracts import Contract, ContractStore, FieldSpec

log = structlog.get_logger("groundswell.silver")

SYSTEMS: dict[str, ModuleType] = {module.SYSTEM: module for module in (businesscentral, csv_drop, netsuite, odoo, quickbooks, shopify, x12_drop, xero)}

PROGRESS_SCHEMA = T.StructType([
    T.StructField("system", T.StringType(), False),
    T.StructField("bronze_version", T.LongType(), False),
])


def silver_uri(settings: Settings, entity: str) -> str:
    return settings.table_uri("silver", entity)


def progress_uri(settings: Settings) -> str:
    return settings.table_uri("ops", "silver_progress")


def all_versions(store: ContractStore, system: str, stream: str) -> Contract:
    """One contract holding every field any version of the stream listed: bronze holds rows of them all."""
    latest = store.latest(system, stream)
    fields: dict[str, FieldSpec] = {}
    for version in range(1, latest.version + 1):
        fields |= store.get(system, stream, version).fields
    return latest.model_copy(update={"fields": fields})


def _document_fx(rows: DataFrame, rates: DataFrame, entity: str) -> DataFrame:
    """USD amounts at the document's issue date (payments: the payment date); no rate is a problem."""
    model = ENTITIES[entity]
    if issubclass(model, Document):
        day, amounts = F.col("issued_on"), ("subtotal", "total")
    elif "amount_usd" in model.model_fields:
        day, amounts = F.to_date("paid_at"), ("amount",)
    else:
        return rows
    rated = fx.with_usd_rate(rows.drop("fx_rate_usd").withColumn("currency", fx.iso_currency(F.col("currency"))), rates, on=day)
    usd = {f"{a}_usd": (F.col(a) * F.col("fx_rate_usd")).cast(MONEY) for a in amounts}
    if issubclass(model, Document):
        usd["lines"] = F.transform("lines", lambda line: line.withField("amount_usd", (line.amount * F.col("fx_rate_usd")).cast(MONEY)))
    missing = problem("fx-rate-missing", "currency", F.concat(
        F.lit("no FX rate for "), F.coalesce(F.col("currency"), F.lit("(no currency)")), F.lit(f" within {fx.MAX_AGE_DAYS} days before "),
        day.cast("string"), F.lit(": load the reference rates (landing/_reference/fx) and replay")))
    problems = F.when(F.col("fx_rate_usd").isNull(), F.concat("problems", F.array(missing))).otherwise(F.col("problems"))
    if "fx_rate_usd" in model.model_fields:
        usd["fx_rate_usd"] = F.col("fx_rate_usd")
    columns = [usd.get(c, F.col(c)).alias(c) for c in rows.columns if c != "problems"]
    return rated.select(*columns, problems.alias("problems"))


def _latest_first(rows: DataFrame) -> DataFrame:
    """One row per canonical id: the latest source update (ties: the larger payload hash, so any order of
    processing picks the same row)."""
    return first_per_key(rows, ["canonical_id"], F.col("source_updated_at").desc_nulls_last(), F.col("_bronze.payload_sha256").desc())


def table_schema(entity: str) -> T.StructType:
    """The entity's Spark schema as a Delta table holds it: top-level NOT NULLs enforced; nested ones (a
    document line's) cannot be, so the mappings' problems check those."""
    return T.StructType([T.StructField(f.name, loose(f.dataType), f.nullable, f.metadata) for f in spark_schema(ENTITIES[entity])])


def _merge(spark: SparkSession, settings: Settings, mapping: Mapping, rows: DataFrame) -> None:
    """Insert new records, replace older versions; a tombstone (a deletes stream) only marks the record
    it deletes (a delete of a record never seen has nothing to mark)."""
    schema = table_schema(mapping.entity)
    table = ensure_table(spark, silver_uri(settings, mapping.entity), schema, partition_by=["source_system"])
    newer = "s.source_updated_at > t.source_updated_at OR (t.source_updated_at IS NULL AND s.source_updated_at IS NOT NULL)"
    not_older = "s.source_updated_at >= t.source_updated_at OR t.source_updated_at IS NULL"
    merge = table.alias("t").merge(_latest_first(rows).select(*schema.fieldNames()).alias("s"),
                                   f"t.source_system = '{mapping.system}' AND t.canonical_id = s.canonical_id")
    if mapping.deleted:
        tombstone = {c: f"s.{c}" for c in ("is_deleted", "source_updated_at", "bronze_record_key", "extract_run_id")}
        merge.whenMatchedUpdate(condition=not_older, set=tombstone).execute()
    else:
        merge.whenMatchedUpdateAll(condition=newer).whenNotMatchedInsertAll().execute()


def _quarantine(spark: SparkSession, settings: Settings, mapping: Mapping, rows: DataFrame, run_id: str, seen: Column) -> None:
    first, bronze = F.get(F.col("problems"), 0), F.col("_bronze")
    quarantine.record(spark, settings, rows.select(
        quarantine.id_column("silver", mapping.system, mapping.stream, bronze.company_id, bronze.record_key, bronze.payload_sha256).alias("quarantine_id"),
        F.lit("silver").alias("layer"), F.lit("mapping").alias("kind"),
        F.concat(first.rule, F.lit(":"), first.field).alias("rule"),
        F.concat(F.array_join(F.transform("problems", lambda p: p.reason), "; "),
                 F.lit(f" (mapping {mapping.system}/{mapping.stream} → {mapping.entity})")).alias("reason"),
        F.lit(mapping.system).alias("system"), F.lit(mapping.stream).alias("stream"), F.lit(mapping.entity).alias("entity"),
        bronze.company_id.alias("company_id"), bronze.record_key.alias("record_key"), bronze.contract_version.alias("contract_version"),
        F.concat_ws("#", bronze.landing_file, bronze.landing_line.cast("string")).alias("payload_ref"),
        bronze.payload_sha256.alias("payload_sha256"), F.lit(run_id).alias("run_id"), seen.alias("first_seen"), seen.alias("last_seen"),
    ))


@dataclass
class NormalizeSummary:
    run_id: str
    bronze_rows: int = 0
    mapped: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0

    def line(self) -> str:
        entities = ", ".join(f"{n} {e}" for e, n in sorted(self.mapped.items())) or "nothing"
        return f"{self.bronze_rows} new bronze rows: {entities} mapped to silver, {self.quarantined} quarantined (mapping)"


def normalize_rows(rows: DataFrame, mapping: Mapping, contract: Contract, rates: DataFrame, lines: DataFrame | None = None) -> DataFrame:
    """Bronze rows of one stream → canonical rows with `problems` (the pure part of normalize). `lines`
    (parent, lines, lines_updated_at) are the documents' lines when they are records of their own."""
    rows = rows.withColumn("p", parsed(F.col("payload"), contract))
    mapped = apply(mapping, rows.where(mapping.keep(F.col("p"))) if mapping.keep else rows)
    if lines is not None:
        on = (mapped["company_id"] == lines["line_company_id"]) & (mapped["source_id"] == lines["parent"])
        mapped = (mapped.join(lines, on, "left")
                  .withColumn("lines", F.coalesce("_joined_lines", F.array().cast(mapped.schema["lines"].dataType)))
                  .withColumn("source_updated_at", F.greatest("source_updated_at", "lines_updated_at"))
                  .drop("line_company_id", "parent", "_joined_lines", "lines_updated_at"))
    return _document_fx(mapped, rates, mapping.entity)


def _document_lines(bronze: DataFrame, changes: DataFrame, mapping: Mapping, store: ContractStore) -> tuple[DataFrame, DataFrame]:
    """For a mapping whose lines are their own stream: (every bronze version of the documents this batch
    touched — a changed header or a changed line —, their latest lines as (line_company_id, parent, lines,
    lines_updated_at)). A document is its company's: source ids repeat across companies' databases."""
    spec = mapping.lines
    contract = all_versions(store, mapping.system, spec.stream)

    def line_rows(frame: DataFrame) -> DataFrame:
        parsed_lines = frame.where(F.col("stream") == spec.stream).withColumn("p", parsed(F.col("payload"), contract))
        return parsed_lines.select(F.col("company_id").alias("line_company_id"), spec.parent(F.col("p")).alias("parent"),
                                   spec.line(F.col("p")).alias("line"), "record_key", "source_updated_at", "payload_sha256").where(F.col("parent").isNotNull())

    document = ["line_company_id", "parent"]
    touched = (changes.where(F.col("stream") == mapping.stream).select(F.col("company_id").alias("line_company_id"), F.col("record_key").alias("parent"))
               .unionByName(line_rows(changes).select(*document)).distinct())
    headers = (bronze.where(F.col("stream") == mapping.stream)
               .join(touched, (F.col("company_id") == F.col("line_company_id")) & (F.col("record_key") == F.col("parent")), "left_semi"))
    newest = (F.col("source_updated_at").desc_nulls_last(), F.col("payload_sha256").desc())
    lines = (first_per_key(line_rows(bronze).join(touched, document, "left_semi"), [*document, "record_key"], *newest)
             .groupBy(*document).agg(F.sort_array(F.collect_list("line")).alias("_joined_lines"),
                                    F.max("source_updated_at").alias("lines_updated_at"))
             .withColumn("_joined_lines", F.transform("_joined_lines", lambda line, i: line.withField("line_no", (i + 1).cast("long")))))
    return headers, lines


@dataclass(frozen=True)
class _Batch:
    """Bronze rows of one system to normalize, and how their rejections are stamped."""

    system: str
    rows: DataFrame
    run_id: str
    seen: Column


def _normalize_batch(spark: SparkSession, settings: Settings, batch: _Batch, rates: DataFrame, store: ContractStore,
                     summary: NormalizeSummary) -> list[DataFrame]:
    """Map, MERGE and quarantine one batch; returns the quarantine ids of the rows that mapped (per mapping)."""
    mapped_ids = []
    for mapping in SYSTEMS[batch.system].MAPPINGS:
        contract = all_versions(store, batch.system, mapping.stream)
        if mapping.lines is None:
            result = normalize_rows(batch.rows.where(F.col("stream") == mapping.stream), mapping, contract, rates)
        else:
            bronze = spark.read.format("delta").load(bronze_uri(settings, batch.system))
            headers, lines = _document_lines(bronze, batch.rows, mapping, store)
            result = normalize_rows(headers, mapping, contract, rates, lines)
        result = result.cache()
        good, bad = result.where(F.size("problems") == 0), result.where(F.size("problems") > 0)
        _merge(spark, settings, mapping, good)
        _quarantine(spark, settings, mapping, bad, batch.run_id, batch.seen)
        summary.mapped[mapping.entity] = summary.mapped.get(mapping.entity, 0) + good.count()
        summary.quarantined += bad.count()
        bronze_row = F.col("_bronze")
        mapped_ids.append(good.select(quarantine.id_column("silver", mapping.system, mapping.stream, bronze_row.company_id,
                                                           bronze_row.record_key, bronze_row.payload_sha256).alias("quarantine_id")))
        result.unpersist()
    return mapped_ids


def normalize(spark: SparkSession, settings: Settings, systems: list[str] | None = None) -> NormalizeSummary:
    summary = NormalizeSummary(quarantine.new_run_id("normalize"))
    rates = fx.load(spark, settings)
    store = ContractStore(approved=warehouse_filesystem(settings))
    progress = ensure_table(spark, progress_uri(settings), PROGRESS_SCHEMA)
    done = {r["system"]: r["done"] for r in progress.toDF().groupBy("system").agg(F.max("bronze_version").alias("done")).collect()}
    for system in SYSTEMS:
        uri = bronze_uri(settings, system)
        if (systems and system not in systems) or not exists(spark, uri):
            continue
        commit = DeltaTable.forPath(spark, uri).history(1).first()
        start = done.get(system, -1) + 1
        if start > commit["version"]:
            continue
        changes = (change_feed(spark, uri, start, commit["version"])
                   .where(F.col("_change_type") == "insert").drop("_change_type", "_commit_version", "_commit_timestamp"))
        # not cached: each mapping reads only its stream's partition, and a backfill's payloads outgrow memory
        summary.bronze_rows += changes.count()
        batch = _Batch(system, changes, f"bronze/{system}@{commit['version']}", F.lit(commit["timestamp"]).cast("timestamp"))
        _normalize_batch(spark, settings, batch, rates, store, summary)
        insert_new(progress, spark.createDataFrame([(system, commit["version"])], PROGRESS_SCHEMA), ["system", "bronze_version"])
    log.info("normalized", summary=summary.line())
    return summary


def replay(spark: SparkSession, settings: Settings, selection: quarantine.Selection) -> NormalizeSummary:
    """Map the selected silver quarantine rows' bronze records again with today's mappings and rates: the
    ones that map now enter silver and are resolved; the others stay exactly as they are."""
    replay_run = quarantine.new_run_id("replay")
    summary = NormalizeSummary(replay_run)
    waiting = quarantine.select(spark, settings, selection).where(F.col("layer") == "silver").cache()
    systems = [r["system"] for r in waiting.select("system").distinct().collect()]
    if not systems:
        return summary
    rates = fx.load(spark, settings)
    store = ContractStore(approved=warehouse_filesystem(settings))
    for system in systems:
        keys = waiting.where(F.col("system") == system).select("stream", "company_id", "record_key", "payload_sha256")
        rows = spark.read.format("delta").load(bronze_uri(settings, system)).join(keys, ["stream", "company_id", "record_key", "payload_sha256"], "left_semi").cache()
        summary.bronze_rows += rows.count()
        mapped = _normalize_batch(spark, settings, _Batch(system, rows, replay_run, F.current_timestamp()), rates, store, summary)
        for ids in mapped:
            quarantine.resolve(spark, settings, ids, replay_run)
        rows.unpersist()
    waiting.unpersist()
    log.info("replayed silver", run=replay_run, summary=summary.line())
    return summary
