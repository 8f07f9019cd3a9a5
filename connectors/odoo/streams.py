"""Odoo's streams: the models each entity is read from, documents and their lines as separate streams.

A model holding two entities is read once per entity with the domain that tells them apart (res.partner
by customer/supplier rank, account.move and its lines by move_type), so its stream names carry the
entity. Odoo unlinks deleted records outright, so there is no deletion stream; a cancelled document is an
ordinary row with state 'cancel'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.base import Stream
from connectors.dates import parse_instant
from connectors.odoo.client import Domain


@dataclass(frozen=True)
class OdooStream:
    name: str
    model: str
    entity: str
    domain: Domain = field(default_factory=list)


_INVOICES: Domain = [("move_type", "=", "out_invoice")]
_REFUNDS: Domain = [("move_type", "=", "out_refund")]

ODOO_STREAMS = (
    OdooStream("res.partner.customer", "res.partner", "customer", [("customer_rank", ">", 0)]),
    OdooStream("res.partner.vendor", "res.partner", "vendor", [("supplier_rank", ">", 0)]),
    OdooStream("product.product", "product.product", "product"),
    OdooStream("sale.order", "sale.order", "sales_order"),
    OdooStream("sale.order.line", "sale.order.line", "sales_order"),
    OdooStream("purchase.order", "purchase.order", "purchase_order"),
    OdooStream("purchase.order.line", "purchase.order.line", "purchase_order"),
    OdooStream("account.move.invoice", "account.move", "invoice", _INVOICES),
    OdooStream("account.move.line.invoice", "account.move.line", "invoice", _INVOICES),
    OdooStream("account.move.credit_note", "account.move", "credit_note", _REFUNDS),
    OdooStream("account.move.line.credit_note", "account.move.line", "credit_note", _REFUNDS),
    OdooStream("account.payment", "account.payment", "payment"),
    OdooStream("stock.quant", "stock.quant", "inventory_snapshot"),
)
BY_NAME = {stream.name: stream for stream in ODOO_STREAMS}


def _key(row: dict[str, Any]) -> str:
    return str(row["id"])


def _updated(row: dict[str, Any]) -> datetime | None:
    return parse_instant(row.get("write_date"))  # naive UTC text, as Odoo stores every datetime


def streams(entities: tuple[str, ...]) -> list[Stream]:
    chosen = [spec for spec in ODOO_STREAMS if spec.entity in entities]
    return [Stream(spec.name, spec.entity, key=_key, updated_at=_updated) for spec in chosen]
