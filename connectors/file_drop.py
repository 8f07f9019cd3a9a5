"""What the CSV and X12 file-drop connectors share: finding a stream's files in a drop folder (local or
s3a://) by the date in their names, reading them, and reporting what cannot be read.

Window: a file belongs to the run whose [since, until) holds its day, compared as UTC calendar days, so
a day's file is read once its day has ended (`until` past it) and contiguous windows read each day
once. A file without a YYYYMMDD in its name cannot be placed in a window and is reported.

Errors: a malformed file, row or segment never stops the rest. It is yielded in the stream's pages as
an error record, `{"_error": {"file", "line", "reason"}, "_raw": <the text concerned>}`; the runner
tells them apart with `is_error` and sends them to quarantine. `line` is the 1-based physical line.
"""

from __future__ import annotations

import asyncio
import re
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs

from connectors.base import Connector, Stream, Window, error_record, is_error
from connectors.http.client import HttpStats

_DAY_IN_NAME = re.compile(r"(?<!\d)(\d{8})(?!\d)")


@dataclass(frozen=True, slots=True)
class DropFile:
    path: str  # as the file system names it (an absolute local path or bucket/key)
    day: date  # from the file name



def source_of(drop: DropFile, line: int, **details: Any) -> dict[str, Any]:
    """The `_source` every record carries: where it was read, for lineage and replay."""
    return {"file": drop.path, "line": line, "day": drop.day.isoformat(), **details}


def document_key(field: str) -> Callable[[dict[str, Any]], str]:
    """A stream key reading `field`; an error record is keyed by its file and line."""

    def key(record: dict[str, Any]) -> str:
        if is_error(record):
            return f"{record['_error']['file']}:{record['_error']['line']}"
        return str(record[field])

    return key


def file_day(record: dict[str, Any]) -> datetime | None:
    """A drop record's update time is the day of its file (the exports carry none of their own)."""
    if is_error(record):
        return None
    return datetime.fromisoformat(record["_source"]["day"]).replace(tzinfo=UTC)


def open_drop_dir(uri: str) -> tuple[pafs.FileSystem, str]:
    """A local folder, or `s3a://bucket/prefix` (Spark's scheme; pyarrow calls it s3)."""
    if "://" in uri:
        return pafs.FileSystem.from_uri(re.sub(r"^s3a://", "s3://", uri))
    return pafs.LocalFileSystem(), str(Path(uri).resolve())


def in_window(day: date, window: Window) -> bool:
    return (window.since is None or day >= window.since.astimezone(UTC).date()) and day < window.until.astimezone(UTC).date()


class FileDropConnector(Connector):
    """Reads a stream's files of the window, oldest day first, one page per file."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.connection.drop_dir:
            raise ValueError(f"{self.connection.id}: drop_dir is required for a file-drop connection")
        self._fs, self._root = open_drop_dir(self.connection.drop_dir)
        self._stats = HttpStats()

    @property
    def stats(self) -> HttpStats:
        """Files read count as requests, their sizes as bytes received."""
        return self._stats

    @abstractmethod
    def matches(self, stream: Stream, name: str) -> bool:
        """Whether a file of this name belongs to `stream`."""

    @abstractmethod
    def parse(self, stream: Stream, drop: DropFile, raw: bytes) -> list[dict[str, Any]]:
        """One file's records and error records, never raising for what is in the file."""

    async def read(self, stream: Stream, window: Window) -> AsyncIterator[list[dict[str, Any]]]:
        files, misnamed = await asyncio.to_thread(self._files, stream, window)
        if misnamed:
            yield misnamed
        for drop in files:
            raw = await asyncio.to_thread(self._read_bytes, drop.path)
            self._stats.requests += 1
            self._stats.bytes_received += len(raw)
            page = await asyncio.to_thread(self.parse, stream, drop, raw)
            if page:
                yield page

    def _files(self, stream: Stream, window: Window) -> tuple[list[DropFile], list[dict[str, Any]]]:
        selector = pafs.FileSelector(self._root, recursive=True, allow_not_found=True)
        files, misnamed = [], []
        for info in self._fs.get_file_info(selector):
            if info.type != pafs.FileType.File or not self.matches(stream, info.base_name):
                continue
            day = _day_of(info.base_name)
            if day is None:
                misnamed.append(error_record(
                    info.path, 0, "no valid YYYYMMDD date in the file name, so no window holds it: rename it "
                    "with the day it was exported", info.base_name))
            elif in_window(day, window):
                files.append(DropFile(info.path, day))
        return sorted(files, key=lambda f: (f.day, f.path)), sorted(misnamed, key=lambda e: e["_error"]["file"])

    def _read_bytes(self, path: str) -> bytes:
        with self._fs.open_input_file(path) as file:
            return file.read()


def _day_of(name: str) -> date | None:
    match = _DAY_IN_NAME.search(name)
    if not match:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%d").date()
    except ValueError:
        return None
