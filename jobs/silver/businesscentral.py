"""Business Central (API v2.0, OData) → canonical entities: sales orders, invoices and credit memos and
purchase orders (lines expanded into the document), customers, vendors and items. Documents carry a
date, not an instant: they are dated at midnight UTC of it. Customer payments are journal lines without
a currency of their own (the invoice's applies), so they wait for the invoice join in reconciliation."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.silver.mapping import Fields, Mapping, money, ref_id, struct_of, text
from schemas.canonical.entities import DocumentLine

SYSTEM = "businesscentral"

INVOICE_STATUS = {"Draft": "open", "In Review": "open", "Open": "open", "Paid": "paid", "Canceled": "void", "Corrective": "void"}
#: How Business Central writes "no date".
BLANK_DATE = ("0001-01-01",)
ORDER_STATUS = {"Draft": "open", "In Review": "open", "Open": "open", "Released": "open"}


def _lines(p: Column, lines: str) -> Column:
    items = F.filter(p[lines], lambda line: F.coalesce(text(line["lineType"]), F.lit("Item")) == "Item")
    return F.transform(items, lambda line, i: struct_of(
        DocumentLine,
        line_no=i + 1,
        product_id=ref_id(SYSTEM, "product", line["itemId"]),
        description=text(line["description"]),
        quantity=F.coalesce(money(line["quantity"]), F.lit(0)),
        unit_price=F.coalesce(money(line["unitPrice"]), F.lit(0)),
        amount=money(line["amountExcludingTax"]),
        tax_amount=F.coalesce(money(line["totalTaxAmount"]), F.lit(0)),
    ))


def _document(p: Column, f: Fields, date_field: str, lines_field: str, party: tuple[str, str] = ("customer", "customerId")) -> dict[str, Column]:
    lines = _lines(p, lines_field)
    f.problem(F.exists(lines, lambda line: line["amount"].isNull()), "not-a-number", f"{lines_field}[].amountExcludingTax",
              f"{lines_field}[].amountExcludingTax is not a number")
    entity, ref = party
    return {
        "source_id": p["id"],
        "number": text(p["number"]),
        "party_id": ref_id(SYSTEM, entity, p[ref]),
        "issued_at": F.to_timestamp(f.date(date_field, p[date_field])),
        "source_updated_at": f.instant("lastModifiedDateTime", p["lastModifiedDateTime"], required=False),
        "currency": f.required("currencyCode", F.upper(text(p["currencyCode"]))),
        "subtotal": f.decimal("totalAmountExcludingTax", p["totalAmountExcludingTax"]),
        "tax_total": f.decimal("totalTaxAmount", p["totalTaxAmount"]),
        "total": f.decimal("totalAmountIncludingTax", p["totalAmountIncludingTax"]),
        "lines": lines,
    }


def sales_order(p: Column, f: Fields) -> dict[str, Column]:
    status = f.enum("status", p["status"], ORDER_STATUS)
    return _document(p, f, "orderDate", "salesOrderLines") | {
        "status": F.when(text(p["fullyShipped"]) == "true", "fulfilled").otherwise(status),
    }


def sales_invoice(p: Column, f: Fields) -> dict[str, Column]:
    columns = _document(p, f, "invoiceDate", "salesInvoiceLines")
    status = f.enum("status", p["status"], INVOICE_STATUS)
    remaining = f.decimal("remainingAmount", p["remainingAmount"], required=False)
    return columns | {
        "status": F.when((status == "open") & (remaining < columns["total"]) & (remaining > 0), "partially_paid").otherwise(status),
        "due_on": f.date("dueDate", p["dueDate"], required=False, blank=BLANK_DATE),
        "balance": remaining,
        "reference": text(p["externalDocumentNumber"]),
    }


def sales_credit_memo(p: Column, f: Fields) -> dict[str, Column]:
    return _document(p, f, "creditMemoDate", "salesCreditMemoLines") | {
        "status": f.enum("status", p["status"], INVOICE_STATUS),
    }


def purchase_order(p: Column, f: Fields) -> dict[str, Column]:
    status = f.enum("status", p["status"], ORDER_STATUS)
    return _document(p, f, "orderDate", "purchaseOrderLines", party=("vendor", "vendorId")) | {
        "status": F.when(text(p["fullyReceived"]) == "true", "received").otherwise(status),
        "expected_on": f.date("requestedReceiptDate", p["requestedReceiptDate"], required=False, blank=BLANK_DATE),
    }


def customer(p: Column, f: Fields) -> dict[str, Column]:
    return {
        "source_id": p["id"],
        "name_token": f.required("displayName", text(p["displayName"])),
        "is_person": text(p["type"]) == "Person",
        "email_token": text(p["email"]),
        "phone_token": text(p["phoneNumber"]),
        "country": text(p["country"]),
        "source_updated_at": f.instant("lastModifiedDateTime", p["lastModifiedDateTime"], required=False),
    }


def vendor(p: Column, f: Fields) -> dict[str, Column]:
    return {
        "source_id": p["id"],
        "name": f.required("displayName", text(p["displayName"])),
        "country": text(p["country"]),
        "source_updated_at": f.instant("lastModifiedDateTime", p["lastModifiedDateTime"], required=False),
    }


def item(p: Column, f: Fields) -> dict[str, Column]:
    return {
        "source_id": p["id"],
        "sku": text(p["number"]),
        "name": f.required("displayName", text(p["displayName"])),
        "category": text(p["itemCategoryCode"]),
        "unit_price": f.decimal("unitPrice", p["unitPrice"], required=False),
        "source_updated_at": f.instant("lastModifiedDateTime", p["lastModifiedDateTime"], required=False),
    }


MAPPINGS = (
    Mapping(SYSTEM, "salesOrders", "sales_order", sales_order),
    Mapping(SYSTEM, "salesInvoices", "invoice", sales_invoice),
    Mapping(SYSTEM, "salesCreditMemos", "credit_note", sales_credit_memo),
    Mapping(SYSTEM, "purchaseOrders", "purchase_order", purchase_order),
    Mapping(SYSTEM, "customers", "customer", customer),
    Mapping(SYSTEM, "vendors", "vendor", vendor),
    Mapping(SYSTEM, "items", "product", item),
)
