"""Index templates, derived from the document schemas (documents.py) and versioned with the code: a change
of mapping bumps VERSION, which names new indices (publish.py), so a publication never mixes mappings.

Strings are keywords (exact filters, terms aggregations); descriptive names are text with a keyword
sub-field; dates and timestamps are dates; counts are longs; published values are doubles, which hold the
values gold rounded exactly. (Not scaled floats: they live in the mapper-extras module, which the integration
build of Elasticsearch we test against leaves out; a template must install on any cluster.)"""

from __future__ import annotations

from pyspark.sql import types as T

from jobs.search.documents import NAMES, SCHEMAS

VERSION = 1


def _field(field: T.StructField) -> dict:
    kind = field.dataType.elementType if isinstance(field.dataType, T.ArrayType) else field.dataType
    if field.name in NAMES:
        return {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}
    if isinstance(kind, T.StringType):
        return {"type": "keyword"}
    if isinstance(kind, T.DateType):
        return {"type": "date", "format": "strict_date"}
    if isinstance(kind, T.TimestampType):
        return {"type": "date"}
    if isinstance(kind, (T.LongType, T.IntegerType)):
        return {"type": "long"}
    return {"type": "double"}


def mapping(kind: str) -> dict:
    """The explicit, strict mapping of one document type."""
    return {"dynamic": "strict", "_meta": {"groundswell_template_version": VERSION},
            "properties": {f.name: _field(f) for f in SCHEMAS[kind].fields}}


def template_name(prefix: str, kind: str) -> str:
    return f"{prefix}-{kind}"


def template(prefix: str, kind: str) -> dict:
    """The body of the composable index template for `kind`'s indices (`<prefix>-<kind>-*`)."""
    return {
        "index_patterns": [f"{prefix}-{kind}-*"],
        "version": VERSION,
        "priority": 200,
        "template": {"settings": {"number_of_shards": 1, "number_of_replicas": 0}, "mappings": mapping(kind)},
        "_meta": {"description": f"Groundswell {kind} documents (jobs/search/documents.py)"},
    }
