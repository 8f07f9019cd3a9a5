"""Hand-made companies and records for the file-drop tests, written into a real SandboxStore."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.sandbox.drops import write_drops
from connectors.sandbox.drops.values import minor_units
from connectors.sandbox.model import Company, Record, native_id
from connectors.sandbox.store import SandboxStore

UTC = UTC
AS_OF = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SINCE = datetime(2026, 3, 1, tzinfo=UTC)

#: (sku, quantity, unit_price, tax_rate)
LineSpec = tuple[str, float, float, float]


def at(day: int, hour: int = 15, minute: int = 0) -> datetime:
    """An instant in March 2026, the month the drop window [SINCE, AS_OF) falls in."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def company(
    company_id: str, system: str, *, locale: str = "en_US", tz: str = "America/New_York",
    currency: str = "USD", name: str | None = None,
) -> Company:
    return Company(
        company_id=company_id, name=name or f"Company {company_id.upper()}", sector="wholesale", region="NA",
        country=locale[-2:], currency=currency, size=1.0, accounting_system=system, commerce_system=None,
        onboarded_on=date(2025, 1, 1), churned_on=None, timezone=tz, locale=locale,
    )


def record(
    owner: Company, entity: str, serial: int, body: dict[str, Any], *, updated: datetime, version: int = 1,
    created: datetime | None = None, deleted: bool = False, truth: dict[str, Any] | None = None,
) -> Record:
    return Record(
        system=owner.accounting_system, company_id=owner.company_id, entity=entity,
        record_id=native_id(owner.accounting_system, owner.company_id, entity, serial), version=version,
        created_at=created or updated, updated_at=updated, deleted=deleted, body=body, truth=truth or {},
    )


def document_body(
    owner: Company, number: str, party_id: str, issued: datetime, lines: Sequence[LineSpec], *,
    status: str = "open", reference: str | None = None, currency: str | None = None,
) -> dict[str, Any]:
    """An invoice or purchase order body whose arithmetic holds (total = lines + tax)."""
    currency = currency or owner.currency
    places = minor_units(currency)
    rendered = []
    for line_no, (sku, quantity, list_price, tax_rate) in enumerate(lines, start=1):
        unit_price = round(list_price, places)
        amount = round(quantity * unit_price, places)
        rendered.append({
            "line_no": line_no, "product_id": f"PRO-{line_no:07d}", "sku": sku, "description": f"{sku} item",
            "quantity": quantity, "unit_price": unit_price, "amount": amount,
            "tax_amount": round(amount * tax_rate, places),
        })
    subtotal = round(sum(line["amount"] for line in rendered), places)
    tax_total = round(sum(line["tax_amount"] for line in rendered), places)
    body: dict[str, Any] = {
        "number": number, "party_id": party_id, "issued_at": issued.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "due_on": (issued.date() + timedelta(days=30)).isoformat(), "currency": currency, "lines": rendered,
        "subtotal": subtotal, "tax_total": tax_total, "total": round(subtotal + tax_total, places),
        "status": status, "balance": 0.0 if status == "paid" else round(subtotal + tax_total, places),
    }
    if reference:
        body["reference"] = reference
    return body


def build_store(path: Path, companies: Iterable[Company], records: Iterable[Record]) -> SandboxStore:
    writer = SandboxStore(path, readonly=False)
    writer.write_companies(companies)
    writer.write_records(records)
    writer.finish()
    writer.close()
    return SandboxStore(path)


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under a folder by relative path: what a byte-identical comparison compares."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def opened_store(folder: Path, companies: Iterable[Company], records: Iterable[Record]) -> Iterator[SandboxStore]:
    """A store holding `records`, open for one test module and closed after it (yield from it in a fixture)."""
    store = build_store(folder / "sandbox.db", companies, records)
    yield store
    store.close()


def window_drop(store: SandboxStore, out: Path) -> Path:
    """The drop of the window [SINCE, AS_OF) written into `out`."""
    write_drops(store, out, as_of=AS_OF, since=SINCE)
    return out


def drop_twice(store: SandboxStore, root: Path) -> tuple[list[Path], dict[str, bytes], dict[str, bytes]]:
    """The files the first drop of the window wrote, and both drops' trees, for a determinism check."""
    written = write_drops(store, root / "a", as_of=AS_OF, since=SINCE)
    write_drops(store, root / "b", as_of=AS_OF, since=SINCE)
    return written, tree_bytes(root / "a"), tree_bytes(root / "b")
