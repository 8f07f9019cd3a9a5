"""The CSV drop's streams: one per exported entity, keyed by the document number (invoices) or the
record's id (customers, products, which have no number)."""

from __future__ import annotations

from connectors.base import Stream
from connectors.file_drop import document_key, file_day

_KEY_FIELD = {"invoice": "number", "customer": "record_id", "product": "record_id"}


def csv_stream(entity: str) -> Stream:
    if entity not in _KEY_FIELD:
        raise ValueError(f"the CSV drop has no {entity!r} export: use one of {', '.join(_KEY_FIELD)}")
    return Stream(name=entity, entity=entity, key=document_key(_KEY_FIELD[entity]), updated_at=file_day)
