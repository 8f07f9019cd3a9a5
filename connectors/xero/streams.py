"""Xero Accounting API streams: one per listable resource, plus the filtered listings that carry deletions.

Xero keeps deleted and voided documents listed with Status DELETED / VOIDED, and a deleted contact becomes
ARCHIVED (listed only with includeArchived=true); the `deletes` streams ask for exactly those, so tombstones
arrive as their own stream. A deleted item is simply gone: Xero exposes nothing to capture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

from connectors.base import Stream
from connectors.dates import parse_instant


@dataclass(frozen=True)
class XeroStream(Stream):
    resource: str = ""  # path segment under /api.xro/2.0 and the envelope's key
    params: dict[str, str] = field(default_factory=dict)  # fixed filters (Statuses, where, includeArchived)
    paged: bool = True  # False for Items: Xero never pages it, one request answers everything


def _updated_at(record: dict[str, Any]) -> datetime | None:
    return parse_instant(record.get("UpdatedDateUTC"))


def _stream(name: str, entity: str, resource: str, id_field: str, *, deletes: bool = False,
            params: dict[str, str] | None = None, paged: bool = True) -> XeroStream:
    return XeroStream(
        name=name, entity=entity, key=itemgetter(id_field), updated_at=_updated_at, deletes=deletes,
        resource=resource, params=params or {}, paged=paged,
    )


_DELETED = 'Status=="DELETED"'
_VOIDED = 'Status=="VOIDED"'

#: Every stream, each tagged with the canonical entities that make a connection want it.
STREAMS: tuple[tuple[frozenset[str], XeroStream], ...] = (
    (frozenset({"invoice"}), _stream("Invoices", "invoice", "Invoices", "InvoiceID")),
    (frozenset({"invoice"}), _stream("Invoices_deleted", "invoice", "Invoices", "InvoiceID", deletes=True,
                                     params={"Statuses": "DELETED,VOIDED"})),
    (frozenset({"credit_note"}), _stream("CreditNotes", "credit_note", "CreditNotes", "CreditNoteID")),
    (frozenset({"credit_note"}), _stream("CreditNotes_deleted", "credit_note", "CreditNotes", "CreditNoteID",
                                         deletes=True, params={"where": _DELETED})),
    (frozenset({"credit_note"}), _stream("CreditNotes_voided", "credit_note", "CreditNotes", "CreditNoteID",
                                         deletes=True, params={"where": _VOIDED})),
    (frozenset({"purchase_order"}), _stream("PurchaseOrders", "purchase_order", "PurchaseOrders", "PurchaseOrderID")),
    (frozenset({"purchase_order"}), _stream("PurchaseOrders_deleted", "purchase_order", "PurchaseOrders",
                                            "PurchaseOrderID", deletes=True, params={"status": "DELETED"})),
    (frozenset({"payment"}), _stream("Payments", "payment", "Payments", "PaymentID")),
    (frozenset({"payment"}), _stream("Payments_deleted", "payment", "Payments", "PaymentID", deletes=True,
                                     params={"where": _DELETED})),
    # Customers and suppliers are both Contacts (IsCustomer / IsSupplier): one stream feeds both entities.
    (frozenset({"customer", "vendor"}), _stream("Contacts", "customer", "Contacts", "ContactID")),
    (frozenset({"customer", "vendor"}), _stream("Contacts_archived", "customer", "Contacts", "ContactID",
                                                deletes=True, params={"includeArchived": "true",
                                                                      "where": 'ContactStatus=="ARCHIVED"'})),
    (frozenset({"product"}), _stream("Items", "product", "Items", "ItemID", paged=False)),
)


def streams_for(entities: tuple[str, ...]) -> list[XeroStream]:
    """The streams a connection extracting `entities` reads, in declaration order."""
    wanted = set(entities)
    return [stream for feeds, stream in STREAMS if feeds & wanted]
