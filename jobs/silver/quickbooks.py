"""QuickBooks Online → canonical entities: invoices, credit memos, payments, purchase orders, customers,
vendors, items, and the CDC deletes of each (tombstones). Transactions are dated by their creation
instant (MetaData.CreateTime carries the company's UTC offset); a voided invoice keeps its number with
zero amounts and the note "Voided"."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.silver.mapping import Fields, Mapping, money, money_sum, ref_id, struct_of, text
from schemas.canonical.entities import DocumentLine

SYSTEM = "quickbooks"

#: POStatus → canonical status of a purchase order.
PO_STATUS = {"Open": "open", "Closed": "received"}


def _lines(p: Column, detail: str) -> Column:
    """Item lines only (QuickBooks adds a SubTotalLineDetail line that repeats their sum)."""
    items = F.filter(p["Line"], lambda line: text(line["DetailType"]) == detail)
    return F.transform(items, lambda line, i: struct_of(
        DocumentLine,
        line_no=F.coalesce(text(line["LineNum"]).try_cast("long"), i + 1),
        product_id=ref_id(SYSTEM, "product", line[detail]["ItemRef"]["value"]),
        sku=text(line[detail]["ItemRef"]["name"]),
        description=text(line["Description"]),
        quantity=F.coalesce(money(line[detail]["Qty"]), F.lit(0)),
        unit_price=F.coalesce(money(line[detail]["UnitPrice"]), F.lit(0)),
        amount=money(line["Amount"]),
    ))


def _document(p: Column, f: Fields, detail: str, party: tuple[str, str]) -> dict[str, Column]:
    lines = _lines(p, detail)
    f.problem(F.exists(lines, lambda line: line["amount"].isNull()), "not-a-number", "Line[].Amount", "Line[].Amount is not a number")
    subtotal = money_sum(lines, lambda line: line["amount"])
    entity, ref = party
    return {
        "source_id": p["Id"],
        "number": text(p["DocNumber"]),
        "party_id": ref_id(SYSTEM, entity, p[ref]["value"]),
        "issued_at": F.coalesce(f.instant("MetaData.CreateTime", p["MetaData"]["CreateTime"], required=False),
                                F.to_timestamp(f.date("TxnDate", p["TxnDate"]))),
        "issued_on": f.date("TxnDate", p["TxnDate"], required=False),
        "source_updated_at": f.instant("MetaData.LastUpdatedTime", p["MetaData"]["LastUpdatedTime"], required=False),
        "currency": f.required("CurrencyRef.value", F.upper(text(p["CurrencyRef"]["value"]))),
        "subtotal": subtotal,
        "total": f.decimal("TotalAmt", p["TotalAmt"]),
        "lines": lines,
    }


def invoice(p: Column, f: Fields) -> dict[str, Column]:
    columns = _document(p, f, "SalesItemLineDetail", ("customer", "CustomerRef"))
    total, balance = columns["total"], f.decimal("Balance", p["Balance"], required=False)
    tax = F.coalesce(f.decimal("TxnTaxDetail.TotalTax", p["TxnTaxDetail"]["TotalTax"], required=False), F.lit(0))
    synced_from = F.filter(p["CustomField"], lambda field: text(field["Name"]) == "Sales Order")
    return columns | {
        "tax_total": tax,
        "status": (F.when(text(p["PrivateNote"]) == "Voided", "void")
                   .when(balance.isNull() | (balance >= total), "open")
                   .when(balance <= 0, "paid")
                   .otherwise("partially_paid")),
        "due_on": f.date("DueDate", p["DueDate"], required=False),
        "balance": balance,
        "reference": text(F.get(synced_from, 0)["StringValue"]),
    }


def credit_memo(p: Column, f: Fields) -> dict[str, Column]:
    columns = _document(p, f, "SalesItemLineDetail", ("customer", "CustomerRef"))
    credited = F.filter(p["LinkedTxn"], lambda txn: text(txn["TxnType"]) == "Invoice")
    return columns | {
        "tax_total": F.coalesce(f.decimal("TxnTaxDetail.TotalTax", p["TxnTaxDetail"]["TotalTax"], required=False), F.lit(0)),
        "status": F.when(f.decimal("RemainingCredit", p["RemainingCredit"], required=False) == 0, "paid").otherwise("open"),
        "applies_to_invoice_id": ref_id(SYSTEM, "invoice", F.get(credited, 0)["TxnId"]),
    }


def purchase_order(p: Column, f: Fields) -> dict[str, Column]:
    columns = _document(p, f, "ItemBasedExpenseLineDetail", ("vendor", "VendorRef"))
    return columns | {
        "tax_total": columns["total"] - columns["subtotal"],
        "status": f.enum("POStatus", p["POStatus"], PO_STATUS),
        "expected_on": f.date("DueDate", p["DueDate"], required=False),
    }


def payment(p: Column, f: Fields) -> dict[str, Column]:
    settles = F.filter(F.flatten(F.transform(p["Line"], lambda line: line["LinkedTxn"])), lambda txn: text(txn["TxnType"]) == "Invoice")
    return {
        "source_id": p["Id"],
        "party_id": ref_id(SYSTEM, "customer", p["CustomerRef"]["value"]),
        "invoice_id": ref_id(SYSTEM, "invoice", F.get(settles, 0)["TxnId"]),
        "paid_at": F.to_timestamp(f.date("TxnDate", p["TxnDate"])),  # the payment's date, not when it was keyed in
        "source_updated_at": f.instant("MetaData.LastUpdatedTime", p["MetaData"]["LastUpdatedTime"], required=False),
        "currency": f.required("CurrencyRef.value", F.upper(text(p["CurrencyRef"]["value"]))),
        "amount": f.decimal("TotalAmt", p["TotalAmt"]),
    }


def customer(p: Column, f: Fields) -> dict[str, Column]:
    """A QuickBooks customer may be a business or a person, and says not which: `is_person` stays unknown."""
    return {
        "source_id": p["Id"],
        "name_token": f.required("DisplayName", text(p["DisplayName"])),
        "email_token": text(p["PrimaryEmailAddr"]["Address"]),
        "phone_token": text(p["PrimaryPhone"]["FreeFormNumber"]),
        "country": text(p["BillAddr"]["Country"]),
        "is_deleted": text(p["Active"]) == "false",
    }


def vendor(p: Column, f: Fields) -> dict[str, Column]:
    return {
        "source_id": p["Id"],
        "name": f.required("DisplayName", text(p["DisplayName"])),
        "country": text(p["BillAddr"]["Country"]),
        "is_deleted": text(p["Active"]) == "false",
    }


def item(p: Column, f: Fields) -> dict[str, Column]:
    return {
        "source_id": p["Id"],
        "sku": text(p["Sku"]),
        "name": f.required("Name", text(p["Name"])),
        "category": text(p["Description"]),
        "unit_price": f.decimal("UnitPrice", p["UnitPrice"], required=False),
        "is_deleted": text(p["Active"]) == "false",
    }


def deleted(p: Column, f: Fields) -> dict[str, Column]:
    """A CDC delete: the id and when (its status is always "Deleted")."""
    return {
        "source_id": p["Id"],
        "source_updated_at": f.instant("MetaData.LastUpdatedTime", p["MetaData"]["LastUpdatedTime"], required=False),
    }


MAPPINGS = (
    Mapping(SYSTEM, "Invoice", "invoice", invoice),
    Mapping(SYSTEM, "CreditMemo", "credit_note", credit_memo),
    Mapping(SYSTEM, "PurchaseOrder", "purchase_order", purchase_order),
    Mapping(SYSTEM, "Payment", "payment", payment),
    Mapping(SYSTEM, "Customer", "customer", customer),
    Mapping(SYSTEM, "Vendor", "vendor", vendor),
    Mapping(SYSTEM, "Item", "product", item),
    Mapping(SYSTEM, "Invoice_deleted", "invoice", deleted, deleted=True),
    Mapping(SYSTEM, "CreditMemo_deleted", "credit_note", deleted, deleted=True),
    Mapping(SYSTEM, "PurchaseOrder_deleted", "purchase_order", deleted, deleted=True),
    Mapping(SYSTEM, "Payment_deleted", "payment", deleted, deleted=True),
)
