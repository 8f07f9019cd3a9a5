"""The sandbox's system-neutral business records: the contract between the economy generator and the
API emulators.

The generator writes every version of every record once, already assigned to the source system that
holds it; each emulator renders the latest version visible at its clock into that system's own wire
shape (field names, nesting, date formats, envelopes). Truth annotations travel beside a record, never
inside the body an emulator serves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, NotRequired, TypedDict

from connectors.systems import API_SYSTEMS, FILE_SYSTEMS  # noqa: F401 (re-exported for the sandbox)

System = Literal[
    "shopify", "quickbooks", "netsuite", "odoo", "xero", "businesscentral", "csv", "x12"
]
Entity = Literal[
    "customer",
    "vendor",
    "product",
    "sales_order",
    "invoice",
    "payment",
    "credit_note",
    "purchase_order",
    "inventory_snapshot",
]

#: What each system holds; the generator assigns a company's records only to entities its system has.
SYSTEM_ENTITIES: dict[str, tuple[str, ...]] = {
    "shopify": ("customer", "product", "sales_order", "inventory_snapshot"),
    "quickbooks": ("customer", "vendor", "product", "invoice", "payment", "credit_note", "purchase_order"),
    "netsuite": (
        "customer", "vendor", "product", "sales_order", "invoice", "payment", "credit_note",
        "purchase_order",
    ),
    "odoo": (
        "customer", "vendor", "product", "sales_order", "invoice", "payment", "credit_note",
        "purchase_order", "inventory_snapshot",
    ),
    "xero": ("customer", "vendor", "product", "invoice", "payment", "credit_note", "purchase_order"),
    "businesscentral": (
        "customer", "vendor", "product", "sales_order", "invoice", "payment", "credit_note",
        "purchase_order",
    ),
    "csv": ("customer", "product", "invoice"),
    "x12": ("invoice", "purchase_order"),
}

COMMERCE_SYSTEMS = ("shopify",)
ACCOUNTING_SYSTEMS = ("quickbooks", "netsuite", "odoo", "xero", "businesscentral", "csv", "x12")

_UUID_NAMESPACE = uuid.UUID("6f1d7d5e-3c52-4c1e-9a54-0d6b1f6c2a11")

#: Entities a system keeps in one table, whose records therefore draw ids from one sequence: Odoo holds
#: customers and vendors as res.partner and invoices and credit notes as account.move; NetSuite numbers
#: customers and vendors in its entity table and every transaction type in its transaction table.
_SHARED_SEQUENCES: dict[str, tuple[tuple[str, ...], ...]] = {
    "netsuite": (
        ("customer", "vendor"),
        ("sales_order", "invoice", "payment", "credit_note", "purchase_order"),
    ),
    "odoo": (("customer", "vendor"), ("invoice", "credit_note")),
}


def native_id(system: str, company_id: str, entity: str, serial: int) -> str:
    """The id a system itself would give the `serial`-th record of an entity: integers where the
    system numbers records (Shopify, QuickBooks, NetSuite, Odoo), UUIDs where it uses GUIDs (Xero,
    Business Central), document-style keys for file drops."""
    if system in ("xero", "businesscentral"):
        return str(uuid.uuid5(_UUID_NAMESPACE, f"{system}/{company_id}/{entity}/{serial}"))
    if system == "shopify":
        return str(450_000_000 + serial)
    if system in ("csv", "x12"):
        return f"{entity[:3].upper()}-{serial:07d}"
    for sequence in _SHARED_SEQUENCES.get(system, ()):
        if entity in sequence:  # interleaved, so two entities of one table never share an id
            return str((serial - 1) * len(sequence) + sequence.index(entity) + 1)
    return str(serial)


@dataclass(frozen=True, slots=True)
class Company:
    """A company of the synthetic economy and the systems it runs."""

    company_id: str  # "c00042": stable across seeds of the same config
    name: str  # business name: not personal data, stays in clear downstream
    sector: str
    region: str
    country: str  # ISO 3166-1 alpha-2
    currency: str  # reporting currency, ISO 4217
    size: float  # relative scale of activity (median company = 1.0)
    accounting_system: str  # one of ACCOUNTING_SYSTEMS
    commerce_system: str | None  # "shopify" for companies that also sell through a shop
    onboarded_on: date  # first day its data is connected (panel entry)
    churned_on: date | None  # last day its data is connected (panel exit), if it leaves
    timezone: str  # IANA name; source systems show local times in it
    locale: str  # e.g. "en_US", "de_DE", "fr_FR", "ja_JP": drives locale-formatted dates

    @property
    def systems(self) -> tuple[str, ...]:
        return (self.accounting_system,) + ((self.commerce_system,) if self.commerce_system else ())


class Address(TypedDict):
    line1: str
    city: str
    region: str
    postal_code: str
    country: str


class PartyBody(TypedDict):
    """customer and vendor"""

    name: str  # a business or a person's name (persons are PII)
    email: NotRequired[str]  # PII; missing when the "missing optional fields" defect hits
    phone: NotRequired[str]  # PII
    address: NotRequired[Address]  # PII (street address)
    currency: str


class ProductBody(TypedDict):
    sku: str
    name: str
    category: str
    unit_price: float  # list price in the company currency at this version
    unit_cost: float
    taxable: bool


class Line(TypedDict):
    line_no: int
    product_id: str  # record_id of the product in the same system
    sku: str
    description: str
    quantity: float
    unit_price: float
    amount: float  # quantity × unit_price, rounded to the currency's minor unit
    tax_amount: float


class DocumentBody(TypedDict):
    """sales_order, invoice, credit_note and purchase_order"""

    number: str  # the document number a person sees ("#1001", "INV-0042", "PO-0007")
    party_id: str  # record_id of the customer (sales side) or vendor (purchase side), same system
    issued_at: str  # ISO-8601 UTC instant the document was raised
    due_on: NotRequired[str]  # ISO date; invoices and purchase orders
    currency: str  # ISO 4217 as the system holds it (the "lowercase currency" defect lowers it)
    lines: list[Line]
    subtotal: float
    tax_total: float
    total: float
    status: str  # sales_order: open|fulfilled|cancelled; invoice/credit_note: open|paid|void;
    # purchase_order: open|received|cancelled
    balance: NotRequired[float]  # invoices: amount still owed at this version
    reference: NotRequired[str]  # invoices synced from a shop: the shop order's number ("#1001")
    applies_to: NotRequired[str]  # credit_note: record_id of the invoice it credits


class PaymentBody(TypedDict):
    party_id: str  # customer record_id
    invoice_id: str  # the invoice it settles
    paid_at: str  # ISO-8601 UTC instant
    amount: float
    currency: str
    method: str


class InventoryBody(TypedDict):
    product_id: str
    sku: str
    as_of: str  # ISO date of the snapshot
    quantity_on_hand: float
    unit_cost: float


@dataclass(frozen=True, slots=True)
class Record:
    """One version of one record, as a source system holds it at `updated_at`."""

    system: str
    company_id: str
    entity: str
    record_id: str  # native id: see native_id()
    version: int  # 1 for the original; each late edit, void or delete adds one
    created_at: datetime  # UTC, tz-aware
    updated_at: datetime  # UTC, tz-aware; equals created_at for version 1
    deleted: bool  # the system deleted it (served only where the system exposes deletes)
    body: dict[str, Any]  # PartyBody | ProductBody | DocumentBody | PaymentBody | InventoryBody
    truth: dict[str, Any] = field(default_factory=dict)
    """Never served. Keys: "party" (true identity of a customer/vendor, shared by its duplicates and
    spelling variants), "duplicate_of" (record_id this one duplicates), "poison" (field name made
    impossible or malformed), "defects" (list of defect names applied)."""


@dataclass(frozen=True, slots=True)
class RecordKey:
    """Position in the (updated_at, record_id) order every listing uses; a cursor resumes after it."""

    updated_at: datetime
    record_id: str
