"""Master data: one company's customers, vendors and products that are the same thing under several ids or
spellings — a record keyed in twice, a name keyed in again differently, the same party in the shop and in
the books — resolve to one master id, by probabilistic record linkage (Splink's Fellegi-Sunter model: u
estimated from random pairs, m by expectation maximisation).

Splink runs on its DuckDB backend over the entity tables pulled from silver: master data is small beside
the documents, and pairs never cross a company (every blocking rule includes company_id). The m
probabilities start from priors (LINKAGES) and are learnt by EM where there are enough pairs to learn from.

Pairs the model is sure of (p ≥ `master.link_probability`) are linked; pairs in the uncertain band
(`master.review_probability` ≤ p < link) are kept apart and become review items; a reviewer's approval or
rejection of a pair is remembered (the decided review item) and wins over the model on every later run.
Clusters are the connected components of the linked pairs; a cluster's master id is its smallest canonical
id, so the same data always gives the same ids. Results: `silver/entity_match_pair` (every scored pair and
what was decided) and the entity tables' `master_<entity>_id`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd
import splink.comparison_library as cl
import structlog
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.clustering import cluster_pairwise_predictions_at_threshold

from jobs.ops import review
from jobs.settings import Settings
from jobs.silver.normalize import silver_uri
from jobs.tables import ensure_table, exists, set_where_differs, sync

log = structlog.get_logger("groundswell.silver.master")

SEED = 7

PAIR_SCHEMA = T.StructType([
    T.StructField("entity", T.StringType(), False),
    T.StructField("company_id", T.StringType(), False),
    T.StructField("canonical_id_l", T.StringType(), False),
    T.StructField("canonical_id_r", T.StringType(), False),
    T.StructField("match_probability", T.DoubleType(), False),
    T.StructField("agreeing", T.StringType(), False),
    T.StructField("decision", T.StringType(), False),  # linked | review | apart
    T.StructField("decided_by", T.StringType(), False),  # model | the reviewer's decision id
])


def _clean_name(column: str) -> str:
    """Case, punctuation and spacing are how people key a name, not what it is (a Spark SQL expression)."""
    return rf"trim(regexp_replace(regexp_replace(lower({column}), '[^\\p{{L}}\\p{{N}} ]', ''), '\\s+', ' '))"


@dataclass(frozen=True)
class Linkage:
    """How one entity's records are compared: the columns Splink sees, its comparisons, the blocking rules
    that propose pairs (each within a company), the ones EM trains on, and the near-certain rule whose
    matches estimate how often two records are the same."""

    entity: str
    columns: dict[str, str]  # name → Spark SQL expression over the silver row
    comparisons: tuple
    blocking: tuple[tuple[str, ...], ...]
    training: tuple[tuple[str, ...], ...]
    certain: tuple[str, ...]

    @property
    def master_column(self) -> str:
        return f"master_{self.entity}_id"


def _exact(column: str, m: float):
    return cl.ExactMatch(column).configure(m_probabilities=[m, 1 - m])


def _similar_name(m: tuple[float, float, float, float]):
    return cl.JaroWinklerAtThresholds("name", [0.97, 0.9]).configure(m_probabilities=list(m))


#: m probabilities are priors (how often a true pair agrees on the field: sources drop optional fields and
#: people re-key names) that expectation maximisation replaces wherever the data has enough pairs to learn from.
LINKAGES = (
    # Names, emails and phones are keyed tokens by now (PII never reaches silver in clear): exact token
    # equality is the evidence; tokens are of normalized values, so case and spacing variants agree.
    Linkage("customer", {"name_token": "name_token", "email_token": "email_token", "phone_token": "phone_token"},
            (_exact("name_token", 0.85), _exact("email_token", 0.93), _exact("phone_token", 0.9)),
            blocking=(("email_token",), ("phone_token",), ("name_token",)), training=(("email_token",), ("name_token",)),
            certain=("email_token", "phone_token")),
    Linkage("vendor", {"name": _clean_name("name"), "country": "country"},
            (_similar_name((0.75, 0.12, 0.08, 0.05)), _exact("country", 0.95)),
            blocking=((),), training=((),), certain=("name",)),
    Linkage("product", {"sku": "upper(trim(sku))", "name": _clean_name("name")},
            (_exact("sku", 0.95), _similar_name((0.8, 0.1, 0.05, 0.05))),
            blocking=(("sku",), ("name",)), training=(("sku",), ("name",)), certain=("sku", "name")),
)
#: Fewer candidate pairs than this under a training rule and EM keeps the priors (it needs hundreds to thousands).
MIN_TRAINING_PAIRS = 1000


def pair_uri(settings: Settings) -> str:
    return settings.table_uri("silver", "entity_match_pair")


def _rule(columns: tuple[str, ...]):
    return block_on("company_id", *columns)


def _pairs_agreeing(records: pd.DataFrame, columns: tuple[str, ...]) -> int:
    """Record pairs within a company that agree on every one of `columns` (none null)."""
    keys = ["company_id", *columns]
    sizes = records.dropna(subset=keys).groupby(keys).size()
    return int((sizes * (sizes - 1) // 2).sum())


def score_pairs(records: pd.DataFrame, linkage: Linkage) -> pd.DataFrame:
    """Candidate pairs of `records` (canonical_id, company_id and the linkage's columns) with their match
    probability and the fields that agree."""
    if len(records) < 2:
        return pd.DataFrame(columns=["canonical_id_l", "canonical_id_r", "company_id", "match_probability", "agreeing"])
    settings = SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="canonical_id", comparisons=list(linkage.comparisons),
        blocking_rules_to_generate_predictions=[_rule(c) for c in linkage.blocking], additional_columns_to_retain=["company_id"],
    )
    linker = Linker(DuckDBAPI().register(records), settings, log_level=logging.ERROR)
    if _pairs_agreeing(records, linkage.certain):
        linker.training.estimate_probability_two_random_records_match([_rule(linkage.certain)], recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=SEED)
    for columns in linkage.training:
        if _pairs_agreeing(records, columns) >= MIN_TRAINING_PAIRS:
            linker.training.estimate_parameters_using_expectation_maximisation(_rule(columns))
    scored = linker.inference.predict().as_pandas_dataframe()
    compared = list(linkage.columns)
    agreeing = scored[[f"gamma_{c}" for c in compared]].apply(lambda row: ",".join(c for c, g in zip(compared, row) if g > 0), axis=1)
    return scored.assign(company_id=scored["company_id_l"], agreeing=agreeing)[
        ["canonical_id_l", "canonical_id_r", "company_id", "match_probability", "agreeing"]]


def decide(pairs: pd.DataFrame, decided: pd.DataFrame, link: float, review_from: float) -> pd.DataFrame:
    """Each pair's decision: a reviewer's (approved → linked, rejected → apart) over the model's band.
    `decided`: canonical_id_l, canonical_id_r, status, decision_id of decided match items (pairs the model no
    longer proposes still count: a reviewer's approval links them)."""
    merged = pairs.merge(decided, on=["canonical_id_l", "canonical_id_r"], how="outer")
    merged["match_probability"] = merged["match_probability"].fillna(0.0)
    merged["company_id"] = merged["company_id_x"].fillna(merged["company_id_y"])
    merged["agreeing"] = merged["agreeing"].fillna("")
    model = pd.Series("apart", index=merged.index)
    model[merged["match_probability"] >= review_from] = "review"
    model[merged["match_probability"] >= link] = "linked"
    reviewed = merged["status"].map({"approved": "linked", "rejected": "apart"})
    merged["decision"] = reviewed.fillna(model)
    merged["decided_by"] = merged["decision_id"].where(reviewed.notna(), "model")
    return merged[["canonical_id_l", "canonical_id_r", "company_id", "match_probability", "agreeing", "decision", "decided_by"]]


def masters(records: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """canonical_id → master id: connected components of the linked pairs, named by their smallest id."""
    db = DuckDBAPI()
    edges = pairs.loc[pairs["decision"] == "linked", ["canonical_id_l", "canonical_id_r"]]
    clusters = cluster_pairwise_predictions_at_threshold(
        records[["canonical_id"]], edges, db, node_id_column_name="canonical_id").as_pandas_dataframe()
    first = clusters.groupby("cluster_id")["canonical_id"].transform("min")
    return pd.DataFrame({"canonical_id": clusters["canonical_id"], "master_id": first})


def _decided_pairs(spark: SparkSession, settings: Settings, entity: str) -> pd.DataFrame:
    decided = (review.items(spark, settings).toDF()
               .where((F.col("kind") == review.MATCH_KIND) & (F.col("stream") == entity) & (F.col("status") != "open"))
               .select(F.split("subject", r"\|").alias("ids"), "status", "decision_id"))
    left, right = F.get("ids", 0), F.get("ids", 1)  # Splink puts the smaller id left; so do decided pairs
    rows = decided.select(F.least(left, right).alias("canonical_id_l"), F.greatest(left, right).alias("canonical_id_r"),
                          F.get("ids", 2).alias("company_id"), "status", "decision_id").collect()
    return pd.DataFrame([r.asDict() for r in rows], columns=["canonical_id_l", "canonical_id_r", "company_id", "status", "decision_id"])


def _open_review_items(spark: SparkSession, settings: Settings, entity: str, pairs: pd.DataFrame, run_id: str) -> int:
    uncertain = pairs[pairs["decision"] == "review"]
    if uncertain.empty:
        return 0
    subject = uncertain["canonical_id_l"] + "|" + uncertain["canonical_id_r"] + "|" + uncertain["company_id"]
    detail = ("p=" + uncertain["match_probability"].round(4).astype(str) + "; agreeing: " + uncertain["agreeing"].replace("", "nothing"))
    review.open_match_items(spark, settings, entity, spark.createDataFrame(pd.DataFrame({"subject": subject, "detail": detail})), run_id)
    return len(uncertain)


@dataclass
class MasterSummary:
    records: dict[str, int]
    masters: dict[str, int]
    review: dict[str, int]

    def line(self) -> str:
        return ", ".join(f"{self.records[e]} {e} records → {self.masters[e]} masters ({self.review[e]} pairs to review)" for e in self.records)


def resolve(spark: SparkSession, settings: Settings, run_id: str) -> MasterSummary:
    """Score, decide and cluster every entity of LINKAGES; write the pairs and the master ids (only rows whose
    master id changes are rewritten, so a rerun changes nothing)."""
    summary = MasterSummary({}, {}, {})
    pairs_table = ensure_table(spark, pair_uri(settings), PAIR_SCHEMA, partition_by=["entity"])
    for linkage in LINKAGES:
        uri = silver_uri(settings, linkage.entity)
        if not exists(spark, uri):
            continue
        table = spark.read.format("delta").load(uri)
        records = table.select("canonical_id", "company_id", *[F.expr(sql).alias(n) for n, sql in linkage.columns.items()]).toPandas()
        pairs = decide(score_pairs(records, linkage), _decided_pairs(spark, settings, linkage.entity),
                       settings.master.link_probability, settings.master.review_probability)
        resolved = masters(records, pairs)
        pairs_frame = spark.createDataFrame(pairs.assign(entity=linkage.entity)[PAIR_SCHEMA.fieldNames()], PAIR_SCHEMA)
        sync(pairs_table, pairs_frame, ["entity", "canonical_id_l", "canonical_id_r"], scope=f"t.entity = '{linkage.entity}'")
        column = linkage.master_column
        ids = spark.createDataFrame(resolved.rename(columns={"master_id": column}), f"canonical_id string, {column} string")
        set_where_differs(spark, uri, ids, column)
        summary.records[linkage.entity] = len(records)
        summary.masters[linkage.entity] = resolved["master_id"].nunique()
        summary.review[linkage.entity] = _open_review_items(spark, settings, linkage.entity, pairs, run_id)
    log.info("master data resolved", summary=summary.line())
    return summary


def pair_records(spark: SparkSession, settings: Settings, entity: str, subject: str) -> list[dict]:
    """The two silver records of a match item (what a reviewer compares; personal values are tokens)."""
    ids = subject.split("|")[:2]
    rows = spark.read.format("delta").load(silver_uri(settings, entity)).where(F.col("canonical_id").isin(ids))
    return [r.asDict() for r in rows.orderBy("canonical_id").collect()]
