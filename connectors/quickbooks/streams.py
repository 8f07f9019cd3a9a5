"""QuickBooks Online streams: one query stream per entity, and a change-data-capture stream per transaction
entity carrying its deletions.

QBO never deletes a name (customer, vendor, item): it turns Active=false, and queries list active names only
unless asked `Active IN (true, false)`, so name streams ask for both and an inactive name is its own
tombstone. A deleted transaction vanishes from queries; only CDC reports it, as a stub with
status="Deleted". A voided transaction stays listed (amounts zeroed, PrivateNote "Voided").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.base import Stream
from connectors.dates import parse_instant


@dataclass(frozen=True)
class QuickBooksStream(Stream):
    resource: str = ""  # the QBO entity name: the query's FROM, CDC's entities, the envelope's key
    names_list: bool = False  # a name list (inactive rows are listed only when the query asks for them)


def last_updated(record: dict[str, Any]) -> datetime | None:
    return parse_instant(record.get("MetaData", {}).get("LastUpdatedTime"))


def _id(record: dict[str, Any]) -> str:
    return str(record["Id"])


def _query_stream(resource: str, entity: str, *, names_list: bool = False) -> QuickBooksStream:
    return QuickBooksStream(
        name=resource, entity=entity, key=_id, updated_at=last_updated, resource=resource, names_list=names_list,
    )


def _deleted_stream(resource: str, entity: str) -> QuickBooksStream:
    return QuickBooksStream(
        name=f"{resource}_deleted", entity=entity, key=_id, updated_at=last_updated, deletes=True, resource=resource,
    )


_NAMES = {"customer": "Customer", "vendor": "Vendor", "product": "Item"}
_TRANSACTIONS = {
    "invoice": "Invoice", "payment": "Payment", "credit_note": "CreditMemo", "purchase_order": "PurchaseOrder",
}

STREAMS: dict[str, tuple[QuickBooksStream, ...]] = {
    **{entity: (_query_stream(resource, entity, names_list=True),) for entity, resource in _NAMES.items()},
    **{
        entity: (_query_stream(resource, entity), _deleted_stream(resource, entity))
        for entity, resource in _TRANSACTIONS.items()
    },
}


def streams_for(entities: tuple[str, ...]) -> list[QuickBooksStream]:
    unknown = [entity for entity in entities if entity not in STREAMS]
    if unknown:
        raise ValueError(f"QuickBooks has no stream for {', '.join(unknown)}: it serves {', '.join(STREAMS)}")
    return [stream for entity in entities for stream in STREAMS[entity]]
