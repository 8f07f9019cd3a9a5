"""Extraction cursors, kept in the warehouse (not on a worker's disk) so any machine can resume a connection.

    <root>/_state/cursors/<system>/<company_id>/<stream>.json  {"cursor": ISO instant, "run_id", "manifest"}

A cursor is advanced only after its run's manifest is durably written (connectors/extract.py), so a crash
between the two re-reads a window rather than skipping one: extraction is at-least-once; bronze's keys make
it exactly-once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from pyarrow import fs as pafs

from connectors.landing import write_atomically


@dataclass(frozen=True)
class Incremental:
    """How a stream's next window starts: from its cursor minus an overlap (records updated near the
    boundary, or committed late by the source, are re-read, never missed), or from `initial` the first time."""

    overlap: timedelta = timedelta(minutes=10)
    initial: datetime | None = None  # None: the first run reads everything

    def since(self, cursor: datetime | None) -> datetime | None:
        return cursor - self.overlap if cursor is not None else self.initial


class CursorStore:
    def __init__(self, filesystem: pafs.FileSystem, root: str) -> None:
        self._fs, self._root = filesystem, root

    def _path(self, system: str, company_id: str, stream: str) -> str:
        return f"{self._root}/_state/cursors/{system}/{company_id}/{stream}.json"

    def get(self, system: str, company_id: str, stream: str) -> datetime | None:
        path = self._path(system, company_id, stream)
        try:
            with self._fs.open_input_stream(path) as source:
                return datetime.fromisoformat(orjson.loads(source.read())["cursor"])
        except FileNotFoundError:
            return None

    def all(self) -> dict[tuple[str, str, str], datetime]:
        """(system, company_id, stream) → cursor, for every stream ever extracted."""
        folder = f"{self._root}/_state/cursors"
        if self._fs.get_file_info(folder).type == pafs.FileType.NotFound:
            return {}
        cursors = {}
        for info in self._fs.get_file_info(pafs.FileSelector(folder, recursive=True)):
            if info.type == pafs.FileType.File and info.base_name.endswith(".json"):
                system, company_id, name = info.path[len(folder) + 1:].split("/")
                with self._fs.open_input_stream(info.path) as source:
                    cursors[(system, company_id, name.removesuffix(".json"))] = datetime.fromisoformat(orjson.loads(source.read())["cursor"])
        return cursors

    def advance(self, system: str, company_id: str, stream: str, cursor: datetime, *, run_id: str, manifest: str) -> None:
        path = self._path(system, company_id, stream)
        self._fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        write_atomically(self._fs, path, orjson.dumps({"cursor": cursor.isoformat(), "run_id": run_id, "manifest": manifest}))
