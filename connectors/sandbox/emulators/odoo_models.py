"""How Odoo 17 shows the sandbox's records: each served model's fields and the rows a record gives it.

Rows carry Odoo's wire conventions: datetimes as 'YYYY-MM-DD HH:MM:SS' in UTC, dates as 'YYYY-MM-DD'
(invoice dates in the company's time zone), many2one as [id, display name], x2many as id lists, and
False for anything empty. Lines (sale.order.line, purchase.order.line, account.move.line) are not
records of their own in the sandbox: a document's lines get ids `document id × 1000 + n`, the write
date of their document, and come from reading the document, as Odoo's order_line / line_ids list them.

Documents map onto Odoo's states: a cancelled sale or purchase is state 'cancel'; a voided invoice is
a cancelled move ('cancel', amounts kept, nothing left to pay); invoices are posted with
payment_state not_paid / partial / paid from their balance; credit notes are out_refund moves whose
reversed_entry_id is the invoice. Each weekly stock count is its own stock.quant row.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timezone
from typing import Any

from connectors.sandbox.emulators.odoo_domain import ODOO_DATETIME
from connectors.sandbox.emulators.wire import local_date, parse_instant, zone
from connectors.sandbox.model import Company, Record
from connectors.sandbox.store import SandboxStore

LINE_IDS_PER_DOCUMENT = 1000
_STOCK = [8, "WH/Stock"]
_INCOME, _TAX, _RECEIVABLE = [21, "400000 Product Sales"], [14, "251000 Tax Received"], [6, "121000 Account Receivable"]
_PAYMENT_METHODS = {"card": [3, "Card"], "bank_transfer": [1, "Manual"], "check": [4, "Checks"]}
_CURRENCY_IDS = {"EUR": 1, "USD": 2, "GBP": 3, "CAD": 4, "JPY": 5, "AUD": 6, "SGD": 7}

Field = tuple[str, str, str | None]  # (type, label, relation)


@dataclass(frozen=True)
class Model:
    name: str
    description: str
    entities: tuple[str, ...]  # neutral entities whose records give this model's rows
    fields: dict[str, Field]
    rows: Callable[[Renderer, Record], list[dict[str, Any]]]
    parent: str | None = None  # line models: the many2one to the document a line belongs to

    @property
    def types(self) -> dict[str, str]:
        return {name: field[0] for name, field in self.fields.items()}


class Renderer:
    """One call's view of one company: its time zone, and the names of referenced records looked up once."""

    def __init__(self, store: SandboxStore, system: str, company: Company, now: Any) -> None:
        self._store = store
        self._system = system
        self.company = company
        self.tz = zone(company.timezone)
        self._now = now
        self._names: dict[tuple[str, str], Any] = {}

    def reference(self, entity: str, record_id: Any) -> list[Any] | bool:
        """A many2one to another record: [id, display name], or False when there is none."""
        if record_id in (None, False, ""):
            return False
        key = (entity, str(record_id))
        if key not in self._names:
            found = self._store.get(self._system, self.company.company_id, entity, str(record_id), as_of=self._now)
            body = found.body if found else {}
            name = body.get("number") or body.get("name")
            if entity == "product" and found:
                name = f"[{body.get('sku')}] {body.get('name')}"
            self._names[key] = name or False
        return [_id(record_id), self._names[key]]

    def common(self, record: Record) -> dict[str, Any]:
        return {"id": _id(record.record_id), "create_date": odoo_datetime(record.created_at),
                "write_date": odoo_datetime(record.updated_at)}

    def company_ref(self) -> list[Any]:
        return [1, self.company.name]

    def date(self, instant: Any) -> Any:
        return local_date(instant, self.tz) if instant else False


def odoo_datetime(value: Any) -> Any:
    """Odoo's datetimes: naive UTC text to the second ('2026-01-05 15:00:00')."""
    instant = parse_instant(value)
    if instant is None:
        return value if value is not None else False
    return instant.astimezone(timezone.utc).strftime(ODOO_DATETIME)


def _id(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.isdigit() else value


def currency(code: Any) -> list[Any] | bool:
    if not code:
        return False
    known = _CURRENCY_IDS.get(str(code).upper())
    return [known or 100 + zlib.crc32(str(code).encode()) % 900, code]


def line_id(record: Record, position: int) -> Any:
    parent = _id(record.record_id)
    return parent * LINE_IDS_PER_DOCUMENT + position if isinstance(parent, int) else f"{parent}-{position}"


def document_id(line: int) -> int:
    return line // LINE_IDS_PER_DOCUMENT


def _sum(*values: Any) -> Any:
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return round(sum(numbers), 2) if len(numbers) == len(values) else False


def _product_ref(line: dict[str, Any]) -> list[Any] | bool:
    if not line.get("product_id"):
        return False
    return [_id(line["product_id"]), f"[{line.get('sku')}] {line.get('description')}"]


# -- partners and products -------------------------------------------------------------------------------


def _partner(view: Renderer, record: Record) -> list[dict[str, Any]]:
    body = record.body
    address = body.get("address") if isinstance(body.get("address"), dict) else {}
    country = address.get("country")
    region = address.get("region")
    return [{
        **view.common(record),
        "name": body.get("name"),
        "display_name": body.get("name"),
        "email": body.get("email", False),
        "phone": body.get("phone", False),
        "street": address.get("line1", False),
        "city": address.get("city", False),
        "zip": address.get("postal_code", False),
        "state_id": [1 + zlib.crc32(f"{country}/{region}".encode()) % 5000, f"{region} ({country})"]
        if region else False,
        "country_id": [1 + zlib.crc32(str(country).encode()) % 250, country] if country else False,
        "country_code": country or False,
        "is_company": True,
        "customer_rank": int(record.entity == "customer"),
        "supplier_rank": int(record.entity == "vendor"),
        "active": True,
        "company_id": view.company_ref(),
    }]


def _product(view: Renderer, record: Record) -> list[dict[str, Any]]:
    body = record.body
    category = body.get("category")
    return [{
        **view.common(record),
        "name": body.get("name"),
        "display_name": f"[{body.get('sku')}] {body.get('name')}",
        "default_code": body.get("sku", False),
        "categ_id": [1 + zlib.crc32(str(category).encode()) % 500, f"All / {category}"],
        "list_price": body.get("unit_price"),
        "standard_price": body.get("unit_cost"),
        "taxes_id": [1] if body.get("taxable") else [],
        "type": "product",
        "detailed_type": "product",
        "uom_id": [1, "Units"],
        "product_tmpl_id": [_id(record.record_id), body.get("name")],
        "active": True,
        "company_id": view.company_ref(),
    }]


# -- sales and purchases ------------------------------------------------------------------------------------

_SALE_STATES = {"open": ("sale", "to invoice"), "fulfilled": ("sale", "invoiced"), "cancelled": ("cancel", "no")}
_PURCHASE_STATES = {"open": ("purchase", "pending"), "received": ("purchase", "full"), "cancelled": ("cancel", False)}


def _order(view: Renderer, record: Record, party_entity: str) -> dict[str, Any]:
    body = record.body
    return {
        **view.common(record),
        "name": body.get("number"),
        "display_name": body.get("number"),
        "partner_id": view.reference(party_entity, body.get("party_id")),
        "date_order": odoo_datetime(body.get("issued_at")),
        "currency_id": currency(body.get("currency")),
        "amount_untaxed": body.get("subtotal"),
        "amount_tax": body.get("tax_total"),
        "amount_total": body.get("total"),
        "order_line": [line_id(record, n) for n, _ in enumerate(body.get("lines", []), start=1)],
        "company_id": view.company_ref(),
    }


def _sale_order(view: Renderer, record: Record) -> list[dict[str, Any]]:
    state, invoice_status = _SALE_STATES.get(record.body.get("status"), (record.body.get("status"), False))
    return [{**_order(view, record, "customer"), "state": state, "invoice_status": invoice_status,
             "client_order_ref": record.body.get("reference", False)}]


def _purchase_order(view: Renderer, record: Record) -> list[dict[str, Any]]:
    body = record.body
    state, receipt = _PURCHASE_STATES.get(body.get("status"), (body.get("status"), False))
    due = body.get("due_on")
    return [{
        **_order(view, record, "vendor"),
        "state": state,
        "receipt_status": receipt,
        "invoice_status": "to invoice" if receipt == "full" else "no",
        "date_planned": f"{due} 00:00:00" if due else False,
    }]


def _order_lines(view: Renderer, record: Record) -> list[dict[str, Any]]:
    body = record.body
    status = body.get("status")
    done = status in ("fulfilled", "received")
    order_ref = [_id(record.record_id), body.get("number")]
    rows = []
    for position, line in enumerate(body.get("lines", []), start=1):
        quantity = line.get("quantity")
        row = {
            "id": line_id(record, position),
            "order_id": order_ref,
            "sequence": 10 * position,
            "product_id": _product_ref(line),
            "name": line.get("description"),
            "price_unit": line.get("unit_price"),
            "price_subtotal": line.get("amount"),
            "price_tax": line.get("tax_amount"),
            "price_total": _sum(line.get("amount"), line.get("tax_amount")),
            "currency_id": currency(body.get("currency")),
            "create_date": odoo_datetime(record.created_at),
            "write_date": odoo_datetime(record.updated_at),
        }
        if record.entity == "sales_order":
            sale_state = _SALE_STATES.get(status, (status, False))[0]
            row.update(product_uom_qty=quantity, qty_delivered=quantity if done else 0.0,
                       qty_invoiced=quantity if done else 0.0, state=sale_state, display_type=False)
        else:
            purchase_state = _PURCHASE_STATES.get(status, (status, False))[0]
            row.update(product_qty=quantity, qty_received=quantity if done else 0.0, state=purchase_state,
                       date_planned=f"{body['due_on']} 00:00:00" if body.get("due_on") else False)
        rows.append(row)
    return rows


# -- invoices, credit notes, payments ----------------------------------------------------------------------


def _move_state(record: Record) -> tuple[str, str, Any]:
    """(state, payment_state, amount_residual) of an invoice or credit note."""
    body = record.body
    if body.get("status") == "void":
        return "cancel", "not_paid", 0.0
    total, balance = body.get("total"), body.get("balance", body.get("total"))
    if body.get("status") == "paid" or balance == 0:
        return "posted", "paid", 0.0
    if isinstance(balance, (int, float)) and isinstance(total, (int, float)) and 0 < balance < total:
        return "posted", "partial", balance
    return "posted", "not_paid", balance


def _move(view: Renderer, record: Record) -> list[dict[str, Any]]:
    body = record.body
    state, payment_state, residual = _move_state(record)
    invoice_date = view.date(body.get("issued_at"))
    lines = _move_line_rows(view, record)
    refund = record.entity == "credit_note"
    return [{
        **view.common(record),
        "name": body.get("number"),
        "display_name": body.get("number"),
        "move_type": "out_refund" if refund else "out_invoice",
        "state": state,
        "payment_state": payment_state,
        "partner_id": view.reference("customer", body.get("party_id")),
        "invoice_date": invoice_date,
        "date": invoice_date,
        "invoice_date_due": body.get("due_on", invoice_date),
        "currency_id": currency(body.get("currency")),
        "amount_untaxed": body.get("subtotal"),
        "amount_tax": body.get("tax_total"),
        "amount_total": body.get("total"),
        "amount_residual": residual,
        "invoice_line_ids": [row["id"] for row in lines if row["display_type"] == "product"],
        "line_ids": [row["id"] for row in lines],
        "ref": body.get("reference", False),
        "invoice_origin": body.get("reference", False),
        "reversed_entry_id": view.reference("invoice", body.get("applies_to")) if refund else False,
        "company_id": view.company_ref(),
    }]


def _move_line_rows(view: Renderer, record: Record) -> list[dict[str, Any]]:
    """Product lines, then the tax line and the receivable (payment term) line, as Odoo books an invoice;
    a credit note books the same lines on the other side."""
    body = record.body
    sign = -1 if record.entity == "credit_note" else 1  # invoices credit income and debit the receivable
    state = _move_state(record)[0]
    common = {
        "move_id": [_id(record.record_id), body.get("number")],
        "move_name": body.get("number"),
        "move_type": "out_refund" if record.entity == "credit_note" else "out_invoice",
        "parent_state": state,
        "partner_id": view.reference("customer", body.get("party_id")),
        "currency_id": currency(body.get("currency")),
        "date": view.date(body.get("issued_at")),
        "create_date": odoo_datetime(record.created_at),
        "write_date": odoo_datetime(record.updated_at),
    }

    def booked(position: int, kind: str, account: list[Any], amount: Any, **extra: Any) -> dict[str, Any]:
        signed = -sign * amount if isinstance(amount, (int, float)) and not isinstance(amount, bool) else amount
        debit = signed if isinstance(signed, (int, float)) and signed > 0 else 0.0
        credit = -signed if isinstance(signed, (int, float)) and signed < 0 else 0.0
        return {"id": line_id(record, position), **common, "display_type": kind, "account_id": account,
                "debit": debit, "credit": credit, "balance": signed, "amount_currency": signed,
                "product_id": False, "quantity": 0.0, "price_unit": 0.0, **extra}

    lines = body.get("lines", [])
    rows = [
        booked(position, "product", _INCOME, line.get("amount"), product_id=_product_ref(line),
               name=line.get("description"), quantity=line.get("quantity"), price_unit=line.get("unit_price"),
               price_subtotal=line.get("amount"), price_total=_sum(line.get("amount"), line.get("tax_amount")))
        for position, line in enumerate(lines, start=1)
    ]
    if body.get("tax_total"):
        rows.append(booked(len(lines) + 1, "tax", _TAX, body.get("tax_total"), name="Tax"))
    total = body.get("total")
    receivable = -total if isinstance(total, (int, float)) and not isinstance(total, bool) else total
    rows.append(booked(len(lines) + 2, "payment_term", _RECEIVABLE, receivable, name=body.get("number")))
    return rows


def _payment(view: Renderer, record: Record) -> list[dict[str, Any]]:
    body = record.body
    paid_on = view.date(body.get("paid_at"))
    year = paid_on[:4] if isinstance(paid_on, str) else "0000"
    invoice = _id(body.get("invoice_id"))
    return [{
        **view.common(record),
        "name": f"BNK1/{year}/{_id(record.record_id):05d}" if isinstance(_id(record.record_id), int) else False,
        "partner_id": view.reference("customer", body.get("party_id")),
        "partner_type": "customer",
        "payment_type": "inbound",
        "amount": body.get("amount"),
        "currency_id": currency(body.get("currency")),
        "date": paid_on,
        "state": "posted",
        "journal_id": [7, "Bank"],
        "payment_method_line_id": _PAYMENT_METHODS.get(body.get("method"), False),
        "reconciled_invoice_ids": [invoice] if invoice else [],
        "ref": False,
        "company_id": view.company_ref(),
    }]


def _quant(view: Renderer, record: Record) -> list[dict[str, Any]]:
    body = record.body
    quantity, cost = body.get("quantity_on_hand"), body.get("unit_cost")
    return [{
        **view.common(record),
        "product_id": view.reference("product", body.get("product_id")),
        "location_id": _STOCK,
        "quantity": quantity,
        "reserved_quantity": 0.0,
        "available_quantity": quantity,
        "in_date": f"{body['as_of']} 00:00:00" if body.get("as_of") else False,
        "inventory_date": body.get("as_of", False),
        "value": round(quantity * cost, 2) if all(isinstance(v, (int, float)) for v in (quantity, cost)) else False,
        "currency_id": currency(view.company.currency),
        "company_id": view.company_ref(),
    }]


# -- the served models ----------------------------------------------------------------------------------------


def _fields(**spec: str) -> dict[str, Field]:
    """Fields from 'type' or 'type:relation' specs; labels are the field names, titled."""
    out: dict[str, Field] = {}
    for name, kind in spec.items():
        field_type, _, relation = kind.partition(":")
        out[name] = (field_type, name.replace("_id", "").replace("_", " ").title(), relation or None)
    return out


_STAMPS = {"id": "integer", "create_date": "datetime", "write_date": "datetime"}
_DOCUMENT_LINE = dict(
    _STAMPS, product_id="many2one:product.product", name="text", price_unit="float", price_subtotal="monetary",
    price_tax="float", price_total="monetary", currency_id="many2one:res.currency", sequence="integer",
)

MODELS: dict[str, Model] = {
    model.name: model
    for model in (
        Model("res.partner", "Contact", ("customer", "vendor"), _fields(
            **_STAMPS, name="char", display_name="char", email="char", phone="char", street="char", city="char",
            zip="char", state_id="many2one:res.country.state", country_id="many2one:res.country",
            country_code="char", is_company="boolean", customer_rank="integer", supplier_rank="integer",
            active="boolean", company_id="many2one:res.company"), _partner),
        Model("product.product", "Product", ("product",), _fields(
            **_STAMPS, name="char", display_name="char", default_code="char", categ_id="many2one:product.category",
            list_price="float", standard_price="float", taxes_id="many2many:account.tax", type="selection",
            detailed_type="selection", uom_id="many2one:uom.uom", product_tmpl_id="many2one:product.template",
            active="boolean", company_id="many2one:res.company"), _product),
        Model("sale.order", "Sales Order", ("sales_order",), _fields(
            **_STAMPS, name="char", display_name="char", partner_id="many2one:res.partner", date_order="datetime",
            state="selection", invoice_status="selection", currency_id="many2one:res.currency",
            amount_untaxed="monetary", amount_tax="monetary", amount_total="monetary",
            order_line="one2many:sale.order.line", client_order_ref="char", company_id="many2one:res.company"),
              _sale_order),
        Model("sale.order.line", "Sales Order Line", ("sales_order",), _fields(
            **_DOCUMENT_LINE, order_id="many2one:sale.order", product_uom_qty="float", qty_delivered="float",
            qty_invoiced="float", state="selection", display_type="selection"),
              _order_lines, parent="order_id"),
        Model("purchase.order", "Purchase Order", ("purchase_order",), _fields(
            **_STAMPS, name="char", display_name="char", partner_id="many2one:res.partner", date_order="datetime",
            date_planned="datetime", state="selection", receipt_status="selection", invoice_status="selection",
            currency_id="many2one:res.currency", amount_untaxed="monetary", amount_tax="monetary",
            amount_total="monetary", order_line="one2many:purchase.order.line", company_id="many2one:res.company"),
              _purchase_order),
        Model("purchase.order.line", "Purchase Order Line", ("purchase_order",), _fields(
            **_DOCUMENT_LINE, order_id="many2one:purchase.order", product_qty="float", qty_received="float",
            state="selection", date_planned="datetime"),
              _order_lines, parent="order_id"),
        Model("account.move", "Journal Entry", ("invoice", "credit_note"), _fields(
            **_STAMPS, name="char", display_name="char", move_type="selection", state="selection",
            payment_state="selection", partner_id="many2one:res.partner", invoice_date="date", date="date",
            invoice_date_due="date", currency_id="many2one:res.currency", amount_untaxed="monetary",
            amount_tax="monetary", amount_total="monetary", amount_residual="monetary",
            invoice_line_ids="one2many:account.move.line", line_ids="one2many:account.move.line", ref="char",
            invoice_origin="char", reversed_entry_id="many2one:account.move", company_id="many2one:res.company"),
              _move),
        Model("account.move.line", "Journal Item", ("invoice", "credit_note"), _fields(
            **_STAMPS, move_id="many2one:account.move", move_name="char", move_type="selection",
            parent_state="selection", display_type="selection", account_id="many2one:account.account",
            partner_id="many2one:res.partner", product_id="many2one:product.product", name="char",
            quantity="float", price_unit="float", price_subtotal="monetary", price_total="monetary",
            debit="monetary", credit="monetary", balance="monetary", amount_currency="monetary",
            currency_id="many2one:res.currency", date="date"),
              _move_line_rows, parent="move_id"),
        Model("account.payment", "Payments", ("payment",), _fields(
            **_STAMPS, name="char", partner_id="many2one:res.partner", partner_type="selection",
            payment_type="selection", amount="monetary", currency_id="many2one:res.currency", date="date",
            state="selection", journal_id="many2one:account.journal",
            payment_method_line_id="many2one:account.payment.method.line",
            reconciled_invoice_ids="many2many:account.move", ref="char", company_id="many2one:res.company"),
              _payment),
        Model("stock.quant", "Quants", ("inventory_snapshot",), _fields(
            **_STAMPS, product_id="many2one:product.product", location_id="many2one:stock.location",
            quantity="float", reserved_quantity="float", available_quantity="float", in_date="datetime",
            inventory_date="date", value="monetary", currency_id="many2one:res.currency",
            company_id="many2one:res.company"), _quant),
    )
}
