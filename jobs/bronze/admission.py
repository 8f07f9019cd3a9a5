"""What bronze does to one landed record: protect its PII, check it against its source contract, and
either admit it (with its shape fingerprint and any additive drift) or reject it with the field and rule.

Runs inside Spark tasks (`mapInArrow` over landing files), so it is plain Python over bytes: each task
reads its landing files itself from the warehouse filesystem, line numbers and all.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import orjson
import pyarrow as pa
from pyarrow import fs as pafs

from connectors.base import is_error
from jobs.ops.quarantine import quarantine_id
from schemas.contracts import Contract, ContractError, ContractStore, check, fingerprint, protect, protect_text, shape

#: One row per landed record, admitted (kind null) or rejected.
OUTCOME = pa.schema([
    ("system", pa.string()), ("stream", pa.string()), ("entity", pa.string()), ("company_id", pa.string()),
    ("record_key", pa.string()), ("source_updated_at", pa.timestamp("us", tz="UTC")),
    ("payload", pa.string()), ("payload_sha256", pa.string()),
    ("extract_run_id", pa.string()), ("landing_file", pa.string()), ("landing_line", pa.int32()),
    ("contract_version", pa.int32()), ("shape_fingerprint", pa.string()), ("additive_paths", pa.list_(pa.string())),
    ("review_decision", pa.string()),
    ("quarantine_id", pa.string()), ("kind", pa.string()), ("rule", pa.string()), ("reason", pa.string()),
])

#: One row per landing file (part) to read; `lines` null = every line, else only those (a replay);
#: `review_decision` set = a reviewer approved these lines as they are.
PARTS = pa.schema([
    ("landing_file", pa.string()), ("system", pa.string()), ("stream", pa.string()), ("entity", pa.string()),
    ("company_id", pa.string()), ("extract_run_id", pa.string()), ("sha256", pa.string()),
    ("lines", pa.list_(pa.int32())), ("review_decision", pa.string()),
])

BATCH_ROWS = 8192


@dataclass(frozen=True)
class Part:
    landing_file: str  # relative to the warehouse root
    system: str
    stream: str
    entity: str
    company_id: str
    extract_run_id: str
    sha256: str | None = None  # of the file, from the manifest; None when replaying single lines
    lines: frozenset[int] | None = None
    review_decision: str | None = None


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Admission:
    """Decides every line of the parts it is given; one per Spark task (contracts are cached per stream)."""

    def __init__(self, filesystem: pafs.FileSystem, root: str, contracts: ContractStore, pii_key: bytes) -> None:
        self.filesystem, self.root, self.contracts, self.pii_key = filesystem, root, contracts, pii_key
        self._latest: dict[tuple[str, str], Contract | ContractError] = {}

    def contract(self, system: str, stream: str) -> Contract:
        found = self._latest.get((system, stream))
        if found is None:
            try:
                found = self.contracts.latest(system, stream)
            except ContractError as exc:
                found = exc
            self._latest[(system, stream)] = found
        if isinstance(found, ContractError):
            raise found
        return found

    def rows(self, part: Part) -> Iterator[dict]:
        with self.filesystem.open_input_stream(f"{self.root}/{part.landing_file}", compression=None) as stream:
            compressed = stream.read()
        if part.sha256 is not None and _sha(compressed) != part.sha256:
            row = self._row(part, 0)
            yield self._reject(row, "parse", "landing-checksum", f"{part.landing_file} does not match the sha256 of its manifest: the file was changed or cut after landing; re-extract the run", _sha(compressed))
            return
        for number, line in enumerate(gzip.decompress(compressed).splitlines(), start=1):
            if part.lines is None or number in part.lines:
                yield self.decide(part, number, line)

    @staticmethod
    def _row(part: Part, number: int) -> dict:
        return {
            "system": part.system, "stream": part.stream, "entity": part.entity, "company_id": part.company_id,
            "extract_run_id": part.extract_run_id, "landing_file": part.landing_file, "landing_line": number,
            "record_key": None, "source_updated_at": None, "payload": None, "payload_sha256": None,
            "contract_version": None, "shape_fingerprint": None, "additive_paths": None,
            "review_decision": part.review_decision, "quarantine_id": None, "kind": None, "rule": None, "reason": None,
        }

    def decide(self, part: Part, number: int, raw: bytes) -> dict:
        row = self._row(part, number)
        try:
            line = orjson.loads(raw)
            record = line["record"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            return self._reject(row, "parse", "landing-line", f"line {number} of {part.landing_file} is not a landing line ({exc}): re-extract the run", _sha(raw))
        if line.get("error") is not None or is_error(record):
            reason = line.get("error") or record["_error"]["reason"]
            text = protect_text(orjson.dumps(record).decode(), self.pii_key)
            return self._reject(row, "parse", "unreadable", f"the connector could not read this record: {reason}", _sha(text.encode()))
        row["record_key"] = line.get("key")
        row["source_updated_at"] = _instant(line.get("updated_at"))
        try:
            contract = self.contract(part.system, part.stream)
        except ContractError as exc:
            return self._reject(row, "contract", "no-contract", str(exc), _sha(raw))
        payload = orjson.dumps(protect(record, contract, self.pii_key), option=orjson.OPT_SORT_KEYS)
        row.update(payload_sha256=_sha(payload), contract_version=contract.version, shape_fingerprint=fingerprint(shape(record)))
        found = check(record, contract)
        row["additive_paths"] = sorted(found.additive) or None
        problems = [("contract", f) for f in found.violations] + [("drift", f) for f in found.breaking]
        if problems and part.review_decision is None:
            kind, first = problems[0]
            reason = "; ".join(f.message for _, f in problems)
            return self._reject(row, kind, first.rule, f"{reason} (contract {part.system}/{part.stream} v{contract.version})", row["payload_sha256"])
        row["payload"] = payload.decode()
        row["quarantine_id"] = quarantine_id("bronze", part.system, part.stream, part.company_id, row["record_key"], row["payload_sha256"])
        return row

    def _reject(self, row: dict, kind: str, rule: str, reason: str, sha: str) -> dict:
        row.update(kind=kind, rule=rule, reason=reason, payload_sha256=sha,
                   quarantine_id=quarantine_id("bronze", row["system"], row["stream"], row["company_id"], row["record_key"], sha))
        return row

    def outcomes(self, parts: Iterable[Part]) -> Iterator[pa.RecordBatch]:
        rows: list[dict] = []
        for part in parts:
            for row in self.rows(part):
                rows.append(row)
                if len(rows) >= BATCH_ROWS:
                    yield pa.RecordBatch.from_pylist(rows, schema=OUTCOME)
                    rows = []
        if rows:
            yield pa.RecordBatch.from_pylist(rows, schema=OUTCOME)


def parts_of(batches: Iterable[pa.RecordBatch]) -> Iterator[Part]:
    for batch in batches:
        for row in batch.to_pylist():
            lines = row.pop("lines")
            yield Part(**row, lines=frozenset(lines) if lines is not None else None)
