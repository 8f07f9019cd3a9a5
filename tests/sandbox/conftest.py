"""A small hand-made sandbox for the emulator tests (independent of the economy generator).

Two companies: MAPLE sells through Shopify and keeps its books in QuickBooks (New York time), RHEIN keeps
books in QuickBooks only (Berlin time). Their records carry the cases the emulators must get right:
late edits, a cancelled order, a voided invoice, deleted records, an inactive customer, a poison record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.types import ASGIApp

from connectors.sandbox.model import Company, Record, native_id
from connectors.sandbox.store import SandboxStore

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=timezone.utc)
END = "2026-03-31"


def tenant(
    company_id: str,
    name: str,
    system: str,
    *,
    sector: str,
    region: str,
    country: str,
    currency: str,
    timezone: str,
    locale: str,
    commerce_system: str | None = None,
) -> Company:
    """A company keeping its books in `system`, onboarded before the sandbox starts and never churned."""
    return Company(
        company_id=company_id,
        name=name,
        sector=sector,
        region=region,
        country=country,
        currency=currency,
        size=1.0,
        accounting_system=system,
        commerce_system=commerce_system,
        onboarded_on=date(2025, 1, 1),
        churned_on=None,
        timezone=timezone,
        locale=locale,
    )


MAPLE = tenant(
    "c00001",
    "Maple Goods",
    "quickbooks",
    sector="retail",
    region="NA",
    country="US",
    currency="USD",
    timezone="America/New_York",
    locale="en_US",
    commerce_system="shopify",
)
RHEIN = tenant(
    "c00002",
    "Rhein Werkzeuge",
    "quickbooks",
    sector="manufacturing",
    region="EU",
    country="DE",
    currency="EUR",
    timezone="Europe/Berlin",
    locale="de_DE",
)

class FakeTimer:
    """Wall time the tests move by hand (token expiry, rate-limit windows)."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def record(
    system: str,
    company: Company,
    entity: str,
    serial: int,
    at: datetime,
    body: dict[str, Any],
    *,
    version: int = 1,
    created: datetime | None = None,
    deleted: bool = False,
    truth: dict[str, Any] | None = None,
) -> Record:
    return Record(
        system=system,
        company_id=company.company_id,
        entity=entity,
        record_id=native_id(system, company.company_id, entity, serial),
        version=version,
        created_at=created or at,
        updated_at=at,
        deleted=deleted,
        body=body,
        truth=truth or {},
    )


def with_revisions(
    first: Record,
    serial: int,
    later: datetime,
    *,
    changes: dict[int, dict[str, Any]] | None = None,
    deleted: Iterable[int] = (),
) -> Iterator[Record]:
    """`first`, then its second version at `later` when the story revises record `serial`: its body with
    `changes[serial]` applied, or a delete."""
    changes = changes or {}
    yield first
    revised = replace(first, version=2, updated_at=later)
    if serial in changes:
        yield replace(revised, body={**first.body, **changes[serial]})
    if serial in deleted:
        yield replace(revised, deleted=True)


def product(serial: int, *, taxable: bool = True) -> dict[str, Any]:
    """Catalogue item `serial`: SKU-n, priced 10·n and costing 6·n, so line amounts are easy to check by hand."""
    return {
        "sku": f"SKU-{serial}",
        "name": f"Widget {serial}",
        "category": "tools",
        "unit_price": 10.0 * serial,
        "unit_cost": 6.0 * serial,
        "taxable": taxable,
    }


def master_data(system: str, company: Company, *, customer: str, vendor: str, currency: str) -> Iterator[Record]:
    """Customers 1-4 (an hour apart after T0), vendors 1-2 and products 1-3 (at T0): what a tenant's documents
    point at. `customer` and `vendor` are name patterns, `{}` standing for the serial."""
    for serial in range(1, 5):
        at = T0 + timedelta(hours=serial)
        yield record(system, company, "customer", serial, at, party(customer.format(serial), currency))
    for serial in range(1, 3):
        yield record(system, company, "vendor", serial, T0, party(vendor.format(serial), currency))
    for serial in range(1, 4):
        yield record(system, company, "product", serial, T0, product(serial))


def payment(
    party_id: str, invoice_id: str, at: datetime, *, amount: float, currency: str, method: str
) -> dict[str, Any]:
    return {
        "party_id": party_id,
        "invoice_id": invoice_id,
        "paid_at": at.isoformat(),
        "amount": amount,
        "currency": currency,
        "method": method,
    }


def party(name: str, currency: str) -> dict[str, Any]:
    return {
        "name": name,
        "email": f"{name.split()[0].lower()}@example.com",
        "phone": "555-0100",
        "address": {
            "line1": "1 Main St",
            "city": "Springfield",
            "region": "NY",
            "postal_code": "10001",
            "country": "US",
        },
        "currency": currency,
    }


def document(
    system: str,
    company: Company,
    number: str,
    party_serial: int,
    issued_at: datetime,
    quantities: list[float],
    status: str,
    **extra: Any,
) -> dict[str, Any]:
    lines = []
    for line_no, quantity in enumerate(quantities, start=1):
        amount = round(quantity * 10.0 * line_no, 2)
        lines.append(
            {
                "line_no": line_no,
                "product_id": native_id(system, company.company_id, "product", line_no),
                "sku": f"SKU-{line_no}",
                "description": f"Widget {line_no}",
                "quantity": quantity,
                "unit_price": 10.0 * line_no,
                "amount": amount,
                "tax_amount": round(amount * 0.1, 2),
            }
        )
    subtotal = round(sum(line["amount"] for line in lines), 2)
    tax = round(sum(line["tax_amount"] for line in lines), 2)
    return {
        "number": number,
        "party_id": native_id(system, company.company_id, "customer", party_serial),
        "issued_at": issued_at.isoformat(),
        "currency": company.currency,
        "lines": lines,
        "subtotal": subtotal,
        "tax_total": tax,
        "total": round(subtotal + tax, 2),
        "status": status,
        **extra,
    }


def _shopify_records() -> Iterator[Record]:
    for serial in range(1, 5):
        at = T0 + timedelta(hours=serial)
        yield record("shopify", MAPLE, "customer", serial, at, party(f"Shopper{serial} Lee", "USD"))
    for serial in range(1, 4):
        yield record("shopify", MAPLE, "product", serial, T0, product(serial))
        for week in range(2):  # like the generator: each weekly snapshot is a record of its own
            snapshot = {
                "product_id": native_id("shopify", MAPLE.company_id, "product", serial),
                "sku": f"SKU-{serial}",
                "as_of": (T0 + timedelta(weeks=week)).date().isoformat(),
                "quantity_on_hand": 40.0 - week,
                "unit_cost": 6.0 * serial,
            }
            yield record(
                "shopify",
                MAPLE,
                "inventory_snapshot",
                week * 3 + serial,
                T0 + timedelta(weeks=week),
                snapshot,
            )
    for serial in range(1, 13):
        at = T0 + timedelta(days=serial)
        status = "fulfilled" if serial == 7 else "open"
        body = document("shopify", MAPLE, f"#{1000 + serial}", serial % 4 + 1, at, [1.0, 2.0], status)
        if serial == 9:
            body.update(total="not-a-number", issued_at="0001-01-01T00:00:00+00:00")
            yield record("shopify", MAPLE, "sales_order", serial, at, body, truth={"poison": "total"})
            continue
        edited = document("shopify", MAPLE, "#1002", 3, at, [5.0, 2.0], "open")
        changes = {2: edited, 3: {"status": "cancelled"}}
        later = at + timedelta(days=30)
        first = record("shopify", MAPLE, "sales_order", serial, at, body)
        yield from with_revisions(first, serial, later, changes=changes, deleted=[5])


INVOICE_FATES = {4: {"status": "void"}, 8: {"balance": 0.0, "status": "paid"}}
"""Invoice 4 is voided and invoice 8 paid after issue (the stories of the QuickBooks, Xero and BC tenants)."""


def _quickbooks_records(company: Company, invoices: int) -> Iterator[Record]:
    for serial in range(1, 6):
        at = T0 + timedelta(hours=serial)
        body = party(f"Client{serial} GmbH", company.currency)
        first = record("quickbooks", company, "customer", serial, at, body)
        yield from with_revisions(first, serial, at + timedelta(days=20), deleted=[4])
    for serial in range(1, 3):
        yield record("quickbooks", company, "vendor", serial, T0, party(f"Supplier{serial} Ltd", company.currency))
    for serial in range(1, 4):
        yield record("quickbooks", company, "product", serial, T0, product(serial))
    for serial in range(1, invoices + 1):
        at = T0 + timedelta(days=serial, hours=8)
        body = document(
            "quickbooks",
            company,
            f"INV-{serial:04d}",
            serial % 5 + 1,
            at,
            [1.0, 3.0],
            "open",
            due_on=(at + timedelta(days=30)).date().isoformat(),
            reference=f"#{1000 + serial}",
        )
        later = at + timedelta(days=25)
        first = record("quickbooks", company, "invoice", serial, at, body)
        yield from with_revisions(first, serial, later, changes=INVOICE_FATES, deleted=[6])
    for serial in range(1, 4):
        at = T0 + timedelta(days=serial + 3)
        party_id = native_id("quickbooks", company.company_id, "customer", 1)
        invoice_id = native_id("quickbooks", company.company_id, "invoice", serial)
        body = payment(party_id, invoice_id, at, amount=20.0, currency=company.currency, method="card")
        yield record("quickbooks", company, "payment", serial, at, body)
    at = T0 + timedelta(days=9)
    yield record(
        "quickbooks",
        company,
        "credit_note",
        1,
        at,
        document(
            "quickbooks",
            company,
            "CM-0001",
            1,
            at,
            [1.0],
            "open",
            applies_to=native_id("quickbooks", company.company_id, "invoice", 1),
        ),
    )
    for serial, status in ((1, "open"), (2, "cancelled")):
        at = T0 + timedelta(days=serial)
        yield record(
            "quickbooks",
            company,
            "purchase_order",
            serial,
            at,
            document("quickbooks", company, f"PO-{serial:04d}", 1, at, [4.0], status),
        )


def sandbox_records() -> Iterator[Record]:
    yield from _shopify_records()
    yield from _quickbooks_records(MAPLE, invoices=15)
    yield from _quickbooks_records(RHEIN, invoices=3)


def sandbox_store(
    tmp_path_factory: pytest.TempPathFactory, companies: list[Company], records: Iterable[Record]
) -> Path:
    """A finished sandbox file holding `companies` and `records`, its clock ending at END."""
    path = tmp_path_factory.mktemp("sandbox") / "sandbox.db"
    writer = SandboxStore(path, readonly=False)
    writer.write_companies(companies)
    writer.write_records(records)
    writer.set_meta("end", END)
    writer.finish()
    writer.close()
    return path


@pytest.fixture(scope="session")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared sandbox; a test module with tenants of its own overrides this fixture."""
    return sandbox_store(tmp_path_factory, [MAPLE, RHEIN], sandbox_records())


@pytest.fixture
def store(store_path: Path) -> Iterator[SandboxStore]:
    reader = SandboxStore(store_path)
    yield reader
    reader.close()


@pytest.fixture
def timer() -> FakeTimer:
    return FakeTimer()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def client(app: ASGIApp) -> httpx.AsyncClient:
    """An httpx client calling the app in-process."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox.test")


def visible_ids(
    store: SandboxStore,
    system: str,
    company: Company,
    entity: str,
    *,
    keep: Callable[[Record], bool] = lambda r: not r.deleted,
) -> list[str]:
    """Record ids the store holds at the default clock (END), in listing order."""
    as_of = datetime.combine(date.fromisoformat(END), datetime.max.time(), timezone.utc)
    return [r.record_id for r in store.records(system, company.company_id, entity, as_of=as_of) if keep(r)]


def is_json(content: bytes) -> bool:
    """Whether a body parses as JSON (a truncated one does not)."""
    try:
        orjson.loads(content)
    except orjson.JSONDecodeError:
        return False
    return True
