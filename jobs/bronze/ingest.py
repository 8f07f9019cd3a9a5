"""Landing → bronze, exactly once: each complete landing run (one with a manifest) is read once, every
record admitted to its system's bronze table or sent to the quarantine, and the run entered in the ingest
ledger last.

Why one table per system, partitioned by stream: a system's streams share its ingest, retention and
access rules (a tenant's deletion, a system's re-extraction), per-system ingest tasks in Airflow commit
without contending for one log, and a table per stream would mean ~45 Delta commits per daily run on
small machines for no gain — the payload is a JSON string, so streams need no schema of their own.

Exactly once, whatever fails when: every write is keyed (bronze by record content, quarantine by record,
drift and review items by their grain, the ledger by manifest), so a run killed anywhere and started
again writes only what is missing, and the tables end as a clean run leaves them. Nothing written depends
on the wall clock: times come from the extract run ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

import orjson
import pyarrow as pa
import structlog
from pyarrow import fs as pafs
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType, TimestampType

from connectors.landing import MANIFEST
from jobs.bronze.admission import OUTCOME, PARTS, Admission, Part, parts_of
from jobs.ops import quarantine, review
from jobs.pii import pii_key
from jobs.settings import Settings
from jobs.storage import warehouse_filesystem
from jobs.tables import ensure_table, first_per_key, insert_new
from schemas.contracts import ContractStore

log = structlog.get_logger("groundswell.bronze")

BRONZE_COLUMNS = (
    "system", "stream", "entity", "company_id", "record_key", "source_updated_at", "payload", "payload_sha256",
    "extract_run_id", "landing_file", "landing_line", "contract_version", "shape_fingerprint", "review_decision",
)
#: A record version is the same if its stream, company, key and (PII-protected) content are.
CONTENT_KEY = ("stream", "company_id", "record_key", "payload_sha256")
LANDING_ORDER = ("extract_run_id", "landing_file", "landing_line")

LEDGER_SCHEMA = StructType([
    StructField("manifest", StringType(), False),
    StructField("system", StringType(), False),
    StructField("stream", StringType(), False),
    StructField("company_id", StringType(), False),
    StructField("extract_run_id", StringType(), False),
    StructField("landed", LongType(), False),
    StructField("admitted", LongType(), False),
    StructField("quarantined", LongType(), False),
])

DRIFT_SCHEMA = StructType([
    StructField("system", StringType(), False),
    StructField("stream", StringType(), False),
    StructField("company_id", StringType(), False),
    StructField("extract_run_id", StringType(), False),
    StructField("contract_version", IntegerType(), False),
    StructField("change", StringType(), False),  # added | retyped | removed
    StructField("path", StringType(), False),
    StructField("action", StringType(), False),  # passed (additive) | quarantined (breaking)
    StructField("records", LongType(), False),
    StructField("example_key", StringType(), True),
    StructField("first_seen", TimestampType(), False),
])
DRIFT_KEY = ("system", "stream", "company_id", "extract_run_id", "contract_version", "change", "path")


def bronze_uri(settings: Settings, system: str) -> str:
    return settings.table_uri("bronze", system)


def ledger_uri(settings: Settings) -> str:
    return settings.table_uri("ops", "ingested_runs")


def drift_uri(settings: Settings) -> str:
    return settings.table_uri("ops", "contract_drift")


def bronze_schema() -> StructType:
    outcome = from_arrow_schema(OUTCOME)
    return StructType([outcome[c] for c in BRONZE_COLUMNS])


def run_time(run_id: str) -> datetime:
    """The instant an extract run started, from its id (connectors.extract.new_run_id)."""
    return datetime.strptime(run_id, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=timezone.utc)


# -- landing runs ------------------------------------------------------------------------------------------

_RUN_FOLDER = re.compile(r"landing/(?P<system>[^/]+)/(?P<stream>[^/]+)/company=(?P<company>[^/]+)/run=(?P<run>[^/]+)$")


@dataclass(frozen=True)
class LandingRun:
    manifest: str  # relative to the warehouse root
    document: dict = field(hash=False, compare=False)

    @property
    def folder(self) -> str:
        return self.manifest.rsplit("/", 1)[0]

    def parts(self) -> list[Part]:
        d = self.document
        return [Part(f"{self.folder}/{f['name']}", d["system"], d["stream"], d["entity"], d["company_id"], d["run_id"], sha256=f["sha256"])
                for f in d["files"]]


def landing_runs(filesystem: pafs.FileSystem, root: str, systems: Iterable[str] | None = None) -> list[LandingRun]:
    """Every complete landing run (one with a manifest), oldest first."""
    wanted = set(systems) if systems else None
    runs = []
    top = f"{root}/landing"
    if filesystem.get_file_info(top).type == pafs.FileType.NotFound:
        return []
    for info in filesystem.get_file_info(pafs.FileSelector(top, recursive=True)):
        if info.base_name != MANIFEST:
            continue
        relative = info.path[len(root) + 1:]
        folder = _RUN_FOLDER.search(relative.rsplit("/", 1)[0])
        if folder is None or (wanted is not None and folder["system"] not in wanted):
            continue
        with filesystem.open_input_stream(info.path, compression=None) as stream:
            runs.append(LandingRun(relative, orjson.loads(stream.read())))
    return sorted(runs, key=lambda r: (r.document["run_id"], r.manifest))


# -- deciding records in Spark -----------------------------------------------------------------------------

def _decide_in_spark(spark: SparkSession, settings: Settings, parts: list[Part]) -> DataFrame:
    key = pii_key(settings)

    def decide(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        filesystem, root = warehouse_filesystem(settings)
        admission = Admission(filesystem, root, ContractStore(approved=(filesystem, root)), key)
        yield from admission.outcomes(parts_of(batches))

    rows = [tuple(sorted(v) if isinstance(v, frozenset) else v for v in p.__dict__.values()) for p in parts]
    slices = max(1, min(len(parts), spark.sparkContext.defaultParallelism * 4))
    return (spark.createDataFrame(rows, from_arrow_schema(PARTS))
            .repartition(slices, "landing_file")
            .mapInArrow(decide, from_arrow_schema(OUTCOME)))


#: Rows per shuffle partition when deduplicating a batch (a 10M-record backfill must not sort in 4 tasks).
ROWS_PER_PARTITION = 200_000


def _first_landing(rows: DataFrame, key: Iterable[str], records: int) -> DataFrame:
    """One row per `key`: the earliest landed (a record re-read by an overlapping extract is one record)."""
    key = list(key)
    partitions = max(int(rows.sparkSession.conf.get("spark.sql.shuffle.partitions")), records // ROWS_PER_PARTITION)
    return first_per_key(rows.repartition(partitions, *key), key, *LANDING_ORDER)


def _run_instant(column: str) -> F.Column:
    return F.to_timestamp(F.col(column), "yyyyMMdd'T'HHmmssSSSSSS'Z'")


@dataclass
class Written:
    admitted: int = 0
    quarantined: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def _write(spark: SparkSession, settings: Settings, outcomes: DataFrame, records: int, seen: F.Column) -> Written:
    """Write one batch of `records` decided records: quarantine and review items first, bronze next (the
    caller writes the ledger last). `seen` is when the rejections were seen (first/last seen of new quarantine
    rows)."""
    rejected = _first_landing(outcomes.where(F.col("kind").isNotNull()), ["quarantine_id"], records).persist(StorageLevel.MEMORY_AND_DISK)
    admitted = _first_landing(outcomes.where(F.col("kind").isNull()), ["system", *CONTENT_KEY], records).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        return _write_decided(spark, settings, outcomes, rejected, admitted, seen)
    finally:
        rejected.unpersist()
        admitted.unpersist()


def _write_decided(spark: SparkSession, settings: Settings, outcomes: DataFrame, rejected: DataFrame, admitted: DataFrame,
                   seen: F.Column) -> Written:
    written = Written()
    for row in rejected.groupBy("kind").count().collect():
        written.by_kind[row["kind"]] = row["count"]
    written.quarantined = sum(written.by_kind.values())
    if written.quarantined:
        quarantine.record(spark, settings, rejected.select(
            "quarantine_id", F.lit("bronze").alias("layer"), "kind", "rule", "reason", "system", "stream", "entity",
            "company_id", "record_key", "contract_version",
            F.concat_ws("#", "landing_file", F.col("landing_line").cast("string")).alias("payload_ref"),
            "payload_sha256", F.col("extract_run_id").alias("run_id"), seen.alias("first_seen"), seen.alias("last_seen"),
        ))
        drift_items = (
            rejected.where(F.col("kind") == "drift")
            .groupBy("system", "stream", "contract_version", "rule")
            .agg(F.min("extract_run_id").alias("opened_run"), F.min("record_key").alias("example_key"),
                 F.min("reason").alias("example_reason"), F.count(F.lit(1)).alias("records"))
        )
        review.open_items(spark, settings, drift_items.select(
            review.review_id(F.lit("drift"), *map(F.col, ("system", "stream", "contract_version", "rule"))).alias("review_id"),
            F.lit("drift").alias("kind"), "system", "stream", F.col("rule").alias("subject"), "contract_version",
            F.to_json(F.struct("example_key", "example_reason")).alias("detail"),
            "opened_run", _run_instant("opened_run").alias("opened_at"),
        ))
    _write_drift(spark, settings, outcomes)
    for system in [r["system"] for r in admitted.select("system").distinct().collect()]:
        rows = admitted.where(F.col("system") == system).select(*BRONZE_COLUMNS)
        streams = [r["stream"] for r in rows.select("stream").distinct().collect()]
        table = ensure_table(spark, bronze_uri(settings, system), bronze_schema(), partition_by=["stream"])
        insert_new(table, rows, CONTENT_KEY, prune=F.col("t.stream").isin(*streams))
    written.admitted = admitted.count()
    return written


def _write_drift(spark: SparkSession, settings: Settings, outcomes: DataFrame) -> None:
    added = outcomes.where(F.col("additive_paths").isNotNull()).select(
        "system", "stream", "company_id", "extract_run_id", "contract_version", "record_key",
        F.lit("added").alias("change"), F.explode("additive_paths").alias("path"), F.lit("passed").alias("action"))
    broken = outcomes.where(F.col("kind") == "drift").select(
        "system", "stream", "company_id", "extract_run_id", "contract_version", "record_key",
        F.split("rule", ":").getItem(0).alias("change"), F.split("rule", ":").getItem(1).alias("path"), F.lit("quarantined").alias("action"))
    drift = (
        added.unionByName(broken)
        .groupBy(*DRIFT_KEY, "action")
        .agg(F.count(F.lit(1)).alias("records"), F.min("record_key").alias("example_key"))
        .withColumn("first_seen", _run_instant("extract_run_id"))
    )
    insert_new(ensure_table(spark, drift_uri(settings), DRIFT_SCHEMA), drift.select(*DRIFT_SCHEMA.fieldNames()), DRIFT_KEY)


# -- the two entry points: ingest new landing runs, replay quarantined records -----------------------------

@dataclass
class IngestSummary:
    runs: int = 0
    landed: int = 0
    written: Written = field(default_factory=Written)

    def line(self) -> str:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.written.by_kind.items())) or "none"
        return f"{self.runs} landing runs, {self.landed} records: {self.written.admitted} admitted to bronze, {self.written.quarantined} quarantined ({kinds})"


#: Landed records decided and written per batch: memory stays bounded whatever the backlog (a backfill of
#: millions), and each batch's ledger entries commit its runs, so a rerun after a failure resumes.
BATCH_RECORDS = 500_000


def batches(runs: list[LandingRun], limit: int = BATCH_RECORDS) -> Iterator[list[LandingRun]]:
    """Consecutive runs (oldest first) of up to `limit` records; a larger run is a batch of its own."""
    batch: list[LandingRun] = []
    size = 0
    for run in runs:
        if batch and size + run.document["records"] > limit:
            yield batch
            batch, size = [], 0
        batch.append(run)
        size += run.document["records"]
    if batch:
        yield batch


def _ingest_batch(spark: SparkSession, settings: Settings, ledger, runs: list[LandingRun], records: int) -> Written:
    outcomes = _decide_in_spark(spark, settings, [p for run in runs for p in run.parts()]).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        written = _write(spark, settings, outcomes, records, _run_instant("extract_run_id"))
        per_run = outcomes.groupBy("landing_file").agg(F.count(F.lit(1)).alias("n"), F.count("kind").alias("q"))
        counts: dict[str, tuple[int, int]] = {}
        for row in per_run.collect():
            folder = row["landing_file"].rsplit("/", 1)[0]
            n, q = counts.get(folder, (0, 0))
            counts[folder] = (n + row["n"], q + row["q"])
        entries = []
        for run in runs:
            n, q = counts.get(run.folder, (0, 0))
            d = run.document
            entries.append((run.manifest, d["system"], d["stream"], d["company_id"], d["run_id"], d["records"], n - q, q))
        insert_new(ledger, spark.createDataFrame(entries, LEDGER_SCHEMA), ["manifest"])
    finally:
        outcomes.unpersist()
    return written


def ingest(spark: SparkSession, settings: Settings, systems: Iterable[str] | None = None) -> IngestSummary:
    filesystem, root = warehouse_filesystem(settings)
    ledger = ensure_table(spark, ledger_uri(settings), LEDGER_SCHEMA)
    done = {r["manifest"] for r in ledger.toDF().select("manifest").collect()}
    pending = [run for run in landing_runs(filesystem, root, systems) if run.manifest not in done]
    summary = IngestSummary(runs=len(pending), landed=sum(r.document["records"] for r in pending))
    log.info("landing runs to ingest", runs=summary.runs, records=summary.landed, already_ingested=len(done))
    for batch in batches(pending):
        records = sum(r.document["records"] for r in batch)
        written = _ingest_batch(spark, settings, ledger, batch, records)
        summary.written.admitted += written.admitted
        summary.written.quarantined += written.quarantined
        for kind, n in written.by_kind.items():
            summary.written.by_kind[kind] = summary.written.by_kind.get(kind, 0) + n
        log.info("batch ingested", runs=len(batch), records=records, admitted=written.admitted, quarantined=written.quarantined)
    if pending:
        log.info("ingested", summary=summary.line())
    return summary


def _landing_ref(payload_ref: str) -> tuple[str, int]:
    file, _, line = payload_ref.rpartition("#")
    return file, int(line)


def replay(spark: SparkSession, settings: Settings, selection: quarantine.Selection) -> IngestSummary:
    """Decide the selected bronze quarantine rows again with today's contracts (and reviewers' approvals):
    admitted ones enter bronze once and are resolved; ones failing as before are left exactly as they are."""
    rows = quarantine.select(spark, settings, selection).where(F.col("layer") == "bronze").where(F.col("kind") != "parse").collect()
    summary = IngestSummary(landed=len(rows))
    if not rows:
        return summary
    grouped: dict[tuple, set[int]] = {}
    for row in rows:
        file, line = _landing_ref(row["payload_ref"])
        decision = row["review_decision"] if row["status"] == "approved" else None
        grouped.setdefault((file, row["system"], row["stream"], row["entity"], row["company_id"], row["run_id"], decision), set()).add(line)
    parts = [Part(file, system, stream, entity, company, run, lines=frozenset(lines), review_decision=decision)
             for (file, system, stream, entity, company, run, decision), lines in grouped.items()]
    summary.runs = len({p.extract_run_id for p in parts})
    replay_run = quarantine.new_run_id("replay")
    outcomes = _decide_in_spark(spark, settings, parts).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        summary.written = _write(spark, settings, outcomes, summary.landed, F.current_timestamp())
        quarantine.resolve(spark, settings, outcomes.where(F.col("kind").isNull()), replay_run)
    finally:
        outcomes.unpersist()
    log.info("replayed", run=replay_run, summary=summary.line())
    return summary
