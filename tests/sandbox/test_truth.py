"""The truth export: byte-identical for a seed, and revenue counted exactly as truth.py defines it."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from connectors.sandbox.economy import build_economy
from connectors.sandbox.generate import generate
from connectors.sandbox.model import Company, Record
from connectors.sandbox.store import SandboxStore
from connectors.sandbox.truth import TruthExportError, export_truth
from tests.sandbox.economy_builders import histories, small_config

START = date(2025, 3, 3)  # a Monday


def _rows(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as text:
        return list(csv.DictReader(text))


def _digests(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    root = tmp_path_factory.mktemp("truth")
    store = generate(small_config(companies=24, weeks=10), root, progress=False, workers=1)
    return store, {p.name: p for p in export_truth(store, root / "truth")}


# -- determinism --------------------------------------------------------------------------------------


def test_given_the_same_seed_when_generated_twice_then_every_truth_file_is_byte_identical(tmp_path: Path) -> None:
    config = small_config(companies=10, weeks=4)
    first = export_truth(generate(config, tmp_path / "a", progress=False, workers=1), tmp_path / "a" / "truth")
    second = export_truth(generate(config, tmp_path / "b", progress=False, workers=2), tmp_path / "b" / "truth")
    assert [p.name for p in first] == [
        "latent_index.csv.gz", "companies.csv.gz", "company_week.csv.gz", "records.csv.gz",
        "duplicate_clusters.csv.gz",
    ]
    assert _digests(first) == _digests(second)


def test_given_another_seed_when_generated_then_the_truth_differs(tmp_path: Path) -> None:
    one = export_truth(generate(small_config(companies=10, weeks=4, seed=1), tmp_path / "a", progress=False,
                                workers=1), tmp_path / "a" / "truth")
    two = export_truth(generate(small_config(companies=10, weeks=4, seed=2), tmp_path / "b", progress=False,
                                workers=1), tmp_path / "b" / "truth")
    differing = {name for name, digest in _digests(one).items() if _digests(two)[name] != digest}
    assert {"latent_index.csv.gz", "company_week.csv.gz", "records.csv.gz"} <= differing


def test_given_a_truth_file_when_read_then_gzip_carries_no_timestamp_or_name(
    exported: tuple[Path, dict[str, Path]],
) -> None:
    header = exported[1]["records.csv.gz"].read_bytes()[:10]
    assert header[3] & 0x08 == 0  # FNAME flag clear
    assert header[4:8] == b"\x00\x00\x00\x00"  # MTIME zero


# -- contents of a generated sandbox ------------------------------------------------------------------


def test_given_a_sandbox_when_exported_then_records_lists_each_record_once_at_its_latest_version(
    exported: tuple[Path, dict[str, Path]],
) -> None:
    store, files = exported
    history = histories(SandboxStore(store))
    rows = _rows(files["records.csv.gz"])
    keys = [(r["system"], r["company_id"], r["entity"], r["record_id"]) for r in rows]
    assert keys == sorted(history) and len(set(keys)) == len(keys)
    for row, key in zip(rows, keys):
        versions = history[key]
        assert int(row["version"]) == versions[-1].version
        assert row["deleted"] == str(int(versions[-1].deleted))
        marks = sorted({m for v in versions for m in v.truth.get("defects", ())})
        assert row["defects"] == "|".join(marks)


def test_given_a_sandbox_when_exported_then_clusters_tie_variants_and_duplicates_to_their_original(
    exported: tuple[Path, dict[str, Path]],
) -> None:
    store, files = exported
    history = histories(SandboxStore(store))
    cluster = {(r["system"], r["company_id"], r["entity"], r["record_id"]): r["party"]
               for r in _rows(files["duplicate_clusters.csv.gz"])}
    members: dict[tuple[str, str, str, str], int] = {}
    for key, versions in history.items():
        truth = versions[0].truth
        if key[2] in ("customer", "vendor"):
            assert cluster[key] == truth["party"]
        elif "duplicate_of" in truth:
            original = (*key[:3], truth["duplicate_of"])
            assert cluster[key] == cluster[original] == truth["duplicate_of"]
            members[original] = members.get(original, 1) + 1
    assert members, "the sandbox should hold duplicated documents"
    parties = [p for k, p in cluster.items() if k[2] == "customer"]
    assert len(set(parties)) < len(parties)  # variants, duplicates and shop/books twins share a party


def test_given_a_sandbox_when_exported_then_each_company_has_a_row_per_connected_iso_week(
    exported: tuple[Path, dict[str, Path]],
) -> None:
    store, files = exported
    sandbox = SandboxStore(store)
    companies = {c.company_id: c for c in sandbox.companies()}
    start, end = date.fromisoformat(sandbox.meta("start") or ""), date.fromisoformat(sandbox.meta("end") or "")
    weeks: dict[str, list[dict[str, str]]] = {}
    for row in _rows(files["company_week.csv.gz"]):
        weeks.setdefault(row["company_id"], []).append(row)
    assert weeks.keys() == companies.keys()
    for company_id, rows in weeks.items():
        company = companies[company_id]
        starts = [date.fromisoformat(r["week_start"]) for r in rows]
        assert all(s.weekday() == 0 for s in starts)
        assert starts == [starts[0] + timedelta(weeks=i) for i in range(len(starts))]
        assert starts[0] <= company.onboarded_on < starts[0] + timedelta(days=7)
        assert all(r["currency"] == company.currency for r in rows)
        if company.churned_on is None and company.onboarded_on == start:
            assert all(r["complete"] == "1" for r in rows) and starts[-1] + timedelta(days=6) == end
    assert sum(float(r["revenue_usd"]) for rows in weeks.values() for r in rows) > 0


def test_given_a_sandbox_when_exported_then_the_latent_index_is_the_economy_day_by_day(
    exported: tuple[Path, dict[str, Path]],
) -> None:
    store, files = exported
    config = small_config(companies=24, weeks=10)
    economy = build_economy(config)
    rows = _rows(files["latent_index.csv.gz"])
    assert len(rows) == len(config.sectors) * len(config.regions) * economy.days
    keys = [(r["sector"], r["region"], r["date"]) for r in rows]
    assert keys == sorted(keys)
    for row in rows[:: 97]:
        s, r = economy.sectors.index(row["sector"]), economy.regions.index(row["region"])
        day = (date.fromisoformat(row["date"]) - config.start).days
        assert abs(float(row["demand"]) - economy.demand[s, r, day]) < 5e-7
        assert abs(float(row["price"]) - economy.price[s, r, day]) < 5e-7


# -- the revenue definition, on a hand-made store -----------------------------------------------------

EUR_SHOP = Company(
    company_id="c00000", name="Maple Goods SAS", sector="retail", region="EU", country="FR", currency="EUR",
    size=1.0, accounting_system="quickbooks", commerce_system="shopify", onboarded_on=START, churned_on=None,
    timezone="Europe/Paris", locale="fr_FR",
)


def _at(day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime(START.year, START.month, START.day, hour, minute, second, tzinfo=timezone.utc) + timedelta(days=day)


def _document(system: str, entity: str, record_id: str, at: datetime, subtotal: float, *, version: int = 1,
              updated: datetime | None = None, status: str = "open", deleted: bool = False,
              truth: dict[str, Any] | None = None, quantity: float = 1.0, **extra: Any) -> Record:
    body = {
        "number": f"N-{record_id}", "party_id": "1", "issued_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "currency": "EUR",
        "lines": [{"line_no": 1, "product_id": "1", "sku": "S-1", "description": "Tote", "quantity": quantity,
                   "unit_price": subtotal / quantity, "amount": subtotal, "tax_amount": 0.0}],
        "subtotal": subtotal, "tax_total": 0.0, "total": subtotal, "status": status, **extra,
    }
    return Record(system, EUR_SHOP.company_id, entity, record_id, version, at, updated or at, deleted, body,
                  truth or {})


@pytest.fixture()
def hand_made_truth(tmp_path: Path) -> dict[str, dict[str, str]]:
    config = small_config(start=START, weeks=2, companies=1)
    store = SandboxStore(tmp_path / "sandbox.db", readonly=False)
    store.write_companies([EUR_SHOP])
    store.write_fx_rates((START + timedelta(days=d), "EUR", 1.10 if d < 7 else 1.20) for d in range(14))
    qb, day_one, day_two = "quickbooks", _at(0), _at(1)
    store.write_records([
        _document("shopify", "sales_order", "450000001", day_one, 100.0, quantity=2),  # the shop's view: never counted
        _document(qb, "invoice", "1", day_one, 100.0, quantity=2, reference="#1001"),  # counts
        _document(qb, "invoice", "2", day_two, 50.0, quantity=5),  # amended below: counts at 80
        _document(qb, "invoice", "2", day_two, 80.0, quantity=8, version=2, updated=_at(3),
                  truth={"defects": ["late_edit"]}),
        _document(qb, "invoice", "3", day_two, 40.0),
        _document(qb, "invoice", "3", day_two, 40.0, version=2, updated=_at(4), status="void"),
        _document(qb, "invoice", "4", day_two, 30.0),
        _document(qb, "invoice", "4", day_two, 30.0, version=2, updated=_at(4), deleted=True),
        _document(qb, "invoice", "5", day_one, 100.0, truth={"duplicate_of": "1", "defects": ["duplicate"]}),
        _document(qb, "invoice", "6", day_one, 999.0, truth={"poison": "total", "defects": ["poison"]}),
        _document(qb, "credit_note", "1", _at(2), 10.0, applies_to="1"),  # subtracts
        _document(qb, "invoice", "7", _at(6, 22, 59, 59), 5.0),  # Sunday 23:59:59 in Paris (22:59:59 UTC): still week one
        _document(qb, "invoice", "8", _at(6, 23, 0, 0), 7.0),  # Monday 00:00 in Paris (Sunday 23:00 UTC): week two, the company's week
        _document(qb, "purchase_order", "1", day_one, 60.0),
        _document(qb, "purchase_order", "2", day_one, 25.0),
        _document(qb, "purchase_order", "2", day_one, 25.0, version=2, updated=_at(2), status="cancelled"),
    ])
    store.set_meta("config", json.dumps(config.model_dump(mode="json")))
    store.finish()
    store.close()
    files = {p.name: p for p in export_truth(tmp_path / "sandbox.db", tmp_path / "truth")}
    return {row["week_start"]: row for row in _rows(files["company_week.csv.gz"])}


def test_given_a_shop_sale_its_invoice_and_defects_when_exported_then_net_sales_count_each_sale_once(
    hand_made_truth: dict[str, dict[str, str]],
) -> None:
    week_one = hand_made_truth[START.isoformat()]
    assert week_one["revenue"] == "175.00"  # 100 (invoice, not its shop order) + 80 (amended) + 5 − 10 (credit)
    assert week_one["orders"] == "3"
    assert week_one["units"] == str(2 + 8 + 1 - 1)
    assert week_one["purchases"] == "60.00"


def test_given_daily_rates_when_exported_then_usd_converts_each_day_at_its_rate(
    hand_made_truth: dict[str, dict[str, str]],
) -> None:
    week_one, week_two = hand_made_truth[START.isoformat()], hand_made_truth[(START + timedelta(weeks=1)).isoformat()]
    assert week_one["revenue_usd"] == f"{175 * 1.10:.2f}"
    assert week_two["revenue"] == "7.00" and week_two["revenue_usd"] == f"{7 * 1.20:.2f}"
    assert week_one["purchases_usd"] == f"{60 * 1.10:.2f}"
    assert week_one["complete"] == week_two["complete"] == "1"


def test_given_a_store_without_generator_meta_when_exported_then_the_error_says_to_regenerate(tmp_path: Path) -> None:
    store = SandboxStore(tmp_path / "sandbox.db", readonly=False)
    store.finish()
    store.close()
    with pytest.raises(TruthExportError, match="regenerate"):
        export_truth(tmp_path / "sandbox.db", tmp_path / "truth")


def test_given_truth_when_read_as_text_then_it_is_plain_utf8_csv(exported: tuple[Path, dict[str, Path]]) -> None:
    text = gzip.decompress(exported[1]["companies.csv.gz"].read_bytes()).decode("utf-8")
    header = next(csv.reader(io.StringIO(text)))
    assert header[:3] == ["company_id", "name", "sector"]
