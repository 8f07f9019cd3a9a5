"""The canonical entities: what every source's records become in silver, whichever system they came from.

These models are the single source of truth for the entities' shape: Spark schemas, JSON Schema documents
and search mappings are derived from them (schemas/canonical/derive.py), never written again by hand.
Money is Decimal (exact, 4 places) in the document's currency and in USD at the document date's rate;
instants are UTC; every row says where it came from.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Money = Annotated[Decimal, Field(max_digits=18, decimal_places=4)]
Quantity = Annotated[Decimal, Field(max_digits=18, decimal_places=4)]
Rate = Annotated[Decimal, Field(max_digits=20, decimal_places=10, description="USD per unit of the currency")]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, upper case")]


class Canonical(BaseModel):
    """Fields every canonical row carries: its identity and its lineage back to bronze."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    canonical_id: str = Field(description="stable id: a hash of (system, company_id, entity, source_id)")
    company_id: str
    source_system: str
    source_id: str = Field(description="the record's id in its source system")
    source_updated_at: datetime | None = Field(description="the source's last update (UTC); the latest wins on MERGE")
    is_deleted: bool = Field(False, description="tombstone: the source deleted or voided it")
    bronze_record_key: str = Field(description="lineage: the bronze row this came from")
    extract_run_id: str = Field(description="lineage: the extraction run that landed it")


class DocumentStatus(StrEnum):
    open = "open"
    fulfilled = "fulfilled"
    paid = "paid"
    partially_paid = "partially_paid"
    received = "received"
    cancelled = "cancelled"
    void = "void"


class Company(BaseModel):
    """A contributing company (its id is tokenized before anything is published)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    company_id: str
    name: str
    sector: str
    region: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    reporting_currency: CurrencyCode
    systems: list[str]
    onboarded_on: date
    churned_on: date | None = None


class Customer(Canonical):
    name_token: str = Field(description="the name as bronze holds it: a keyed hash wherever a source may put a person's name")
    is_person: bool | None = Field(None, description="true for consumers; None where the source cannot tell")
    email_token: str | None = None
    phone_token: str | None = None
    country: str | None = None
    master_customer_id: str | None = Field(None, description="resolved identity across ids and spellings (silver master data)")


class Vendor(Canonical):
    name: str
    country: str | None = None
    master_vendor_id: str | None = None


class Product(Canonical):
    sku: str | None = None
    name: str
    category: str | None = None
    unit_price: Money | None = None
    currency: CurrencyCode | None = None
    master_product_id: str | None = None


class DocumentLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    line_no: int
    product_id: str | None = Field(None, description="canonical_id of the product")
    sku: str | None = None
    description: str | None = None
    quantity: Quantity
    unit_price: Money
    amount: Money
    amount_usd: Money | None = None
    tax_amount: Money = Decimal(0)


class Document(Canonical):
    """What sales orders, invoices, credit notes and purchase orders share."""

    number: str | None = None
    party_id: str | None = Field(None, description="canonical_id of the customer (sales) or vendor (purchases)")
    issued_at: datetime
    issued_on: date = Field(description="the business date in the company's own time zone, as the source states it: weeks and months "
                                        "are of this date, and the FX rate is this date's")
    currency: CurrencyCode
    fx_rate_usd: Rate | None = Field(None, description="USD per unit of `currency` on the issue date")
    status: DocumentStatus
    subtotal: Money
    tax_total: Money
    total: Money
    subtotal_usd: Money | None = None
    total_usd: Money | None = None
    lines: list[DocumentLine] = Field(default_factory=list)
    duplicate_of: str | None = Field(None, description="canonical_id of the record this one repeats (same system, company and number): counted once, through that one")


class SalesOrder(Document):
    channel: str | None = Field(None, description="e.g. 'shop' for commerce-platform orders")


class Invoice(Document):
    due_on: date | None = None
    balance: Money | None = None
    reference: str | None = Field(None, description="the shop order number an accounting invoice was synced from")
    reconciled_order_id: str | None = Field(None, description="canonical_id of the sales order it duplicates (counted once)")


class CreditNote(Document):
    applies_to_invoice_id: str | None = None


class PurchaseOrder(Document):
    expected_on: date | None = None


class Payment(Canonical):
    party_id: str | None = None
    invoice_id: str | None = None
    paid_at: datetime
    currency: CurrencyCode
    amount: Money
    amount_usd: Money | None = None
    duplicate_of: str | None = Field(None, description="canonical_id of the payment this one repeats (same invoice, instant and amount)")


class InventorySnapshot(Canonical):
    product_id: str | None = None
    as_of: date
    quantity_on_hand: Quantity
    unit_cost: Money | None = None
    currency: CurrencyCode | None = None


#: silver table name -> model
ENTITIES: dict[str, type[BaseModel]] = {
    "company": Company,
    "customer": Customer,
    "vendor": Vendor,
    "product": Product,
    "sales_order": SalesOrder,
    "invoice": Invoice,
    "credit_note": CreditNote,
    "payment": Payment,
    "purchase_order": PurchaseOrder,
    "inventory_snapshot": InventorySnapshot,
}
