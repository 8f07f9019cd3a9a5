"""Review items (what automation cannot decide) and the audit of every decision taken on them.

Items: a breaking drift of a source contract ("drift"), opened by bronze ingest, one per system, stream,
contract version and change; a pair of master-data records the linkage model is unsure of ("match", subject
"id_l|id_r|company"), opened by silver. Quarantined records are reviewed through the quarantine table itself.
Opening an item twice is a no-op; deciding it writes the decision to `ops/review_decisions` — who,
when, why and what it changed — which is append-only.
"""

from __future__ import annotations

import getpass
import gzip
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import orjson
from pyarrow import fs as pafs
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, StringType, StructField, StructType, TimestampType

from connectors.landing import write_atomically
from jobs.ops import quarantine
from jobs.pii import pii_key
from jobs.settings import Settings
from jobs.storage import warehouse_filesystem
from jobs.tables import ensure_table, insert_new
from schemas.contracts import ContractError, ContractStore, evolve, protect, protect_text

ITEM_SCHEMA = StructType([
    StructField("review_id", StringType(), False),
    StructField("kind", StringType(), False),
    StructField("system", StringType(), False),
    StructField("stream", StringType(), True),
    StructField("subject", StringType(), False),
    StructField("contract_version", IntegerType(), True),
    StructField("detail", StringType(), False),
    StructField("opened_run", StringType(), False),
    StructField("opened_at", TimestampType(), False),
    StructField("status", StringType(), False),
    StructField("decision_id", StringType(), True),
])

DECISION_SCHEMA = StructType([
    StructField("decision_id", StringType(), False),
    StructField("decided_at", TimestampType(), False),
    StructField("decided_by", StringType(), False),
    StructField("decision", StringType(), False),
    StructField("target_kind", StringType(), False),
    StructField("target_id", StringType(), False),
    StructField("reason", StringType(), False),
    StructField("effect", StringType(), False),
])


MATCH_KIND = "match"


class ReviewError(Exception):
    """A decision that cannot be taken (unknown item, already decided, no reason given)."""


def review_id(*identity: Column) -> Column:
    """A review item's id from what it is about (kind, system, stream, contract version, subject): the same
    change seen again, by a rerun or another company, is the same item."""
    parts = [F.coalesce(c.cast("string"), F.lit("")) for c in identity]
    return F.concat(F.lit("r-"), F.substring(F.sha2(F.concat_ws("\x1f", *parts), 256), 1, 12))


def items_uri(settings: Settings) -> str:
    return settings.table_uri("ops", "review_items")


def decisions_uri(settings: Settings) -> str:
    return settings.table_uri("ops", "review_decisions")


def items(spark: SparkSession, settings: Settings):
    return ensure_table(spark, items_uri(settings), ITEM_SCHEMA)


def decisions(spark: SparkSession, settings: Settings):
    return ensure_table(spark, decisions_uri(settings), DECISION_SCHEMA)


def open_items(spark: SparkSession, settings: Settings, new_items: DataFrame) -> None:
    """Open items not opened before (`new_items`: ITEM_SCHEMA columns but status/decision_id)."""
    rows = new_items.select(*[c for c in ITEM_SCHEMA.fieldNames() if c not in ("status", "decision_id")],
                            F.lit("open").alias("status"), F.lit(None).cast("string").alias("decision_id"))
    insert_new(items(spark, settings), rows, ["review_id"])


def open_match_items(spark: SparkSession, settings: Settings, entity: str, pairs: DataFrame, run_id: str) -> None:
    """Open a "match" item per pair of `entity` records (`pairs`: subject "id_l|id_r|company", detail)."""
    open_items(spark, settings, pairs.select(
        review_id(F.lit(MATCH_KIND), F.lit(entity), F.col("subject")).alias("review_id"), F.lit(MATCH_KIND).alias("kind"),
        F.lit("silver").alias("system"), F.lit(entity).alias("stream"), "subject", F.lit(None).cast("int").alias("contract_version"),
        F.concat(F.lit(f"same {entity}? "), F.col("detail")).alias("detail"), F.lit(run_id).alias("opened_run"),
        F.current_timestamp().alias("opened_at")))


@dataclass(frozen=True)
class Decision:
    decision: str  # approve | reject
    reason: str
    by: str = ""

    def __post_init__(self) -> None:
        if self.decision not in ("approve", "reject"):
            raise ReviewError(f"decision {self.decision!r}: use approve or reject")
        if not self.reason.strip():
            raise ReviewError("a decision needs a reason (--reason '...'): the audit records why")


def record_decisions(spark: SparkSession, settings: Settings, decision: Decision, targets: list[tuple[str, str, str]]) -> str:
    """Append one audit row per decided target (target_kind, target_id, effect); returns the decision id."""
    decision_id = "d-" + uuid.uuid4().hex[:12]
    decided_at = datetime.now(timezone.utc)
    by = decision.by or getpass.getuser()
    rows = [(decision_id, decided_at, by, decision.decision, kind, target, decision.reason, effect) for kind, target, effect in targets]
    decisions(spark, settings)
    spark.createDataFrame(rows, DECISION_SCHEMA).write.format("delta").mode("append").save(decisions_uri(settings))
    mark(settings, "decided", decided_at)
    return decision_id


# -- when decisions were last taken and last applied: what the review-applied DAG compares, without Spark --

def _mark_path(settings: Settings, name: str) -> tuple[pafs.FileSystem, str]:
    filesystem, root = warehouse_filesystem(settings)
    return filesystem, f"{root}/_state/review/{name}.json"


def mark(settings: Settings, name: str, at: datetime) -> None:
    """Record `at` as the instant of the latest `name` ("decided": a decision; "replayed": a replay's start)."""
    filesystem, path = _mark_path(settings, name)
    filesystem.create_dir(path.rsplit("/", 1)[0], recursive=True)
    write_atomically(filesystem, path, orjson.dumps({"at": at.isoformat()}))


def marked(settings: Settings, name: str) -> datetime | None:
    filesystem, path = _mark_path(settings, name)
    try:
        with filesystem.open_input_stream(path, compression=None) as source:
            return datetime.fromisoformat(orjson.loads(source.read())["at"])
    except FileNotFoundError:
        return None


def decisions_waiting(settings: Settings) -> bool:
    """Whether a reviewer decided anything since the last replay started (approved records wait for one; a
    drift approved waits for one; a match decided applies at the next normalize, which a replay runs too)."""
    decided, replayed = marked(settings, "decided"), marked(settings, "replayed")
    return decided is not None and (replayed is None or decided >= replayed)


def close_item(spark: SparkSession, settings: Settings, item_id: str, decision: Decision, decision_id: str) -> None:
    status = "approved" if decision.decision == "approve" else "rejected"
    items(spark, settings).update(
        condition=(F.col("review_id") == item_id) & (F.col("status") == "open"),
        set={"status": F.lit(status), "decision_id": F.lit(decision_id)},
    )


# -- the reviewer's actions (the CLI and the data-quality notebook call these) ---------------------------

@dataclass(frozen=True)
class Outcome:
    decision_id: str
    decided: int
    effects: list[str]


def _read_landing_line(settings: Settings, payload_ref: str) -> dict:
    """The landed record a bronze quarantine row points at (for `show` and for drafting a contract)."""
    filesystem, root = warehouse_filesystem(settings)
    file, _, line = payload_ref.rpartition("#")
    with filesystem.open_input_stream(f"{root}/{file}", compression=None) as stream:
        lines = gzip.decompress(stream.read()).splitlines()
    return orjson.loads(lines[int(line) - 1])


def show_payload(settings: Settings, payload_ref: str) -> dict:
    """A quarantined record as a reviewer may see it: PII tokenized like bronze does."""
    line = _read_landing_line(settings, payload_ref)
    key = pii_key(settings)
    record = line.get("record")
    try:
        system, stream = payload_ref.split("/")[1:3]
        contract = ContractStore(approved=warehouse_filesystem(settings)).latest(system, stream)
        return {**line, "record": protect(record, contract, key)}
    except (ContractError, ValueError, TypeError, AttributeError):
        return {**line, "record": protect_text(orjson.dumps(record).decode(), key)}


def decide_item(spark: SparkSession, settings: Settings, item_id: str, decision: Decision) -> Outcome:
    found = items(spark, settings).toDF().where(F.col("review_id") == item_id).collect()
    if not found:
        raise ReviewError(f"no review item {item_id}: `groundswell review list` shows the open ones")
    item = found[0]
    if item["status"] != "open":
        raise ReviewError(f"review item {item_id} is already {item['status']} (decision {item['decision_id']})")
    if item["kind"] == MATCH_KIND:
        linked = "linked" if decision.decision == "approve" else "kept apart"
        effect = f"{item['stream']} pair {item['subject']} {linked} from the next normalize on"
        decision_id = record_decisions(spark, settings, decision, [(MATCH_KIND, item_id, effect)])
        close_item(spark, settings, item_id, decision, decision_id)
        return Outcome(decision_id, 1, [effect])
    return _decide_drift(spark, settings, item, decision)


def _decide_drift(spark: SparkSession, settings: Settings, item, decision: Decision) -> Outcome:
    """Approve: write the contract's next version accepting the change, so `replay` admits the records.
    Reject: the change is not acceptable; its quarantined records are rejected with it."""
    item_id = item["review_id"]
    waiting = quarantine.select(spark, settings, quarantine.Selection(kind="drift", rule=item["subject"], system=item["system"]))
    waiting = waiting.where((F.col("stream") == item["stream"]) & (F.col("contract_version") == item["contract_version"]))
    if decision.decision == "approve":
        store = ContractStore(approved=warehouse_filesystem(settings))
        current = store.get(item["system"], item["stream"], item["contract_version"])
        example = waiting.select("payload_ref").first()
        sample = _read_landing_line(settings, example["payload_ref"])["record"] if example else {}
        written = store.write_next(evolve(current, [item["subject"]], [], sample))
        effect = f"contract {written.system}/{written.stream} v{written.version} accepts {item['subject']}"
        decision_id = record_decisions(spark, settings, decision, [("drift", item_id, effect)])
    else:
        ids = [r["quarantine_id"] for r in waiting.select("quarantine_id").collect()]
        effect = f"{len(ids)} quarantined records rejected with the change"
        decision_id = record_decisions(spark, settings, decision, [("drift", item_id, effect)])
        if ids:
            quarantine.decide(spark, settings, ids, "rejected", decision_id)
    close_item(spark, settings, item_id, decision, decision_id)
    return Outcome(decision_id, 1, [effect])


def decide_quarantined(spark: SparkSession, settings: Settings, ids: list[str], decision: Decision) -> Outcome:
    """Approve admits the records as they are at the next replay; reject discards them for good."""
    if not ids:
        raise ReviewError("nothing selected: give quarantine ids or a --kind/--rule/--system selection that matches waiting rows")
    status = "approved" if decision.decision == "approve" else "rejected"
    effect = "admitted by the next replay" if status == "approved" else "discarded, never replayed"
    decision_id = record_decisions(spark, settings, decision, [("quarantine", i, effect) for i in ids])
    quarantine.decide(spark, settings, ids, status, decision_id)
    return Outcome(decision_id, len(ids), [f"{len(ids)} quarantined records {effect}"])


def decide(spark: SparkSession, settings: Settings, targets: list[str], decision: Decision) -> list[Outcome]:
    """Decide review items (r-...) one by one and quarantined records (any other id) together: what the CLI's
    `review approve|reject` and the data-quality notebook both do, into the same audit table."""
    item_ids = [t for t in targets if t.startswith("r-")]
    record_ids = [t for t in targets if not t.startswith("r-")]
    if not targets:
        raise ReviewError("nothing to decide: give review ids, quarantine ids, or --kind/--rule/--system")
    outcomes = [decide_item(spark, settings, item, decision) for item in item_ids]
    if record_ids:
        outcomes.append(decide_quarantined(spark, settings, record_ids, decision))
    return outcomes
