"""`groundswell normalize-file`: one raw API response or dropped file → the canonical records silver would
hold, through the same contract parse, PII protection and mapping code as `normalize` (for data-ops
debugging: "what does this payload become, and why is it rejected?")."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from connectors.base import is_error
from connectors.csv_drop.dialect import default_dialects
from connectors.csv_drop.reader import read_export
from connectors.file_drop import DropFile
from connectors.x12_drop.documents import DOCUMENT_KINDS, read_interchanges
from jobs.silver import fx
from jobs.silver.mapping import Mapping
from jobs.silver.normalize import SYSTEMS, all_versions, normalize_rows
from jobs.tables import exists
from schemas.contracts import ContractStore, protect

#: Keys under which APIs wrap their records: OData's "value", NetSuite's "items", JSON-RPC's "result"...
_ENVELOPES = ("value", "items", "result", "records", "QueryResponse", "data")


class FileError(Exception):
    """The file is not a response or export of the system/entity asked for; the message says what was found."""


def mapping_for(system: str, entity: str) -> Mapping:
    module = SYSTEMS.get(system)
    if module is None:
        raise FileError(f"no silver mapping for system {system!r}: use one of {', '.join(sorted(SYSTEMS))}")
    found = [m for m in module.MAPPINGS if m.entity == entity and not m.deleted]
    if not found:
        raise FileError(f"{system} has no mapping to {entity!r}: it maps {', '.join(sorted({m.entity for m in module.MAPPINGS}))}")
    return found[0]


def unwrap(document: Any, stream: str) -> Iterator[dict]:
    """The records of a response, whatever the envelope: a bare record or list, `{"orders": [...]}`,
    `{"order": {...}}`, `{"QueryResponse": {"Invoice": [...]}}`, `{"value": [...]}`..."""
    if isinstance(document, list):
        for item in document:
            yield from unwrap(item, stream)
        return
    if not isinstance(document, dict):
        raise FileError(f"expected a JSON object or array of {stream} records, found {type(document).__name__}")
    for key in (stream, stream.removesuffix("s"), *_ENVELOPES):
        if key in document and isinstance(document[key], (list, dict)):
            yield from unwrap(document[key], stream)
            return
    yield document


def records(mapping: Mapping, path: Path) -> list[dict]:
    """The file's records as its connector lands them: a JSON response unwrapped, or a file drop (CSV
    export, X12 interchange) read by the drop's own reader."""
    raw = path.read_bytes()
    drop = DropFile(str(path), date.today())
    if mapping.system == "csv":
        found = read_export(drop, raw, mapping.stream, default_dialects())
    elif mapping.system == "x12":
        found = read_interchanges(drop, raw, DOCUMENT_KINDS[mapping.stream])
    else:
        try:
            found = list(unwrap(orjson.loads(raw), mapping.stream))
        except orjson.JSONDecodeError as exc:
            raise FileError(f"{path} is not JSON ({exc}): pass the API response body as it was received") from None
    readable = [r for r in found if not is_error(r)]
    if not readable:
        reasons = "; ".join(r["_error"]["reason"] for r in found if is_error(r))[:500]
        raise FileError(f"{path} holds no readable {mapping.system} {mapping.stream} records{': ' + reasons if reasons else ''}")
    return readable


def bronze_like(spark: SparkSession, mapping: Mapping, path: Path, pii_key: bytes) -> DataFrame:
    """The file's records as bronze rows would hold them (PII protected, company "file")."""
    contract = ContractStore().latest(mapping.system, mapping.stream)
    rows = []
    for line, record in enumerate(records(mapping, path), start=1):
        payload = orjson.dumps(protect(record, contract, pii_key), option=orjson.OPT_SORT_KEYS)
        key = record.get("id", record.get("record_id", record.get("number", line)))
        rows.append((mapping.system, mapping.stream, mapping.entity, "file", str(key), None, payload.decode(),
                     hashlib.sha256(payload).hexdigest(), "file", str(path), line, contract.version))
    return spark.createDataFrame(rows, "system string, stream string, entity string, company_id string, record_key string, "
                                       "source_updated_at timestamp, payload string, payload_sha256 string, extract_run_id string, "
                                       "landing_file string, landing_line int, contract_version int")


def normalize_file(spark: SparkSession, rates_uri: str, system: str, entity: str, path: Path, pii_key: bytes) -> list[dict]:
    """Canonical records (with `problems`, empty when the record maps) of the file, in file order."""
    mapping = mapping_for(system, entity)
    rows = bronze_like(spark, mapping, path, pii_key)
    rates = spark.read.format("delta").load(rates_uri) if exists(spark, rates_uri) else spark.createDataFrame([], fx.SCHEMA)
    result = normalize_rows(rows, mapping, all_versions(ContractStore(), system, mapping.stream), rates)
    ordered = result.orderBy(F.col("_bronze.landing_line")).drop("_bronze")
    return [orjson.loads(row[0]) for row in ordered.select(F.to_json(F.struct("*"))).collect()]
