"""The one quarantine (dead-letter) table: every record any layer rejected, why, and where its payload is.

One row per rejected record version and layer (`quarantine_id`, from the record's content, so the same
record landed twice is quarantined once). Nothing in a row depends on when a job ran: a rerun after a
crash, or a replay that ends the same way, writes identical rows. A row changes only when its outcome
changes: a replay that fails on another rule bumps `attempts`; one that admits it sets `resolved`.

status: open (waits for a fix or a review) → approved (a reviewer admits it as it is; the next replay
brings it in) | rejected (a reviewer discards it; never replayed) → resolved (admitted by a replay).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, StringType, StructField, StructType, TimestampType

from jobs.settings import Settings
from jobs.tables import ensure_table

KINDS = ("parse", "contract", "drift", "mapping", "expectation")
STATUSES = ("open", "approved", "rejected", "resolved")
REPLAYABLE = ("open", "approved")

SCHEMA = StructType([
    StructField("quarantine_id", StringType(), False),
    StructField("layer", StringType(), False),
    StructField("kind", StringType(), False),
    StructField("rule", StringType(), False),
    StructField("reason", StringType(), False),
    StructField("system", StringType(), False),
    StructField("stream", StringType(), True),
    StructField("entity", StringType(), True),
    StructField("company_id", StringType(), True),
    StructField("record_key", StringType(), True),
    StructField("contract_version", IntegerType(), True),
    StructField("payload_ref", StringType(), False),
    StructField("payload_sha256", StringType(), False),
    StructField("run_id", StringType(), False),
    StructField("first_seen", TimestampType(), False),
    StructField("last_seen", TimestampType(), False),
    StructField("attempts", IntegerType(), False),
    StructField("status", StringType(), False),
    StructField("review_decision", StringType(), True),
    StructField("resolved_run", StringType(), True),
])
COLUMNS = tuple(field.name for field in SCHEMA.fields)
#: what a layer supplies for a rejection (`record` sets the rest)
REJECTION = StructType([f for f in SCHEMA.fields if f.name not in ("attempts", "status", "review_decision", "resolved_run")])


def quarantine_id(layer: str, system: str, stream: str | None, company_id: str | None, record_key: str | None, payload_sha256: str) -> str:
    identity = "\x1f".join(part or "" for part in (layer, system, stream, company_id, record_key, payload_sha256))
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


def id_column(layer: str, system: str | Column, stream: str | Column | None, company_id: Column, record_key: Column, payload_sha256: Column) -> Column:
    """`quarantine_id` as a Spark expression, for layers that reject in Spark rather than in Python."""
    parts = [F.lit(layer)] + [F.coalesce(v, F.lit("")) if isinstance(v, Column) else F.lit(v or "")
                              for v in (system, stream, company_id, record_key, payload_sha256)]
    return F.substring(F.sha2(F.concat_ws("\x1f", *parts), 256), 1, 32)


def uri(settings: Settings) -> str:
    return settings.table_uri("ops", "quarantine")


def table(spark: SparkSession, settings: Settings):
    return ensure_table(spark, uri(settings), SCHEMA)


def record(spark: SparkSession, settings: Settings, rejections: DataFrame) -> None:
    """Add new rejections; for ones already held and still waiting, take the new outcome if it differs
    (another rule or contract version), counting the attempt; a resolved one rejected again (a gate after
    its replay) waits again. `rejections` has the columns of REJECTION."""
    incoming = rejections.select(
        *REJECTION.fieldNames(),
        F.lit(1).alias("attempts"), F.lit("open").alias("status"),
        F.lit(None).cast("string").alias("review_decision"), F.lit(None).cast("string").alias("resolved_run"),
    )
    changed = "t.status = 'open' AND (t.kind <> s.kind OR t.rule <> s.rule OR NOT (t.contract_version <=> s.contract_version))"
    outcome = {"kind": "s.kind", "rule": "s.rule", "reason": "s.reason", "contract_version": "s.contract_version",
               "last_seen": "s.last_seen", "attempts": "t.attempts + 1"}
    (
        table(spark, settings).alias("t")
        .merge(incoming.alias("s"), "t.quarantine_id = s.quarantine_id")
        .whenMatchedUpdate(condition=changed, set=outcome)
        .whenMatchedUpdate(condition="t.status = 'resolved'", set={**outcome, "status": "'open'", "resolved_run": "NULL"})
        .whenNotMatchedInsertAll()
        .execute()
    )


def new_run_id(kind: str) -> str:
    """A run's id: what it is, when it started (UTC) and a random tail (two runs in one second differ)."""
    return f"{kind}-" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]


def resolve(spark: SparkSession, settings: Settings, ids: DataFrame, run_id: str) -> None:
    """Mark rows admitted by replay run `run_id` (a row already resolved keeps its first resolution)."""
    (
        table(spark, settings).alias("t")
        .merge(ids.select("quarantine_id").distinct().alias("s"), "t.quarantine_id = s.quarantine_id")
        .whenMatchedUpdate(condition="t.status IN ('open', 'approved')", set={"status": F.lit("resolved"), "resolved_run": F.lit(run_id)})
        .execute()
    )


def decide(spark: SparkSession, settings: Settings, ids: list[str], status: str, decision_id: str) -> None:
    """A reviewer's approve/reject of waiting rows."""
    assert status in ("approved", "rejected")
    selected = spark.createDataFrame([(i,) for i in ids], "quarantine_id string")
    (
        table(spark, settings).alias("t")
        .merge(selected.alias("s"), "t.quarantine_id = s.quarantine_id")
        .whenMatchedUpdate(condition="t.status IN ('open', 'approved')", set={"status": F.lit(status), "review_decision": F.lit(decision_id)})
        .execute()
    )


@dataclass(frozen=True)
class Selection:
    """Which quarantined rows a replay or a bulk review takes (None = any)."""

    kind: str | None = None
    rule: str | None = None
    system: str | None = None
    since: datetime | None = None
    layer: str | None = None
    statuses: tuple[str, ...] = REPLAYABLE

    def apply(self, rows: DataFrame) -> DataFrame:
        rows = rows.where(F.col("status").isin(*self.statuses))
        for column, value in (("kind", self.kind), ("system", self.system), ("layer", self.layer)):
            if value is not None:
                rows = rows.where(F.col(column) == value)
        if self.rule is not None:  # a rule names its field after a colon: "type:TotalAmt"; a prefix selects them all
            rows = rows.where((F.col("rule") == self.rule) | F.col("rule").startswith(self.rule + ":"))
        if self.since is not None:
            rows = rows.where(F.col("first_seen") >= F.lit(self.since))
        return rows


def select(spark: SparkSession, settings: Settings, selection: Selection) -> DataFrame:
    return selection.apply(table(spark, settings).toDF())
