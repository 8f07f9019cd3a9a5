"""The 9.x Python client against the real local Elasticsearch."""

from __future__ import annotations

import uuid

from elasticsearch import Elasticsearch, helpers

from jobs.settings import Settings


def test_given_an_explicit_mapping_when_bulk_indexed_then_search_finds_the_documents_and_delete_removes_the_index(services: Settings):
    es = Elasticsearch(services.elasticsearch.url, request_timeout=30)
    index = f"test-trends-{uuid.uuid4().hex[:8]}"
    es.indices.create(
        index=index,
        mappings={
            "dynamic": "strict",
            "properties": {
                "sector": {"type": "keyword"},
                "region": {"type": "keyword"},
                "week": {"type": "date"},
                "index_value": {"type": "double"},
            },
        },
    )
    documents = [
        {"_index": index, "_id": f"{sector}-EU-2026-03-02", "sector": sector, "region": "EU", "week": "2026-03-02", "index_value": value}
        for sector, value in [("retail", 101.5), ("software", 98.0), ("wholesale", 103.25)]
    ]
    indexed, errors = helpers.bulk(es, documents, refresh="wait_for")
    assert (indexed, errors) == (3, [])

    hits = es.search(index=index, query={"term": {"sector": "retail"}})["hits"]
    assert hits["total"]["value"] == 1
    assert hits["hits"][0]["_source"]["index_value"] == 101.5
    assert es.indices.get_mapping(index=index)[index]["mappings"]["properties"]["sector"] == {"type": "keyword"}

    es.indices.delete(index=index)
    assert not es.indices.exists(index=index)
