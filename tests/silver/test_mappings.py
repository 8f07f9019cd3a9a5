"""Every mapping of every system resolves against its stream's contract (each field it reads is one the
contract lists) and yields its canonical entity's schema: checked on empty frames, so a typo fails here in
seconds rather than in a pipeline run."""

from __future__ import annotations

import pytest

from jobs.bronze.ingest import bronze_schema
from jobs.silver import fx
from jobs.silver.normalize import SYSTEMS, _document_lines, all_versions, normalize_rows, table_schema
from schemas.contracts import ContractStore

pytestmark = pytest.mark.slow

MAPPINGS = [mapping for module in SYSTEMS.values() for mapping in module.MAPPINGS]


@pytest.mark.parametrize("mapping", MAPPINGS, ids=[f"{m.system}/{m.stream}" for m in MAPPINGS])
def test_given_a_mapping_when_analysed_against_its_contract_then_it_yields_the_canonical_schema(spark, mapping):
    store = ContractStore()
    empty = spark.createDataFrame([], bronze_schema())
    rates = spark.createDataFrame([], fx.SCHEMA)
    rows, lines = _document_lines(empty, empty, mapping, store) if mapping.lines else (empty, None)
    result = normalize_rows(rows, mapping, all_versions(store, mapping.system, mapping.stream), rates, lines)
    expected = {f.name: f.dataType.simpleString() for f in table_schema(mapping.entity)}
    assert {f.name: f.dataType.simpleString() for f in result.schema if f.name in expected} == expected
    assert {"problems", "_bronze"} <= set(result.columns)
