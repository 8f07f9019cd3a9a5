"""Benchmark: publishing into the real local Elasticsearch, and what analysts wait for when they search it.

    python -m tests.benchmarks.bench_search

- publication: the published cells of a 2,000-company × 2-year economy — 5 sectors × 4 regions, 105 weeks
  and 24 months, every cell resting on ~100 companies (a cell's document does not grow with its companies:
  2,000 companies publish the same 2,580 cells 200 do) — with its data health and quarantine counts, from
  gold Delta tables through `jobs.search.publish` (Spark reads, checksums, bulk from partitions, alias swap).
- throughput: the same publishing path over 250 k cells (100 sectors × 20 regions), where the documents,
  not the fixed costs, dominate: documents/s.
- queries: p50/p95 latency of `groundswell search` trend (one series over two years), movers (the latest
  week) and text (names, with a typo), 200 each, through the Python client as the CLI asks them.
Elasticsearch runs on its local defaults (`groundswell services up elasticsearch`), started here when not up.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from jobs import services
from jobs.search import publish as search
from jobs.search import query
from jobs.search.documents import Taxonomy
from jobs.settings import load_settings
from jobs.spark import spark_session
from tests.benchmarks.__main__ import record_result
from tests.search.synthetic_gold import Economy, publish_vintage

QUERIES = 200


def _published(spark, economy: Economy, folder: Path, prefix: str) -> dict[str, float]:
    settings = load_settings("local", warehouse=str(folder))
    settings = settings.model_copy(update={"elasticsearch": settings.elasticsearch.model_copy(update={"prefix": prefix})})
    publish_vintage(spark, settings, economy, 1)
    _clear(search.client(settings), prefix)
    started = time.monotonic()
    summary = search.publish(spark, settings)
    seconds = time.monotonic() - started
    assert summary.state == "published", summary.line()
    documents = sum(summary.documents.values())
    return {"documents": documents, "seconds": round(seconds, 2), "documents_per_second": round(documents / seconds, 1)}


def _clear(es, prefix: str) -> None:
    """Remove a benchmark's indices and templates (an earlier run's too: the same publication would be a no-op)."""
    names = list(es.indices.get(index=f"{prefix}-*"))
    if names:
        es.indices.delete(index=",".join(names))
    es.options(ignore_status=404).indices.delete_index_template(name=",".join(f"{prefix}-{kind}" for kind in search.KINDS))


def _latency(ask, runs: int = QUERIES) -> dict[str, float]:
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        ask()
        took.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(took, n=100)
    return {"p50_ms": round(cuts[49], 2), "p95_ms": round(cuts[94], 2)}


def main() -> int:
    settings = load_settings("local")
    started_here = services.up(settings, ["elasticsearch"])[0].state == "started"
    spark = spark_session(settings)
    taxonomy = Taxonomy.load()
    series = [(s, r) for s in taxonomy.sectors for r in taxonomy.regions]
    two_years = Economy(series, date(2024, 12, 30), weeks=105, months=24, contributors=100)
    wide = Economy([(f"sector{s:03d}", f"R{r:02d}") for s in range(100) for r in range(20)], date(2024, 12, 30), weeks=105, months=20)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-search-") as folder:
            publication = _published(spark, two_years, Path(folder) / "economy", "benchpublication")
            throughput = _published(spark, wide, Path(folder) / "wide", "benchthroughput")
        es, index = search.client(settings), "benchpublication-trends"
        rnd = random.Random(7)
        words = ["beverages", "retail european", "manufactring", "software asia", "apparel united kingdom", "office supplies"]
        latency = {
            "trend": _latency(lambda: query.trend(es, index, *rnd.choice(series), "week", date(2025, 1, 1), date(2026, 12, 31))),
            "movers": _latency(lambda: query.movers(es, index, "week")),
            "text": _latency(lambda: query.text(es, index, rnd.choice(words))),
        }
        for prefix in ("benchpublication", "benchthroughput"):
            _clear(es, prefix)
    finally:
        spark.stop()
        if started_here:
            services.down(settings, ["elasticsearch"])
    record_result("search", {"publication_2000_companies_2_years": publication, "throughput_250k_cells": throughput,
                             "query_latency": latency, "queries_each": QUERIES})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
