"""CSV file drops: the daily customer, product and invoice exports of small-business tools.

Files: `<drop_dir>/**/<entity>*YYYYMMDD*.csv`. Each file's dialect comes from its header row (see
reader.py), or from the connection's `csv_dialect` setting when the tool is known. Records are the
rows under our neutral field names with the source's cell text; malformed rows come as error records
(connectors/file_drop.py).
"""

from __future__ import annotations

from typing import Any

from connectors.base import Stream
from connectors.csv_drop.dialect import CsvDialect, default_dialects
from connectors.csv_drop.reader import read_export
from connectors.csv_drop.streams import csv_stream
from connectors.file_drop import DropFile, FileDropConnector

__all__ = ["CsvDropConnector"]


class CsvDropConnector(FileDropConnector):
    system = "csv"

    def streams(self) -> list[Stream]:
        return [csv_stream(entity) for entity in self.connection.entities]

    def matches(self, stream: Stream, name: str) -> bool:
        lowered = name.lower()
        return lowered.startswith(stream.name) and lowered.endswith(".csv")

    def parse(self, stream: Stream, drop: DropFile, raw: bytes) -> list[dict[str, Any]]:
        return read_export(drop, raw, stream.entity, default_dialects(), known=self._known_dialect())

    def _known_dialect(self) -> CsvDialect | None:
        name = self.connection.settings.get("csv_dialect")
        if name is None:
            return None
        dialects = default_dialects().dialects
        if name not in dialects:
            raise ValueError(f"{self.connection.id}: csv_dialect {name!r} is not in dialects.toml: use one of "
                             f"{', '.join(sorted(dialects))}, or leave it out to sniff each file")
        return dialects[name]
