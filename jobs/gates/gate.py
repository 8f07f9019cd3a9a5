"""Validate a layer's new rows with Great Expectations before anything downstream reads them.

For each table of the layer, the rows added or changed since the last gate (Delta's change feed, as the
table now holds them) are narrowed to the columns the rules read plus the derived ones, cached once, and
validated by the table's suite. Every expectation's outcome lands in `ops/validation_result` and in Data Docs
under the warehouse (ops/data_docs/<layer>/). A failed critical rule stops promotion: its offending rows move from the layer to the
quarantine (kind expectation, the rule's name), and the outcome fails, so the run stops before the next
layer. Warnings are recorded and flow on.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import reduce
from pathlib import Path

import great_expectations as gx
import structlog
from delta.tables import DeltaTable
from great_expectations.data_context.types.base import ProgressBarsConfig
from pyarrow import fs as pafs
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.bronze.ingest import bronze_uri
from jobs.gates.rules import Rule
from jobs.gates.suites import LINEAGE, Layer, TableSuite, suites
from jobs.ops import quarantine
from jobs.settings import Settings
from jobs.storage import warehouse_filesystem
from jobs.tables import change_feed, ensure_table, exists, first_per_key, insert_new, key_match

log = structlog.get_logger("groundswell.gate")

RESULT_SCHEMA = T.StructType([
    T.StructField("run_id", T.StringType(), False),
    T.StructField("layer", T.StringType(), False),
    T.StructField("table", T.StringType(), False),
    T.StructField("first_version", T.LongType(), False),
    T.StructField("last_version", T.LongType(), False),
    T.StructField("rule", T.StringType(), False),
    T.StructField("severity", T.StringType(), False),
    T.StructField("expectation", T.StringType(), False),
    T.StructField("rows", T.LongType(), True),
    T.StructField("unexpected", T.LongType(), True),
    T.StructField("observed", T.StringType(), True),
    T.StructField("success", T.BooleanType(), False),
    T.StructField("validated_at", T.TimestampType(), False),
])
PROGRESS_SCHEMA = T.StructType([T.StructField("table", T.StringType(), False), T.StructField("version", T.LongType(), False)])
#: counts, without a sample of unexpected values (each sample costs a pass over the rows; the quarantine holds them all)
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}


def results_uri(settings: Settings) -> str:
    return settings.table_uri("ops", "validation_result")


def progress_uri(settings: Settings) -> str:
    return settings.table_uri("ops", "gate_progress")


def docs_path(settings: Settings, layer: Layer) -> str:
    return f"{settings.warehouse.rstrip('/')}/ops/data_docs/{layer}/index.html"


@dataclass(frozen=True)
class Breach:
    table: str
    rule: str
    severity: str
    unexpected: int | None

    def __str__(self) -> str:
        count = "" if self.unexpected is None else f" ({self.unexpected} rows)"
        return f"{self.table}: {self.rule}{count}"


@dataclass
class GateOutcome:
    layer: str
    run_id: str
    rows: dict[str, int] = field(default_factory=dict)  # table → new rows validated
    breaches: list[Breach] = field(default_factory=list)
    quarantined: int = 0
    seconds: float = 0.0

    @property
    def critical(self) -> list[Breach]:
        return [b for b in self.breaches if b.severity == "critical"]

    @property
    def passed(self) -> bool:
        return not self.critical

    def line(self) -> str:
        validated = f"{sum(self.rows.values())} new rows of {len(self.rows)} tables" if self.rows else "nothing new"
        verdict = "passed" if self.passed else f"FAILED on {'; '.join(map(str, self.critical))}, {self.quarantined} rows quarantined"
        warnings = [b for b in self.breaches if b.severity == "warning"]
        noted = f"; warnings: {'; '.join(map(str, warnings))}" if warnings else ""
        return f"gate {self.layer} {verdict} in {self.seconds:.1f} s: {validated}{noted}"


class GateFailed(Exception):
    def __init__(self, outcome: GateOutcome) -> None:
        super().__init__(outcome.line())
        self.outcome = outcome


def new_rows(spark: SparkSession, suite: TableSuite, after: int, last: int) -> DataFrame:
    """The rows of table version `last` added or changed after version `after` (all of them when never gated)."""
    current = spark.read.format("delta").option("versionAsOf", last).load(suite.uri)
    if after < 0:
        return current
    changed = (change_feed(spark, suite.uri, after + 1, last).where(F.col("_change_type").isin("insert", "update_postimage"))
               .select(*[F.col(k).alias(f"_changed_{k}") for k in suite.key]).distinct())
    same = reduce(lambda a, b: a & b, [current[k].eqNullSafe(changed[f"_changed_{k}"]) for k in suite.key])
    return current.join(changed, same, "left_semi")


def _context(docs: Path) -> gx.data_context.AbstractDataContext:
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.add_data_docs_site("warehouse", {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    })
    return context


def _validate(context, suite: TableSuite, rows: DataFrame) -> gx.core.ExpectationSuiteValidationResult:
    name = suite.table.replace("/", ".")  # GX's store keys cannot hold a slash
    batch = context.data_sources.add_or_update_spark(name=suite.layer).add_dataframe_asset(name=suite.name).add_batch_definition_whole_dataframe("new rows")
    expectations = context.suites.add(gx.ExpectationSuite(name=name, expectations=[rule.expectation() for rule in suite.rules]))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=expectations))
    return definition.run(batch_parameters={"dataframe": rows}, result_format=RESULT_FORMAT)


def _results_rows(suite: TableSuite, result, run_id: str, first: int, last: int, at: datetime) -> list[tuple]:
    rows = []
    for outcome in result.results:
        meta, found = outcome.expectation_config.meta, outcome.result
        observed = found.get("observed_value")
        rows.append((run_id, suite.layer, suite.table, first, last, meta["rule"], meta["severity"], outcome.expectation_config.type,
                     found.get("element_count"), found.get("unexpected_count"), None if observed is None else str(observed), bool(outcome.success), at))
    return rows


def _offenders(checked: DataFrame, suite: TableSuite, failed: list[Rule]) -> DataFrame:
    """One row per offending table row: its key and lineage, the rules it broke (sorted; the first names it)."""
    keep = list(dict.fromkeys([*suite.key, *LINEAGE[suite.layer]]))
    broken = reduce(DataFrame.unionByName, [rule.offending(checked).select(*keep, F.lit(rule.name).alias("rule")) for rule in failed])
    return broken.groupBy(*keep).agg(F.sort_array(F.collect_set("rule")).alias("rules")).withColumn("rule", F.col("rules")[0])


def _bronze_lineage(spark: SparkSession, settings: Settings, suite: TableSuite, offenders: DataFrame) -> DataFrame:
    """Silver offenders with the bronze record version each came from (the one of the same update)."""
    systems = [r["source_system"] for r in offenders.select("source_system").distinct().collect()]
    bronze = [spark.read.format("delta").load(bronze_uri(settings, system)).select(
        F.col("system").alias("source_system"), "company_id", F.col("record_key").alias("bronze_record_key"), "stream",
        "contract_version", "landing_file", "landing_line", "payload_sha256", F.col("source_updated_at").alias("bronze_updated_at"))
        for system in systems if exists(spark, bronze_uri(settings, system))]
    if not bronze:
        return offenders.select("*", *[F.lit(None).alias(c) for c in ("stream", "contract_version", "landing_file", "landing_line", "payload_sha256")])
    joined = offenders.join(reduce(DataFrame.unionByName, bronze), ["source_system", "company_id", "bronze_record_key"], "left")
    return first_per_key(joined, list(suite.key), F.col("bronze_updated_at").eqNullSafe(F.col("source_updated_at")).desc(),
                         F.col("bronze_updated_at").desc_nulls_last(), F.col("payload_sha256"))


def _rejections(spark: SparkSession, settings: Settings, suite: TableSuite, offenders: DataFrame, run_id: str) -> DataFrame:
    """The offenders as quarantine rows with the identity replay gives their record (one per record version):
    `groundswell replay` brings a bronze or silver one back after a fix. A gold cell, or a row whose source
    record is not in bronze, points at itself (rebuild instead)."""
    here = F.concat_ws("|", *[F.col(k).cast("string") for k in suite.key])
    if suite.layer == "gold":
        source = offenders.select(
            F.lit("gold").alias("system"), F.lit(suite.name).alias("stream"), F.lit("trend_cell").alias("entity"),
            F.lit(None).cast("string").alias("company_id"), here.alias("record_key"), F.lit(None).cast("int").alias("contract_version"),
            F.lit(None).cast("string").alias("landing_file"), F.lit(None).cast("long").alias("landing_line"), F.lit(None).cast("string").alias("payload_sha256"),
            "rule", "rules", here.alias("here"))
    elif suite.layer == "silver":
        source = _bronze_lineage(spark, settings, suite, offenders).select(
            F.col("source_system").alias("system"), "stream", F.lit(suite.name).alias("entity"), "company_id",
            F.col("bronze_record_key").alias("record_key"), "contract_version", "landing_file", "landing_line", "payload_sha256",
            "rule", "rules", here.alias("here"))
    else:
        source = offenders.select("system", "stream", "entity", "company_id", "record_key", "contract_version", "landing_file", "landing_line",
                                  "payload_sha256", "rule", "rules", here.alias("here"))
    landed = F.col("landing_file").isNotNull()
    source = (source
              .withColumn("payload_ref", F.when(landed, F.concat_ws("#", "landing_file", F.col("landing_line").cast("string")))
                          .otherwise(F.concat(F.lit(f"{suite.table}#"), "here")))
              .withColumn("payload_sha256", F.coalesce("payload_sha256", F.sha2("here", 256))))
    why = F.create_map(*[F.lit(v) for rule in suite.rules for v in (rule.name, rule.why)])
    now = F.lit(datetime.now(timezone.utc).replace(tzinfo=None)).cast("timestamp")
    rows = source.select(
        quarantine.id_column(suite.layer, F.col("system"), F.col("stream"), F.col("company_id"), F.col("record_key"), F.col("payload_sha256")).alias("quarantine_id"),
        F.lit(suite.layer).alias("layer"), F.lit("expectation").alias("kind"), "rule",
        F.concat(F.lit(f"{suite.table} broke gate rule(s) "), F.array_join("rules", ", "), F.lit(": "), why[F.col("rule")]).alias("reason"),
        "system", "stream", "entity", "company_id", "record_key", "contract_version", "payload_ref", "payload_sha256",
        F.lit(run_id).alias("run_id"), now.alias("first_seen"), now.alias("last_seen"))
    return first_per_key(rows, ["quarantine_id"], "rule", "reason")


def _withdraw(spark: SparkSession, suite: TableSuite, offenders: DataFrame) -> None:
    """Take the offending rows out of the layer: downstream never reads them."""
    (DeltaTable.forPath(spark, suite.uri).alias("t").merge(offenders.select(*suite.key).distinct().alias("s"), key_match(suite.key))
     .whenMatchedDelete().execute())


def _publish_docs(settings: Settings, layer: Layer, rendered: Path) -> None:
    """Copy the rendered Data Docs under the warehouse (a folder or S3 alike): the index shows the layer's
    latest run; earlier runs' pages stay beside it."""
    filesystem, root = warehouse_filesystem(settings)
    pafs.copy_files(str(rendered), f"{root}/ops/data_docs/{layer}", source_filesystem=pafs.LocalFileSystem(), destination_filesystem=filesystem)


def gate(spark: SparkSession, settings: Settings, layer: Layer) -> GateOutcome:
    """Validate `layer`'s rows added or changed since its last gate; see the module's docstring."""
    started = time.monotonic()
    outcome = GateOutcome(layer, quarantine.new_run_id(f"gate-{layer}"))
    progress = ensure_table(spark, progress_uri(settings), PROGRESS_SCHEMA)
    done = {r["table"]: r["version"] for r in progress.toDF().groupBy("table").agg(F.max("version").alias("version")).collect()}
    results, validated, at = [], [], datetime.now(timezone.utc).replace(tzinfo=None)
    with tempfile.TemporaryDirectory(prefix="groundswell-docs-") as rendered:
        context = _context(Path(rendered))
        for suite in suites(settings, layer):
            if not exists(spark, suite.uri):
                continue
            last = DeltaTable.forPath(spark, suite.uri).history(1).first()["version"]
            after = done.get(suite.table, -1)
            if after >= last:
                continue
            derived = [rule.derived() for rule in suite.rules if rule.derive is not None]
            checked = new_rows(spark, suite, after, last).select(*suite.columns(), *derived).cache()
            outcome.rows[suite.table] = checked.count()
            if outcome.rows[suite.table]:
                result = _validate(context, suite, checked)
                results += _results_rows(suite, result, outcome.run_id, after + 1, last, at)
                failed = {r.expectation_config.meta["rule"]: r.result.get("unexpected_count") for r in result.results if not r.success}
                outcome.breaches += [Breach(suite.table, rule.name, rule.severity, failed[rule.name]) for rule in suite.rules if rule.name in failed]
                critical = [rule for rule in suite.rules if rule.name in failed and rule.severity == "critical"]
                if critical:
                    offenders = _offenders(checked, suite, critical).cache()
                    quarantine.record(spark, settings, _rejections(spark, settings, suite, offenders, outcome.run_id))
                    outcome.quarantined += offenders.count()
                    _withdraw(spark, suite, offenders)
                    offenders.unpersist()
            checked.unpersist()
            validated.append((suite.table, last))
        if results:
            context.build_data_docs()
            _publish_docs(settings, layer, Path(rendered))
    if results:
        ensure_table(spark, results_uri(settings), RESULT_SCHEMA)
        spark.createDataFrame(results, RESULT_SCHEMA).write.format("delta").mode("append").save(results_uri(settings))
    if validated:
        insert_new(progress, spark.createDataFrame(validated, PROGRESS_SCHEMA), ["table", "version"])
    outcome.seconds = time.monotonic() - started
    log.info("gated", layer=layer, run=outcome.run_id, summary=outcome.line(), docs=docs_path(settings, layer))
    return outcome
