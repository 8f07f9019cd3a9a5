"""The analysts' questions, asked of the published aliases (what Kibana reads too): a sector × region trend
over a range, the top movers of a period, and full-text search over sector, region and product-category names.
Values come from each document's source, exactly as gold published them."""

from __future__ import annotations

from datetime import date

from elasticsearch import Elasticsearch

#: the figures a trend point shows
TREND_FIELDS = ("period", "revenue_index_usd", "revenue_index_cc", "growth_usd", "growth_cc", "yoy_usd", "yoy_cc", "growth_se",
                "contributors", "coverage", "vintage")
#: a series' identity and names, shown beside its figures
SERIES_FIELDS = ("sector", "region", "grain", "sector_name", "region_name", "categories")
MAX_PERIODS = 10_000  # a series' periods fit one page: 190 years of weeks


def trend(es: Elasticsearch, index: str, sector: str, region: str, grain: str = "week",
          start: date | None = None, end: date | None = None) -> list[dict]:
    """The published cells of one series from `start` to `end` (inclusive), oldest first."""
    period = {k: v.isoformat() for k, v in (("gte", start), ("lte", end)) if v is not None}
    filters = [{"term": {"sector": sector}}, {"term": {"region": region}}, {"term": {"grain": grain}}]
    if period:
        filters.append({"range": {"period": period}})
    hits = es.search(index=index, query={"bool": {"filter": filters}}, sort=[{"period": "asc"}], size=MAX_PERIODS,
                     source=list(TREND_FIELDS))["hits"]["hits"]
    return [hit["_source"] for hit in hits]


def latest_period(es: Elasticsearch, index: str, grain: str) -> str | None:
    found = es.search(index=index, query={"term": {"grain": grain}}, size=0, aggs={"latest": {"max": {"field": "period"}}})
    return found["aggregations"]["latest"].get("value_as_string")


def movers(es: Elasticsearch, index: str, grain: str = "week", period: date | None = None, top: int = 5,
           by: str = "growth_usd") -> dict:
    """The series that rose and fell most in `period` (default: the latest published) by `by`."""
    when = period.isoformat() if period else latest_period(es, index, grain)
    if when is None:
        return {"period": None, "by": by, "risers": [], "fallers": []}
    query = {"bool": {"filter": [{"term": {"grain": grain}}, {"term": {"period": when[:10]}}, {"exists": {"field": by}}]}}
    fields = [*SERIES_FIELDS, by, "contributors"]

    def ranked(order: str) -> list[dict]:
        hits = es.search(index=index, query=query, sort=[{by: order}, {"series": "asc"}], size=top, source=fields)["hits"]["hits"]
        return [hit["_source"] for hit in hits]

    return {"period": when[:10], "by": by, "risers": ranked("desc"), "fallers": ranked("asc")}


def text(es: Elasticsearch, index: str, words: str, grain: str = "week", size: int = 10) -> list[dict]:
    """Series whose sector, region or product-category names match `words` (typos forgiven), best first, each
    with its latest published cell."""
    query = {"bool": {"must": {"multi_match": {"query": words, "fields": ["sector_name^2", "region_name^2", "categories", "sector", "region"],
                                                "type": "most_fields", "fuzziness": "AUTO"}},
                      "filter": {"term": {"grain": grain}}}}
    found = es.search(index=index, query=query, size=size, source=list(SERIES_FIELDS),
                      collapse={"field": "series", "inner_hits": {"name": "latest", "size": 1, "sort": [{"period": "desc"}],
                                                                  "_source": list(TREND_FIELDS)}})
    return [{**hit["_source"], "score": hit["_score"], "latest": hit["inner_hits"]["latest"]["hits"]["hits"][0]["_source"]}
            for hit in found["hits"]["hits"]]
