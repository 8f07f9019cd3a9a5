"""Landing: what a connector read, as immutable compressed JSON-lines files plus a manifest per run.

    <root>/landing/<system>/<stream>/company=<id>/run=<run_id>/part-00000.jsonl.gz ... _manifest.json

Each line is {"key", "updated_at", "error", "record"}: the source's record untouched, beside the key and
update time its connector read from it (connectors/extract.py's `landing_line`).

The manifest is written last and makes the run complete: bronze ingests only runs that have one, so a run
killed half-way leaves nothing ingestible behind and its rerun loses nothing. Files are gzip with a zero
mtime, so the same records give the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pyarrow import fs as pafs

MANIFEST = "_manifest.json"


def run_folder(root: str, system: str, stream: str, company_id: str, run_id: str) -> str:
    return f"{root}/landing/{system}/{stream}/company={company_id}/run={run_id}"


def write_atomically(filesystem: pafs.FileSystem, path: str, data: bytes) -> None:
    """Whole or not at all: a local file is written beside and renamed; an S3 PUT is atomic already.
    (compression=None: pyarrow would otherwise gzip a ".gz" path a second time.)"""
    if isinstance(filesystem, pafs.LocalFileSystem):
        temporary = f"{path}.tmp"
        with filesystem.open_output_stream(temporary, compression=None) as out:
            out.write(data)
        filesystem.move(temporary, path)
    else:
        with filesystem.open_output_stream(path, compression=None) as out:
            out.write(data)


@dataclass
class _Part:
    name: str
    records: int
    sha256: str
    bytes: int


@dataclass
class LandingWriter:
    """Writes one stream's records of one run; `part_records` bounds a file (and the memory of one part)."""

    filesystem: pafs.FileSystem
    folder: str
    part_records: int = 50_000
    parts: list[_Part] = field(default_factory=list)
    records: int = 0
    _buffer: io.BytesIO = field(default_factory=io.BytesIO)
    _gzip: gzip.GzipFile | None = None
    _in_part: int = 0

    def __post_init__(self) -> None:
        self.filesystem.create_dir(self.folder, recursive=True)

    def write(self, records: list[Any]) -> None:
        for record in records:
            if self._gzip is None:
                self._buffer = io.BytesIO()
                self._gzip = gzip.GzipFile(fileobj=self._buffer, mode="wb", mtime=0)
            self._gzip.write(orjson.dumps(record) + b"\n")
            self._in_part += 1
            self.records += 1
            if self._in_part >= self.part_records:
                self._close_part()

    def _close_part(self) -> None:
        if self._gzip is None:
            return
        self._gzip.close()
        data = self._buffer.getvalue()
        name = f"part-{len(self.parts):05d}.jsonl.gz"
        write_atomically(self.filesystem, f"{self.folder}/{name}", data)
        self.parts.append(_Part(name, self._in_part, hashlib.sha256(data).hexdigest(), len(data)))
        self._gzip, self._in_part = None, 0

    def finish(self, **manifest: Any) -> dict[str, Any]:
        """Close the last part and write the manifest (counts, checksums and whatever the run reports)."""
        self._close_part()
        document = {
            "records": self.records,
            "files": [part.__dict__ for part in self.parts],
            **manifest,
        }
        write_atomically(self.filesystem, f"{self.folder}/{MANIFEST}", orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS, default=_default))
        return document


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
