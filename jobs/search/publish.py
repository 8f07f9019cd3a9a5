"""Publishing gold into Elasticsearch: every publication writes new indices and moves the aliases analysts and
Kibana read in one atomic `_aliases` call, keeping earlier publications' indices for rollback.

A publication is named by the template version, the gold vintage and a checksum of its documents
(`v1-gold-20261207t...-3fa2c1d0`), one index per document type under it (`groundswell-trends-<name>`). So
publishing what is already published changes nothing; publishing again after a failure refills the same
indices under the same deterministic ids; a revision (a new vintage, new health or quarantine counts) gets
indices of its own and the aliases move only once every document of it is in. Documents are bulk-indexed from
the Spark partitions that hold them (the driver never collects a table), retrying 429 and 5xx with backoff;
a document still refused is reported by id and reason and the aliases stay where they were."""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import structlog
from elasticsearch import Elasticsearch, helpers
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.gold.build import current, health_uri, publication_uri, trend_uri
from jobs.gold.facts import GRAINS
from jobs.ops import quarantine
from jobs.search import templates
from jobs.search.documents import SCHEMAS, Taxonomy, digest, health_documents, quarantine_documents, trend_documents
from jobs.settings import Settings
from jobs.tables import exists

log = structlog.get_logger("groundswell.search")

KINDS = tuple(SCHEMAS)
RETRY_ON = (429, 500, 502, 503, 504)
CHUNK = 1000


class PublishError(RuntimeError):
    """Nothing to publish, nothing to roll back to, or documents Elasticsearch refused."""


def client(settings: Settings) -> Elasticsearch:
    return Elasticsearch(settings.elasticsearch.url, request_timeout=60, max_retries=3, retry_on_timeout=True)


def alias(settings: Settings, kind: str) -> str:
    return f"{settings.elasticsearch.prefix}-{kind}"


def index_name(settings: Settings, kind: str, publication: str) -> str:
    return f"{alias(settings, kind)}-{publication}"


@dataclass
class IndexSummary:
    publication: str
    state: str  # published, unchanged, rolled back
    documents: dict[str, int] = field(default_factory=dict)
    previous: str | None = None
    seconds: float = 0.0

    def line(self) -> str:
        counts = ", ".join(f"{kind} {n}" for kind, n in self.documents.items())
        moved = f" (aliases moved from {self.previous})" if self.previous else ""
        return f"index: publication {self.publication} {self.state}{moved}: {counts} documents in {self.seconds:.1f} s"


def documents(spark: SparkSession, settings: Settings) -> tuple[str, dict[str, DataFrame]]:
    """The gold vintage being published and its documents of each type."""
    if not exists(spark, publication_uri(settings)):
        raise PublishError("gold has published nothing yet: run `groundswell build-gold` first")
    vintage = spark.read.format("delta").load(publication_uri(settings)).agg(F.max("vintage")).first()[0]
    cells = [current(spark.read.format("delta").load(trend_uri(settings, g))) for g in GRAINS if exists(spark, trend_uri(settings, g))]
    health = spark.read.format("delta").load(health_uri(settings))
    rejected = quarantine.table(spark, settings).toDF()
    return vintage, {"trends": trend_documents(functools.reduce(DataFrame.unionByName, cells), Taxonomy.load()),
                     "health": health_documents(health), "quarantine": quarantine_documents(rejected)}


def _publication(vintage: str, digests: dict[str, tuple[int, int]]) -> str:
    checksum = hashlib.sha256(repr((templates.VERSION, sorted(digests.items()))).encode()).hexdigest()[:8]
    return f"v{templates.VERSION}-{vintage}-{checksum}".lower()


def _bulk_partition(url: str, index: str, rows: Iterator) -> Iterator[tuple[int, list[dict]]]:
    """Index one Spark partition's documents; yields (indexed, refused documents with their reasons)."""
    es = Elasticsearch(url, request_timeout=120, max_retries=3, retry_on_timeout=True)
    indexed, refused = 0, []
    actions = ({"_index": index, "_id": row["_id"], "_source": row["_source"]} for row in rows)
    for ok, item in helpers.streaming_bulk(es, actions, chunk_size=CHUNK, max_retries=5, initial_backoff=0.5, max_backoff=30,
                                           retry_on_status=RETRY_ON, raise_on_error=False, raise_on_exception=False):
        if ok:
            indexed += 1
        else:
            outcome = next(iter(item.values()))
            error = outcome.get("error")
            reason = error.get("reason", error) if isinstance(error, dict) else error
            refused.append({"id": outcome.get("_id"), "status": outcome.get("status"), "error": str(reason)[:500]})
    es.close()
    yield indexed, refused


def _fill(es: Elasticsearch, settings: Settings, index: str, docs: DataFrame) -> int:
    """Create `index` (its template gives the mapping) and bulk-index `docs` into it from their partitions."""
    if not es.indices.exists(index=index):
        es.indices.create(index=index, settings={"refresh_interval": "-1"})
    results = docs.rdd.mapPartitions(functools.partial(_bulk_partition, settings.elasticsearch.url, index)).collect()
    es.indices.put_settings(index=index, settings={"refresh_interval": None})
    es.indices.refresh(index=index)
    refused = [r for _, part in results for r in part]
    for document in refused:
        log.error("document refused", index=index, **document)
    if refused:
        shown = "; ".join(f"{r['id']}: {r['status']} {r['error']}" for r in refused[:5])
        raise PublishError(f"{len(refused)} documents of {index} were refused (each is logged; the aliases did not move): {shown}")
    return sum(n for n, _ in results)


def _holders(es: Elasticsearch, settings: Settings, kind: str) -> list[str]:
    """The indices `kind`'s alias points at (none before the first publication)."""
    if not es.indices.exists_alias(name=alias(settings, kind)):
        return []
    return sorted(es.indices.get_alias(name=alias(settings, kind)).body)


def current_publication(es: Elasticsearch, settings: Settings) -> str | None:
    holders = _holders(es, settings, "trends")
    return holders[0].removeprefix(alias(settings, "trends") + "-") if holders else None


def publications(es: Elasticsearch, settings: Settings) -> list[str]:
    """Publications still kept, oldest first (by when their trends index was created)."""
    found = es.indices.get_settings(index=f"{alias(settings, 'trends')}-*", name="index.creation_date", allow_no_indices=True).body
    ordered = sorted(found, key=lambda name: int(found[name]["settings"]["index"]["creation_date"]))
    return [name.removeprefix(alias(settings, "trends") + "-") for name in ordered]


def _move_aliases(es: Elasticsearch, settings: Settings, publication: str) -> None:
    """Point every alias at `publication`'s index in one request: readers see the old one or the new one, never a mix."""
    actions = []
    for kind in KINDS:
        actions += [{"remove": {"index": holder, "alias": alias(settings, kind)}} for holder in _holders(es, settings, kind)]
        actions.append({"add": {"index": index_name(settings, kind, publication), "alias": alias(settings, kind), "is_write_index": False}})
    es.indices.update_aliases(actions=actions)


def _prune(es: Elasticsearch, settings: Settings, live: str) -> None:
    """Delete the publications beyond the newest `keep` (never the live one)."""
    kept = publications(es, settings)
    for old in kept[: max(0, len(kept) - settings.elasticsearch.keep)]:
        if old != live:
            es.indices.delete(index=",".join(index_name(settings, kind, old) for kind in KINDS), ignore_unavailable=True)
            log.info("publication deleted", publication=old)


def install_templates(es: Elasticsearch, settings: Settings) -> None:
    for kind in KINDS:
        es.indices.put_index_template(name=templates.template_name(settings.elasticsearch.prefix, kind),
                                      **templates.template(settings.elasticsearch.prefix, kind))


def publish(spark: SparkSession, settings: Settings) -> IndexSummary:
    """Publish gold's current cells, data health and quarantine counts; a no-op when they are what is live."""
    started = time.monotonic()
    vintage, docs = documents(spark, settings)
    digests = {kind: digest(frame) for kind, frame in docs.items()}
    name = _publication(vintage, digests)
    es = client(settings)
    summary = IndexSummary(name, "unchanged", {kind: n for kind, (n, _) in digests.items()})
    live = current_publication(es, settings)
    if live != name:
        install_templates(es, settings)
        for kind, frame in docs.items():
            summary.documents[kind] = _fill(es, settings, index_name(settings, kind, name), frame)
        _move_aliases(es, settings, name)
        summary.state, summary.previous = "published", live
        _prune(es, settings, name)
    summary.seconds = time.monotonic() - started
    log.info("search index", summary=summary.line())
    return summary


def rollback(settings: Settings) -> IndexSummary:
    """Move the aliases back to the publication before the live one."""
    started = time.monotonic()
    es = client(settings)
    live, kept = current_publication(es, settings), publications(es, settings)
    if live is None or live not in kept or kept.index(live) == 0:
        raise PublishError(f"no earlier publication is kept to roll back to (kept: {', '.join(kept) or 'none'}; live: {live or 'none'})")
    target = kept[kept.index(live) - 1]
    _move_aliases(es, settings, target)
    counts = {kind: es.count(index=alias(settings, kind))["count"] for kind in KINDS}
    return IndexSummary(target, "rolled back", counts, live, time.monotonic() - started)
