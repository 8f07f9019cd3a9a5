"""The truth export: the answer key a pipeline run over the sandbox is scored against.

Written as sorted, gzip-compressed CSV with a zero gzip timestamp, so the same seed gives byte-identical
files. Files (all under `out_dir`):

- latent_index.csv.gz      sector, region, date, demand, price: the indices the economy was drawn from.
- companies.csv.gz         every company of the panel and its systems.
- company_week.csv.gz      each company's true weekly totals (below), one row per ISO week it was connected.
- records.csv.gz           every record the emulators and file drops serve: its latest version, whether
                           it is deleted, and every defect planted in any of its versions.
- duplicate_clusters.csv.gz  which records are the same thing: every customer and vendor with its true
                           party (shared across systems, duplicates and spelling variants), and every
                           duplicated document, product or payment with the id of its original.

Revenue — what the published index should track — is a company's **net sales**: for each ISO week
(Monday start, by the company's local date of `issued_at`: its business day, which is what sources that
keep only a date show), the sum of `subtotal` (lines before tax, in the
company's reporting currency) over the latest versions of the invoices in its accounting system, minus
the `subtotal` of its credit notes issued that week. A sale that is also a Shopify order counts once,
through its invoice; voided and deleted invoices, duplicates (truth `duplicate_of`) and poison records
(truth `poison`) do not count. `revenue_usd` converts each day's net sales at that day's rate.
`orders` counts the invoices that count; `units` is their line quantity net of credited quantity;
`purchases` sums the `subtotal` of purchase orders issued that week that are neither cancelled,
deleted, duplicated nor poison. `complete` says the company was connected all seven days.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from connectors.sandbox.config import parse_config
from connectors.sandbox.countries import CURRENCIES
from connectors.sandbox.economy import Economy, build_economy
from connectors.sandbox.model import Company, Record
from connectors.sandbox.store import SandboxStore

_PARTY_ENTITIES = ("customer", "vendor")


class TruthExportError(ValueError):
    """The store cannot be scored: it lacks what the generator records about how it was made."""


@contextmanager
def _csv_gz(path: Path, header: Iterable[str]) -> Iterator[Any]:
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
        with io.TextIOWrapper(packed, encoding="utf-8", newline="") as text:
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(header)
            yield writer


def _money(minor: int, digits: int) -> str:
    return f"{Decimal(int(minor)).scaleb(-digits):f}"


def _counts(record: Record) -> bool:
    """Whether a document's latest version stands for a real, live business event."""
    truth = record.truth
    return not (record.deleted or "duplicate_of" in truth or "poison" in truth
                or record.body.get("status") in ("void", "cancelled"))


class _Ledger:
    """Daily true totals per company, in minor units of the company's currency."""

    def __init__(self, start: date, days: int, companies: dict[str, Company]) -> None:
        self.start, self.days, self.companies = start, days, companies
        self.row = {company_id: i for i, company_id in enumerate(sorted(companies))}
        self.zones = {company_id: ZoneInfo(company.timezone) for company_id, company in companies.items()}
        shape = (len(companies), days)
        self.revenue = np.zeros(shape, dtype=np.int64)
        self.orders = np.zeros(shape, dtype=np.int64)
        self.units = np.zeros(shape, dtype=np.int64)
        self.purchases = np.zeros(shape, dtype=np.int64)

    def add(self, record: Record) -> None:
        """Book a counting document of a company's accounting system on its issue day."""
        body = record.body
        local = datetime.fromisoformat(body["issued_at"]).astimezone(self.zones[record.company_id])
        day = (local.date() - self.start).days
        if not 0 <= day < self.days:
            return
        row = self.row[record.company_id]
        scale = CURRENCIES[self.companies[record.company_id].currency].minor_per_unit
        subtotal = round(body["subtotal"] * scale)
        units = round(sum(line["quantity"] for line in body["lines"]))
        if record.entity == "invoice":
            self.revenue[row, day] += subtotal
            self.orders[row, day] += 1
            self.units[row, day] += units
        elif record.entity == "credit_note":
            self.revenue[row, day] -= subtotal
            self.units[row, day] -= units
        else:
            self.purchases[row, day] += subtotal


def export_truth(store_path: Path, out_dir: Path) -> list[Path]:
    """Write the truth files for the sandbox at `store_path` into `out_dir`; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    store = SandboxStore(Path(store_path))
    try:
        raw_config = store.meta("config")
        if raw_config is None:
            raise TruthExportError(
                f"{store_path} has no meta 'config': it was not written by the generator; regenerate it with "
                "`groundswell sandbox generate`"
            )
        config = parse_config(json.loads(raw_config), source=f"{store_path} meta config")
        economy = build_economy(config)
        companies = {c.company_id: c for c in store.companies()}
        ledger = _Ledger(config.start, economy.days, companies)
        records, clusters = _records(out_dir, store, ledger)
        fx = {(d, ccy): rate for d, ccy, rate in store.fx_rates()}
        return [
            _latent_index(out_dir / "latent_index.csv.gz", economy),
            _companies(out_dir / "companies.csv.gz", companies),
            _company_weeks(out_dir / "company_week.csv.gz", config.end, ledger, fx),
            records,
            clusters,
        ]
    finally:
        store.close()


def _latent_index(path: Path, economy: Economy) -> Path:
    with _csv_gz(path, ("sector", "region", "date", "demand", "price")) as out:
        for sector in sorted(economy.sectors):
            for region in sorted(economy.regions):
                s, r = economy.sectors.index(sector), economy.regions.index(region)
                for day in range(economy.days):
                    out.writerow((sector, region, economy.day(day).isoformat(), f"{economy.demand[s, r, day]:.6f}",
                                  f"{economy.price[s, r, day]:.6f}"))
    return path


def _companies(path: Path, companies: dict[str, Company]) -> Path:
    fields = Company.__slots__
    with _csv_gz(path, fields) as out:
        for company_id in sorted(companies):
            company = companies[company_id]
            out.writerow(["" if getattr(company, f) is None else getattr(company, f) for f in fields])
    return path


def _latest_versions(store: SandboxStore) -> Iterator[tuple[Record, list[str]]]:
    """Each record's latest version with the defects of all its versions (all_versions is key-ordered)."""
    current: Record | None = None
    marks: set[str] = set()
    for record in store.all_versions():
        if current is not None and (record.system, record.company_id, record.entity, record.record_id) != (
            current.system, current.company_id, current.entity, current.record_id
        ):
            yield current, sorted(marks)
            marks = set()
        current = record
        marks.update(record.truth.get("defects", ()))
    if current is not None:
        yield current, sorted(marks)


def _records(out_dir: Path, store: SandboxStore, ledger: _Ledger) -> tuple[Path, Path]:
    records_path = out_dir / "records.csv.gz"
    clusters: list[tuple[str, str, str, str, str]] = []
    originals: set[tuple[str, str, str, str]] = set()
    with _csv_gz(records_path, ("system", "company_id", "entity", "record_id", "version", "deleted", "defects")) as out:
        for record, marks in _latest_versions(store):
            key = (record.system, record.company_id, record.entity, record.record_id)
            out.writerow((*key, record.version, int(record.deleted), "|".join(marks)))
            truth = record.truth
            if record.entity in _PARTY_ENTITIES:
                clusters.append((*key, truth["party"]))
            elif "duplicate_of" in truth:
                clusters.append((*key, truth["duplicate_of"]))
                originals.add((*key[:3], truth["duplicate_of"]))
            if (record.entity in ("invoice", "credit_note", "purchase_order")
                    and record.system == ledger.companies[record.company_id].accounting_system
                    and _counts(record)):
                ledger.add(record)
    clusters += [(*key, key[3]) for key in originals]
    clusters_path = out_dir / "duplicate_clusters.csv.gz"
    with _csv_gz(clusters_path, ("system", "company_id", "entity", "record_id", "party")) as out:
        out.writerows(sorted(clusters))
    return records_path, clusters_path


def _usd(value: float) -> str:
    return f"{round(value, 2) + 0.0:.2f}"  # + 0.0: never print "-0.00"


def _company_weeks(path: Path, end: date, ledger: _Ledger, fx: dict[tuple[date, str], float]) -> Path:
    header = ("company_id", "week_start", "currency", "revenue", "revenue_usd", "orders", "units", "purchases",
              "purchases_usd", "complete")
    start = ledger.start
    with _csv_gz(path, header) as out:
        for company_id, row in sorted(ledger.row.items()):
            company = ledger.companies[company_id]
            currency = CURRENCIES[company.currency]
            first = max(company.onboarded_on, start)
            last = min(company.churned_on or end, end)
            rates = np.array([fx[(start + timedelta(days=d), company.currency)] for d in range(ledger.days)])
            revenue_usd = ledger.revenue[row] * rates / currency.minor_per_unit
            purchases_usd = ledger.purchases[row] * rates / currency.minor_per_unit
            week = first - timedelta(days=first.weekday())
            while week <= last:
                days = slice(max(0, (week - start).days), (week - start).days + 7)
                out.writerow((
                    company_id, week.isoformat(), company.currency,
                    _money(ledger.revenue[row, days].sum(), currency.minor_digits), _usd(revenue_usd[days].sum()),
                    int(ledger.orders[row, days].sum()), int(ledger.units[row, days].sum()),
                    _money(ledger.purchases[row, days].sum(), currency.minor_digits), _usd(purchases_usd[days].sum()),
                    int(first <= week and week + timedelta(days=6) <= last),
                ))
                week += timedelta(days=7)
    return path
