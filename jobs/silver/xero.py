"""Xero Accounting → canonical entities: sales invoices (ACCREC; supplier bills stay in bronze), credit
notes, payments, purchase orders, contacts (customers and suppliers) and items. Deleted, voided and
archived records arrive as full records in their own streams. Dates are Microsoft JSON dates."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.silver.mapping import Fields, Mapping, money, ref_id, struct_of, text
from schemas.canonical.entities import DocumentLine

SYSTEM = "xero"

INVOICE_STATUS = {"DRAFT": "open", "SUBMITTED": "open", "AUTHORISED": "open", "PAID": "paid", "VOIDED": "void", "DELETED": "void"}
PO_STATUS = {"DRAFT": "open", "SUBMITTED": "open", "AUTHORISED": "open", "BILLED": "received", "DELETED": "cancelled"}


def _lines(p: Column) -> Column:
    return F.transform(p["LineItems"], lambda line, i: struct_of(
        DocumentLine,
        line_no=i + 1,
        product_id=ref_id(SYSTEM, "product", line["Item"]["ItemID"]),
        sku=text(line["ItemCode"]),
        description=text(line["Description"]),
        quantity=F.coalesce(money(line["Quantity"]), F.lit(0)),
        unit_price=F.coalesce(money(line["UnitAmount"]), F.lit(0)),
        amount=money(line["LineAmount"]),
        tax_amount=F.coalesce(money(line["TaxAmount"]), F.lit(0)),
    ))


def _document(p: Column, f: Fields, id_field: str, number_field: str, party: str = "customer") -> dict[str, Column]:
    lines = _lines(p)
    f.problem(F.exists(lines, lambda line: line["amount"].isNull()), "not-a-number", "LineItems[].LineAmount", "LineItems[].LineAmount is not a number")
    return {
        "source_id": p[id_field],
        "number": text(p[number_field]),
        "party_id": ref_id(SYSTEM, party, p["Contact"]["ContactID"]),
        "issued_at": f.ms_instant("Date", p["Date"]),
        "source_updated_at": f.ms_instant("UpdatedDateUTC", p["UpdatedDateUTC"], required=False),
        "currency": f.required("CurrencyCode", F.upper(text(p["CurrencyCode"]))),
        "subtotal": f.decimal("SubTotal", p["SubTotal"]),
        "tax_total": f.decimal("TotalTax", p["TotalTax"]),
        "total": f.decimal("Total", p["Total"]),
        "lines": lines,
        "is_deleted": text(p["Status"]) == "DELETED",
    }


def invoice(p: Column, f: Fields) -> dict[str, Column]:
    columns = _document(p, f, "InvoiceID", "InvoiceNumber")
    status = f.enum("Status", p["Status"], INVOICE_STATUS)
    paid = F.coalesce(money(p["AmountPaid"]), F.lit(0))
    return columns | {
        "status": F.when((status == "open") & (paid > 0), "partially_paid").otherwise(status),
        "due_on": F.to_date(f.ms_instant("DueDate", p["DueDate"], required=False)),
        "balance": f.decimal("AmountDue", p["AmountDue"], required=False),
        "reference": text(p["Reference"]),
    }


def credit_note(p: Column, f: Fields) -> dict[str, Column]:
    columns = _document(p, f, "CreditNoteID", "CreditNoteNumber")
    return columns | {
        "status": f.enum("Status", p["Status"], INVOICE_STATUS),
        "applies_to_invoice_id": ref_id(SYSTEM, "invoice", F.get(p["Allocations"], 0)["Invoice"]["InvoiceID"]),
    }


def purchase_order(p: Column, f: Fields) -> dict[str, Column]:
    columns = _document(p, f, "PurchaseOrderID", "PurchaseOrderNumber", party="vendor")
    return columns | {
        "status": f.enum("Status", p["Status"], PO_STATUS),
        "expected_on": F.to_date(f.ms_instant("DeliveryDate", p["DeliveryDate"], required=False)),
    }


def payment(p: Column, f: Fields) -> dict[str, Column]:
    return {
        "source_id": p["PaymentID"],
        "party_id": ref_id(SYSTEM, "customer", p["Invoice"]["Contact"]["ContactID"]),
        "invoice_id": ref_id(SYSTEM, "invoice", p["Invoice"]["InvoiceID"]),
        "paid_at": f.ms_instant("Date", p["Date"]),
        "source_updated_at": f.ms_instant("UpdatedDateUTC", p["UpdatedDateUTC"], required=False),
        "currency": f.required("Invoice.CurrencyCode", F.upper(text(p["Invoice"]["CurrencyCode"]))),
        "amount": f.decimal("Amount", p["Amount"]),
        "is_deleted": text(p["Status"]) == "DELETED",
    }


def _contact(p: Column, f: Fields) -> dict[str, Column]:
    with_country = F.filter(p["Addresses"], lambda address: text(address["Country"]).isNotNull())
    return {
        "source_id": p["ContactID"],
        "country": text(F.get(with_country, 0)["Country"]),
        "source_updated_at": f.ms_instant("UpdatedDateUTC", p["UpdatedDateUTC"], required=False),
        "is_deleted": text(p["ContactStatus"]) == "ARCHIVED",
    }


def customer(p: Column, f: Fields) -> dict[str, Column]:
    phones = F.filter(p["Phones"], lambda phone: text(phone["PhoneNumber"]).isNotNull())
    return _contact(p, f) | {
        "name_token": f.required("Name", text(p["Name"])),
        "email_token": text(p["EmailAddress"]),
        "phone_token": text(F.get(phones, 0)["PhoneNumber"]),
    }


def supplier(p: Column, f: Fields) -> dict[str, Column]:
    return _contact(p, f) | {"name": f.required("Name", text(p["Name"]))}


def item(p: Column, f: Fields) -> dict[str, Column]:
    return {
        "source_id": p["ItemID"],
        "sku": text(p["Code"]),
        "name": f.required("Name", text(p["Name"])),
        "unit_price": f.decimal("SalesDetails.UnitPrice", p["SalesDetails"]["UnitPrice"], required=False),
        "source_updated_at": f.ms_instant("UpdatedDateUTC", p["UpdatedDateUTC"], required=False),
    }


def _sales(p: Column) -> Column:
    return text(p["Type"]).isin("ACCREC", "ACCRECCREDIT")


def _customer(p: Column) -> Column:
    return text(p["IsCustomer"]) == "true"


def _supplier(p: Column) -> Column:
    return text(p["IsSupplier"]) == "true"


MAPPINGS = (
    *(Mapping(SYSTEM, stream, "invoice", invoice, keep=_sales) for stream in ("Invoices", "Invoices_deleted")),
    *(Mapping(SYSTEM, stream, "credit_note", credit_note, keep=_sales) for stream in ("CreditNotes", "CreditNotes_voided", "CreditNotes_deleted")),
    *(Mapping(SYSTEM, stream, "purchase_order", purchase_order) for stream in ("PurchaseOrders", "PurchaseOrders_deleted")),
    *(Mapping(SYSTEM, stream, "payment", payment) for stream in ("Payments", "Payments_deleted")),
    *(Mapping(SYSTEM, stream, "customer", customer, keep=_customer) for stream in ("Contacts", "Contacts_archived")),
    *(Mapping(SYSTEM, stream, "vendor", supplier, keep=_supplier) for stream in ("Contacts", "Contacts_archived")),
    Mapping(SYSTEM, "Items", "product", item),
)
