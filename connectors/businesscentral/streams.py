"""Business Central API v2.0 streams: one entity set each, documents with their lines expanded inline.

BC keeps no tombstones (a deleted record, or a cancelled order, is simply absent), so there is no deletes
stream; a voided invoice or credit memo stays listed with status "Canceled".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from connectors.base import Stream
from connectors.dates import parse_instant


@dataclass(frozen=True)
class BusinessCentralStream(Stream):
    lines: str | None = None  # the navigation property `$expand`ed so a document arrives with its lines


def _updated_at(record: dict[str, Any]) -> datetime | None:
    return parse_instant(record.get("lastModifiedDateTime"))


def _stream(entity_set: str, entity: str, lines: str | None = None) -> BusinessCentralStream:
    return BusinessCentralStream(name=entity_set, entity=entity, key=itemgetter("id"), updated_at=_updated_at, lines=lines)


STREAMS: tuple[BusinessCentralStream, ...] = (
    _stream("customers", "customer"),
    _stream("vendors", "vendor"),
    _stream("items", "product"),
    _stream("salesOrders", "sales_order", "salesOrderLines"),
    _stream("salesInvoices", "invoice", "salesInvoiceLines"),
    _stream("salesCreditMemos", "credit_note", "salesCreditMemoLines"),
    _stream("purchaseOrders", "purchase_order", "purchaseOrderLines"),
    _stream("customerPayments", "payment"),
)


def streams_for(entities: tuple[str, ...]) -> list[BusinessCentralStream]:
    return [stream for stream in STREAMS if stream.entity in entities]
