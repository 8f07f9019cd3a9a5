"""EDI X12 004010 file drops: 810 invoices, 850 purchase orders, 856 ship notices.

Files: `<drop_dir>/**/<810|850|856>*YYYYMMDD*.(edi|x12|txt)`; a stream reads the files named by its
transaction set and keeps its sets. One record per set (documents.py), keyed by its document number
(BIG02, BEG03, BSN02); malformed sets and segments come as error records (connectors/file_drop.py).
"""

from __future__ import annotations

from typing import Any

from connectors.base import Stream
from connectors.file_drop import DropFile, FileDropConnector, document_key, file_day
from connectors.x12_drop.documents import DOCUMENT_KINDS, read_interchanges

__all__ = ["X12DropConnector"]

_SUFFIXES = (".edi", ".x12", ".txt")


class X12DropConnector(FileDropConnector):
    system = "x12"

    def streams(self) -> list[Stream]:
        return [
            Stream(name=kind.code, entity=kind.entity, key=document_key("number"), updated_at=file_day)
            for kind in DOCUMENT_KINDS.values() if kind.entity in self.connection.entities
        ]

    def matches(self, stream: Stream, name: str) -> bool:
        return name.startswith(stream.name) and name.lower().endswith(_SUFFIXES)

    def parse(self, stream: Stream, drop: DropFile, raw: bytes) -> list[dict[str, Any]]:
        return read_interchanges(drop, raw, DOCUMENT_KINDS[stream.name])
