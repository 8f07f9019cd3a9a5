"""Odoo 17 (JSON-RPC search_read) → canonical entities: sale orders, customer invoices and credit notes
(account.move), payments, purchase orders, partners and products. Odoo writes `false` for an empty value
of any type and many2one fields as [id, display name]; datetimes are UTC without an offset. Document lines
are records of their own models, joined into their document by normalize."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.silver.mapping import Fields, Lines, Mapping, money, ref_id, struct_of, text
from schemas.canonical.entities import DocumentLine

SYSTEM = "odoo"

SALE_STATE = {"draft": "open", "sent": "open", "sale": "open", "done": "fulfilled", "cancel": "cancelled"}
PURCHASE_STATE = {"draft": "open", "sent": "open", "to approve": "open", "purchase": "open", "done": "received", "cancel": "cancelled"}
PAYMENT_STATE = {"not_paid": "open", "in_payment": "paid", "paid": "paid", "partial": "partially_paid", "reversed": "void"}


def value(raw: Column) -> Column:
    """Odoo's `false` for "no value" is null; anything else is text."""
    trimmed = text(raw)
    return F.when(trimmed != "false", trimmed)


def many2one_id(raw: Column) -> Column:
    """The id of a many2one pair [id, "name"] (null when Odoo sent false)."""
    return value(F.get(raw, 0))


def _line(quantity: str, order: str) -> Callable[[Column], Column]:
    """A line record → a canonical line; `order` (sequence, or the id where a model has none) orders the
    document's lines, which normalize then numbers 1..n."""
    def line(p: Column) -> Column:
        return struct_of(
            DocumentLine,
            line_no=text(p[order]).try_cast("long"),
            product_id=ref_id(SYSTEM, "product", many2one_id(p["product_id"])),
            description=value(p["name"]),
            quantity=F.coalesce(money(p[quantity]), F.lit(0)),
            unit_price=F.coalesce(money(p["price_unit"]), F.lit(0)),
            amount=money(p["price_subtotal"]),
            tax_amount=F.coalesce(money(p["price_total"]) - money(p["price_subtotal"]), F.lit(0)),
        )
    return line


def _document(p: Column, f: Fields, issued: str, party: str = "customer") -> dict[str, Column]:
    return {
        "source_id": p["id"],
        "number": value(p["name"]),
        "party_id": ref_id(SYSTEM, party, many2one_id(p["partner_id"])),
        "issued_at": f.instant(issued, p[issued]),
        "source_updated_at": f.instant("write_date", p["write_date"], required=False),
        "currency": f.required("currency_id", F.upper(value(F.get(p["currency_id"], 1)))),
        "subtotal": f.decimal("amount_untaxed", p["amount_untaxed"]),
        "tax_total": f.decimal("amount_tax", p["amount_tax"]),
        "total": f.decimal("amount_total", p["amount_total"]),
    }


def sale_order(p: Column, f: Fields) -> dict[str, Column]:
    state = f.enum("state", p["state"], SALE_STATE)
    return _document(p, f, "date_order") | {
        "status": F.when((state == "open") & (value(p["invoice_status"]) == "invoiced"), "fulfilled").otherwise(state),
    }


def purchase_order(p: Column, f: Fields) -> dict[str, Column]:
    state = f.enum("state", p["state"], PURCHASE_STATE)
    return _document(p, f, "date_order", party="vendor") | {
        "status": F.when((state == "open") & (value(p["receipt_status"]) == "full"), "received").otherwise(state),
        "expected_on": F.to_date(f.instant("date_planned", p["date_planned"], required=False)),
    }


def _move(p: Column, f: Fields) -> dict[str, Column]:
    columns = _document(p, f, "create_date")
    invoice_date = f.date("invoice_date", p["invoice_date"], required=False)
    return columns | {
        # the accounting date, at midnight UTC; the creation instant when Odoo has none yet
        "issued_at": F.coalesce(F.to_timestamp(invoice_date), columns["issued_at"]),
        "status": F.when(value(p["state"]) == "cancel", "void").otherwise(f.enum("payment_state", p["payment_state"], PAYMENT_STATE)),
    }


def invoice(p: Column, f: Fields) -> dict[str, Column]:
    return _move(p, f) | {
        "due_on": f.date("invoice_date_due", p["invoice_date_due"], required=False),
        "balance": f.decimal("amount_residual", p["amount_residual"], required=False),
        "reference": value(p["invoice_origin"]),
    }


def credit_note(p: Column, f: Fields) -> dict[str, Column]:
    return _move(p, f) | {"applies_to_invoice_id": ref_id(SYSTEM, "invoice", many2one_id(p["reversed_entry_id"]))}


def payment(p: Column, f: Fields) -> dict[str, Column]:
    settled = F.filter(p["reconciled_invoice_ids"], lambda i: value(i).isNotNull())
    return {
        "source_id": p["id"],
        "party_id": ref_id(SYSTEM, "customer", many2one_id(p["partner_id"])),
        "invoice_id": ref_id(SYSTEM, "invoice", value(F.get(settled, 0))),
        "paid_at": F.to_timestamp(f.date("date", p["date"])),
        "source_updated_at": f.instant("write_date", p["write_date"], required=False),
        "currency": f.required("currency_id", F.upper(value(F.get(p["currency_id"], 1)))),
        "amount": f.decimal("amount", p["amount"]),
        "is_deleted": value(p["state"]) == "cancel",
    }


def customer(p: Column, f: Fields) -> dict[str, Column]:
    return {
        "source_id": p["id"],
        "name_token": f.required("name", value(p["name"])),
        "is_person": text(p["is_company"]) != "true",
        "email_token": value(p["email"]),
        "phone_token": value(p["phone"]),
        "country": value(p["country_code"]),
        "source_updated_at": f.instant("write_date", p["write_date"], required=False),
        "is_deleted": text(p["active"]) == "false",
    }


def vendor(p: Column, f: Fields) -> dict[str, Column]:
    return {
        "source_id": p["id"],
        "name": f.required("name", value(p["name"])),
        "country": value(p["country_code"]),
        "source_updated_at": f.instant("write_date", p["write_date"], required=False),
        "is_deleted": text(p["active"]) == "false",
    }


def product(p: Column, f: Fields) -> dict[str, Column]:
    return {
        "source_id": p["id"],
        "sku": value(p["default_code"]),
        "name": f.required("name", value(p["name"])),
        "category": value(F.get(p["categ_id"], 1)),
        "unit_price": f.decimal("list_price", p["list_price"], required=False),
        "source_updated_at": f.instant("write_date", p["write_date"], required=False),
        "is_deleted": text(p["active"]) == "false",
    }


def _order_lines(stream: str, quantity: str) -> Lines:
    return Lines(stream, parent=lambda p: many2one_id(p["order_id"]), line=_line(quantity, "sequence"))


def _move_lines(stream: str) -> Lines:
    """Only product lines are document lines (tax and receivable lines are the ledger's other side)."""
    return Lines(stream, parent=lambda p: F.when(value(p["display_type"]) == "product", many2one_id(p["move_id"])), line=_line("quantity", "id"))


MAPPINGS = (
    Mapping(SYSTEM, "sale.order", "sales_order", sale_order, lines=_order_lines("sale.order.line", "product_uom_qty")),
    Mapping(SYSTEM, "purchase.order", "purchase_order", purchase_order, lines=_order_lines("purchase.order.line", "product_qty")),
    Mapping(SYSTEM, "account.move.invoice", "invoice", invoice, lines=_move_lines("account.move.line.invoice")),
    Mapping(SYSTEM, "account.move.credit_note", "credit_note", credit_note, lines=_move_lines("account.move.line.credit_note")),
    Mapping(SYSTEM, "account.payment", "payment", payment),
    Mapping(SYSTEM, "res.partner.customer", "customer", customer),
    Mapping(SYSTEM, "res.partner.vendor", "vendor", vendor),
    Mapping(SYSTEM, "product.product", "product", product),
)
