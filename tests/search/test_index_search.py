"""Publication into the real local Elasticsearch from real Spark + Delta gold tables: publishing twice changes
nothing, a revision moves the aliases and keeps the old indices, rollback moves them back; searches return
exactly what gold published; refused documents and overloaded servers are reported or retried, never lost;
nothing about a single company reaches the index."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from elasticsearch import Elasticsearch
from pyspark.sql import functions as F
from typer.testing import CliRunner

from jobs.cli import app
from jobs.gold.build import current, trend_uri
from jobs.ops import quarantine
from jobs.search import publish as search
from jobs.search import query
from jobs.search.templates import mapping
from jobs.settings import ElasticsearchSettings, load_settings
from tests.search.synthetic_gold import Economy, publish_vintage

pytestmark = pytest.mark.slow

SERIES = [("retail", "EU"), ("retail", "NA"), ("food_service", "EU"), ("manufacturing", "APAC")]
WEEKS = 30
START = date(2026, 1, 5)
ECONOMY = Economy(SERIES, START, WEEKS, months=6)
COMPANY = "acme-gmbh-4711"  # a company id the quarantine holds: it must never reach the index


def _quarantine_rows(spark, settings) -> None:
    seen = datetime(2026, 11, 30, tzinfo=timezone.utc)
    rows = [(f"q{i}", "bronze", "contract", "total_is_number", f"{COMPANY}: field TotalAmt is 'n/a' for customer jane.doe@example.com",
             "quickbooks", "invoices", "invoice", COMPANY, f"{COMPANY}:Invoice:{i}", 3, f"landing/qb/{i}.json", "0" * 64, "ingest-1",
             seen, seen, 1, "open", None, None) for i in range(3)]
    spark.createDataFrame(rows, quarantine.SCHEMA).write.format("delta").mode("append").save(quarantine.uri(settings))


@pytest.fixture
def gold(spark, services, tmp_path):
    """A warehouse with one gold vintage and quarantined records; settings on an index prefix of its own."""
    prefix = "gs" + uuid.uuid4().hex[:8]
    base = load_settings("local", warehouse=str(tmp_path / "warehouse"))
    settings = base.model_copy(update={"elasticsearch": ElasticsearchSettings(url=services.elasticsearch.url, prefix=prefix, keep=3)})
    publish_vintage(spark, settings, ECONOMY, 1)
    _quarantine_rows(spark, settings)
    return settings


def _es(settings) -> Elasticsearch:
    return Elasticsearch(settings.elasticsearch.url, request_timeout=30)


def _ids(settings, kind: str) -> set[str]:
    hits = _es(settings).search(index=search.alias(settings, kind), size=10_000, source=False)["hits"]["hits"]
    return {hit["_id"] for hit in hits}


def _published(spark, settings) -> list[dict]:
    cells = current(spark.read.format("delta").load(trend_uri(settings, "week"))).where(F.col("suppressed").isNull())
    return [r.asDict() for r in cells.orderBy("sector", "region", "period").collect()]


def test_given_gold_when_published_again_revised_and_rolled_back_then_aliases_move_atomically_and_searches_match_gold(spark, gold):
    first = search.publish(spark, gold)
    published_cells = len(SERIES) * (WEEKS + 6) - 2  # a withheld cell per grain stays out
    assert (first.state, first.documents) == ("published", {"trends": published_cells, "health": 2, "quarantine": 1})
    ids = _ids(gold, "trends")
    assert "week:retail:EU:2026-01-05" in ids and len(ids) == published_cells

    again = search.publish(spark, gold)
    assert (again.state, again.publication, again.documents) == ("unchanged", first.publication, first.documents)
    assert _ids(gold, "trends") == ids

    revision = publish_vintage(spark, gold, ECONOMY, 2, bump=0.5)
    revised = search.publish(spark, gold)
    assert (revised.state, revised.previous) == ("published", first.publication)
    assert revision.lower() in revised.publication and _ids(gold, "trends") == ids
    es = _es(gold)
    assert es.indices.exists(index=search.index_name(gold, "trends", first.publication))  # kept for rollback
    assert list(es.indices.get_alias(name=search.alias(gold, "trends")).body) == [search.index_name(gold, "trends", revised.publication)]

    gold_cells = _published(spark, gold)
    for sector, region in SERIES:
        expected = [{k: c[k] for k in query.TREND_FIELDS if c[k] is not None} | {"period": c["period"].isoformat()}
                    for c in gold_cells if (c["sector"], c["region"]) == (sector, region)]
        assert query.trend(es, search.alias(gold, "trends"), sector, region) == expected
    fourth = query.trend(es, search.alias(gold, "trends"), "retail", "EU", start=START + timedelta(weeks=3), end=START + timedelta(weeks=3))
    assert [(c["vintage"], c["revenue_index_usd"]) for c in fourth] == [(revision, 102.0)]

    back = CliRunner().invoke(app, ["index", "--rollback"], env={"GROUNDSWELL_ELASTICSEARCH__PREFIX": gold.elasticsearch.prefix})
    assert back.exit_code == 0, back.output
    assert f"publication {first.publication} rolled back" in back.output
    assert search.current_publication(es, gold) == first.publication
    fourth = query.trend(es, search.alias(gold, "trends"), "retail", "EU", start=START + timedelta(weeks=3), end=START + timedelta(weeks=3))
    assert fourth[0]["revenue_index_usd"] == 101.5
    with pytest.raises(search.PublishError, match="no earlier publication"):
        search.rollback(gold)


def test_given_published_cells_when_analysts_search_then_movers_and_names_answer_from_the_published_values(spark, gold):
    search.publish(spark, gold)
    es, index = _es(gold), search.alias(gold, "trends")
    latest = START + timedelta(weeks=WEEKS - 1)
    cells = [c for c in _published(spark, gold) if c["period"] == latest]
    moved = query.movers(es, index)
    assert moved["period"] == latest.isoformat()
    assert [(m["sector"], m["region"], m["growth_usd"]) for m in moved["risers"]] == \
        [(c["sector"], c["region"], c["growth_usd"]) for c in sorted(cells, key=lambda c: (-c["growth_usd"], f"{c['sector']}/{c['region']}"))]
    assert moved["fallers"][0]["growth_usd"] == min(c["growth_usd"] for c in cells)

    assert {(s["sector"], s["region"]) for s in query.text(es, index, "beverages")} == {("food_service", "EU")}
    assert {(s["sector"], s["region"]) for s in query.text(es, index, "manufactring asia")} == {("manufacturing", "APAC")}
    named = query.text(es, index, "retail european")
    assert (named[0]["sector"], named[0]["region"]) == ("retail", "EU")
    assert named[0]["latest"]["period"] == latest.isoformat()

    cli = CliRunner().invoke(app, ["search", "trend", "retail", "NA", "--from", "2026-01-05", "--to", "2026-01-19", "--json"],
                             env={"GROUNDSWELL_ELASTICSEARCH__PREFIX": gold.elasticsearch.prefix})
    assert cli.exit_code == 0, cli.output
    assert [c["period"] for c in json.loads(cli.output)["cells"]] == ["2026-01-05", "2026-01-12", "2026-01-19"]


def test_given_the_published_indices_when_scanned_then_no_company_person_or_withheld_value_is_there(spark, gold):
    search.publish(spark, gold)
    es = _es(gold)
    for kind in search.KINDS:
        fields = set(mapping(kind)["properties"])
        for hit in es.search(index=search.alias(gold, kind), size=10_000)["hits"]["hits"]:
            document = json.dumps(hit["_source"])
            assert set(hit["_source"]) <= fields and not {"company_id", "record_key", "reason", "payload_ref"} & set(hit["_source"])
            assert COMPANY not in document and "jane.doe" not in document and "Invoice:" not in document, document
            if kind == "trends":
                assert hit["_source"]["contributors"] >= gold.gold.min_contributors
    assert not es.exists(index=search.alias(gold, "trends"), id="week:manufacturing:APAC:" + (START + timedelta(weeks=WEEKS - 1)).isoformat())


def test_given_an_index_that_refuses_documents_when_published_then_each_is_reported_and_the_aliases_stay(spark, gold):
    first = search.publish(spark, gold)
    publish_vintage(spark, gold, ECONOMY, 2, bump=0.5)
    vintage, documents = search.documents(spark, gold)
    name = search._publication(vintage, {kind: search.digest(frame) for kind, frame in documents.items()})
    _es(gold).indices.create(index=search.index_name(gold, "trends", name), mappings={"properties": {"sector": {"type": "long"}}},
                             settings={"number_of_replicas": 0})
    with pytest.raises(search.PublishError, match=r"^142 documents of .* were refused .*: week:food_service:EU:2026-01-05: 400 .*failed to parse field \[sector\]"):
        search.publish(spark, gold)
    assert search.current_publication(_es(gold), gold) == first.publication


class _Overloaded(BaseHTTPRequestHandler):
    """A proxy to Elasticsearch that answers the first bulk request 429 and the second 503, as a busy cluster does."""

    upstream = ""
    refusals = [429, 503]
    seen: list[int] = []

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.split("?")[0].endswith("/_bulk") and self.refusals:
            status = self.refusals.pop(0)
            self.seen.append(status)
            payload = json.dumps({"error": {"type": "es_rejected_execution_exception", "reason": "busy"}, "status": status}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        answer = httpx.request(self.command, self.upstream + self.path, content=body, headers=headers, timeout=60)
        self.send_response(answer.status_code)
        for key in ("Content-Type", "X-Elastic-Product"):
            if key in answer.headers:
                self.send_header(key, answer.headers[key])
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

    def log_message(self, *args) -> None:
        pass


def test_given_an_overloaded_cluster_when_published_then_bulk_requests_are_retried_with_backoff_and_nothing_is_lost(spark, gold):
    _Overloaded.upstream = gold.elasticsearch.url
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _Overloaded)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{proxy.server_address[1]}"
        through_proxy = gold.model_copy(update={"elasticsearch": gold.elasticsearch.model_copy(update={"url": url})})
        summary = search.publish(spark, through_proxy)
    finally:
        proxy.shutdown()
    assert _Overloaded.seen == [429, 503]
    assert summary.state == "published"
    assert _es(gold).count(index=search.alias(gold, "trends"))["count"] == summary.documents["trends"] == len(_ids(gold, "trends"))
