"""NetSuite (REST record API, sublists expanded) → canonical entities: sales orders, invoices, credit
memos, customer payments, purchase orders, customers, vendors and inventory items; the deletedrecord
rows of each type are tombstones. Status codes are NetSuite's one-letter transaction statuses."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.silver.mapping import Fields, Mapping, money, ref_id, struct_of, text
from schemas.canonical.entities import DocumentLine

SYSTEM = "netsuite"

SALES_ORDER_STATUS = {"A": "open", "B": "open", "C": "cancelled", "D": "open", "E": "open", "F": "fulfilled", "G": "fulfilled", "H": "fulfilled"}
INVOICE_STATUS = {"A": "open", "B": "paid", "V": "void"}
CREDIT_MEMO_STATUS = {"A": "open", "B": "paid", "V": "void"}
PURCHASE_ORDER_STATUS = {"A": "open", "B": "open", "C": "cancelled", "D": "open", "E": "open", "F": "received", "G": "received", "H": "cancelled"}


#: Currency records' names where an account kept NetSuite's defaults (refName is the record's name, which
#: is the ISO code only where the account named it so).
CURRENCY_NAMES = {"USA": "USD", "US DOLLAR": "USD", "BRITISH POUND": "GBP", "CANADIAN DOLLAR": "CAD", "EURO": "EUR"}


def currency(raw: Column) -> Column:
    name = F.upper(text(raw))
    return F.coalesce(F.create_map(*[F.lit(x) for pair in CURRENCY_NAMES.items() for x in pair])[name], name)


def _lines(p: Column) -> Column:
    return F.transform(p["item"]["items"], lambda line, i: struct_of(
        DocumentLine,
        line_no=F.coalesce(text(line["line"]).try_cast("long"), i + 1),
        product_id=ref_id(SYSTEM, "product", line["item"]["id"]),
        sku=text(line["item"]["refName"]),
        description=text(line["description"]),
        quantity=F.abs(F.coalesce(money(line["quantity"]), F.lit(0))),
        unit_price=F.coalesce(money(line["rate"]), F.lit(0)),
        amount=F.abs(money(line["amount"])),
        tax_amount=F.abs(F.coalesce(money(line["tax1Amt"]), F.lit(0))),
    ))


def _document(p: Column, f: Fields, statuses: dict[str, str], party: str = "customer") -> dict[str, Column]:
    lines = _lines(p)
    f.problem(F.exists(lines, lambda line: line["amount"].isNull()), "not-a-number", "item.items[].amount", "item.items[].amount is not a number")
    return {
        "source_id": p["id"],
        "number": text(p["tranId"]),
        "party_id": ref_id(SYSTEM, party, p["entity"]["id"]),
        "issued_at": F.coalesce(f.instant("createdDate", p["createdDate"], required=False), F.to_timestamp(f.date("tranDate", p["tranDate"]))),
        "issued_on": f.date("tranDate", p["tranDate"], required=False),
        "source_updated_at": f.instant("lastModifiedDate", p["lastModifiedDate"], required=False),
        "currency": f.required("currency.refName", currency(p["currency"]["refName"])),
        "status": f.enum("status", p["status"], statuses),
        "subtotal": f.decimal("subtotal", p["subtotal"]),
        "tax_total": F.coalesce(f.decimal("taxTotal", p["taxTotal"], required=False), F.lit(0)),
        "total": f.decimal("total", p["total"]),
        "lines": lines,
    }


def sales_order(p: Column, f: Fields) -> dict[str, Column]:
    return _document(p, f, SALES_ORDER_STATUS)


def invoice(p: Column, f: Fields) -> dict[str, Column]:
    return _document(p, f, INVOICE_STATUS) | {
        "due_on": f.date("dueDate", p["dueDate"], required=False),
        "balance": f.decimal("amountRemaining", p["amountRemaining"], required=False),
        "reference": text(p["otherRefNum"]),
    }


def credit_memo(p: Column, f: Fields) -> dict[str, Column]:
    return _document(p, f, CREDIT_MEMO_STATUS) | {
        "applies_to_invoice_id": ref_id(SYSTEM, "invoice", p["createdFrom"]["id"]),
    }


def purchase_order(p: Column, f: Fields) -> dict[str, Column]:
    return _document(p, f, PURCHASE_ORDER_STATUS, party="vendor")


def payment(p: Column, f: Fields) -> dict[str, Column]:
    applied = F.filter(p["apply"]["items"], lambda item: text(item["apply"]) == "true")
    return {
        "source_id": p["id"],
        "party_id": ref_id(SYSTEM, "customer", p["customer"]["id"]),
        "invoice_id": ref_id(SYSTEM, "invoice", F.get(applied, 0)["doc"]["id"]),
        "paid_at": F.to_timestamp(f.date("tranDate", p["tranDate"])),  # the payment's date, not when it was keyed in
        "source_updated_at": f.instant("lastModifiedDate", p["lastModifiedDate"], required=False),
        "currency": f.required("currency.refName", currency(p["currency"]["refName"])),
        "amount": f.decimal("payment", p["payment"]),
    }


def customer(p: Column, f: Fields) -> dict[str, Column]:
    return {
        "source_id": p["id"],
        "name_token": f.required("entityId", F.coalesce(text(p["companyName"]), text(p["entityId"]))),
        "is_person": text(p["isPerson"]) == "true",
        "email_token": text(p["email"]),
        "phone_token": text(p["phone"]),
        "source_updated_at": f.instant("lastModifiedDate", p["lastModifiedDate"], required=False),
        "is_deleted": text(p["isInactive"]) == "true",
    }


def vendor(p: Column, f: Fields) -> dict[str, Column]:
    return {
        "source_id": p["id"],
        "name": f.required("companyName", F.coalesce(text(p["companyName"]), text(p["entityId"]))),
        "source_updated_at": f.instant("lastModifiedDate", p["lastModifiedDate"], required=False),
        "is_deleted": text(p["isInactive"]) == "true",
    }


def item(p: Column, f: Fields) -> dict[str, Column]:
    return {
        "source_id": p["id"],
        "sku": text(p["itemId"]),
        "name": f.required("displayName", F.coalesce(text(p["displayName"]), text(p["itemId"]))),
        "category": text(p["class"]["refName"]),
        "unit_price": f.decimal("basePrice", p["basePrice"], required=False),
        "source_updated_at": f.instant("lastModifiedDate", p["lastModifiedDate"], required=False),
        "is_deleted": text(p["isInactive"]) == "true",
    }


def deleted(p: Column, f: Fields) -> dict[str, Column]:
    """A deletedrecord row: the id (its local-time deleteddate is the landing's update time, in UTC)."""
    return {"source_id": p["recordid"]}


ENTITIES = {
    "salesOrder": ("sales_order", sales_order), "invoice": ("invoice", invoice), "creditMemo": ("credit_note", credit_memo),
    "customerPayment": ("payment", payment), "purchaseOrder": ("purchase_order", purchase_order),
    "customer": ("customer", customer), "vendor": ("vendor", vendor), "inventoryItem": ("product", item),
}

MAPPINGS = (
    *(Mapping(SYSTEM, stream, entity, columns) for stream, (entity, columns) in ENTITIES.items()),
    *(Mapping(SYSTEM, f"{stream}.deleted", entity, deleted, deleted=True) for stream, (entity, _) in ENTITIES.items()),
)
