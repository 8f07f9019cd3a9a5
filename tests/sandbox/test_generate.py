"""The generated records: relations, arithmetic, lifecycles, panel exits and defects at their rates."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from connectors.sandbox.books import simulate
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.countries import CURRENCIES
from connectors.sandbox.economy import build_companies, build_economy, rng_for
from connectors.sandbox.generate import company_records, generate
from connectors.sandbox.model import SYSTEM_ENTITIES, Company, Record
from connectors.sandbox.render import company_flow
from connectors.sandbox.store import SandboxStore
from tests.sandbox.economy_builders import RAISED_DEFECTS, histories, minor, small_config

DOCUMENTS = ("sales_order", "invoice", "credit_note", "purchase_order")


class Sandbox:
    def __init__(self, config: SandboxConfig, path: Path) -> None:
        self.config = config
        self.store = SandboxStore(path)
        self.companies = {c.company_id: c for c in self.store.companies()}
        self.history = histories(self.store)

    def latest(self, entity: str | None = None) -> list[Record]:
        return [v[-1] for k, v in self.history.items() if entity is None or k[2] == entity]

    def first_versions(self, *entities: str) -> list[Record]:
        return [v[0] for k, v in self.history.items() if k[2] in entities]

    def get(self, record: Record, entity: str, record_id: str) -> list[Record] | None:
        return self.history.get((record.system, record.company_id, entity, record_id))

    def digits(self, record: Record) -> int:
        return CURRENCIES[self.companies[record.company_id].currency].minor_digits


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    config = small_config(companies=40, weeks=16)
    path = generate(config, tmp_path_factory.mktemp("sandbox"), progress=False, workers=1)
    return Sandbox(config, path)


def _clean(record: Record) -> bool:
    return "duplicate_of" not in record.truth and "poison" not in record.truth


def _created_by(versions: list[Record] | None, at: datetime) -> bool:
    return versions is not None and versions[0].created_at <= at


# -- shape --------------------------------------------------------------------------------------------


def test_given_a_sandbox_when_generated_then_each_system_holds_only_its_entities(sandbox: Sandbox) -> None:
    held = {(system, entity) for system, _, entity, _ in sandbox.history}
    assert all(entity in SYSTEM_ENTITIES[system] for system, entity in held)
    assert {entity for _, entity in held} == {
        "customer", "vendor", "product", "sales_order", "invoice", "payment", "credit_note", "purchase_order",
        "inventory_snapshot",
    }


def test_given_a_sandbox_when_generated_then_companies_and_meta_are_stored(sandbox: Sandbox) -> None:
    store = sandbox.store
    assert len(sandbox.companies) == 40
    assert store.meta("start") == sandbox.config.start.isoformat()
    assert store.meta("end") == sandbox.config.end.isoformat()
    assert int(store.meta("records") or 0) == sum(len(v) for v in sandbox.history.values())
    assert {ccy for _, ccy, _ in store.fx_rates()} >= {c.currency for c in sandbox.companies.values()}


def test_given_every_version_when_read_then_timestamps_are_utc_and_versions_advance(sandbox: Sandbox) -> None:
    for versions in sandbox.history.values():
        assert [v.version for v in versions] == list(range(1, len(versions) + 1))
        assert versions[0].updated_at == versions[0].created_at
        for earlier, later in zip(versions, versions[1:]):
            assert later.created_at == earlier.created_at
            assert later.updated_at > earlier.updated_at
        assert all(v.updated_at.utcoffset() == timedelta(0) for v in versions)


# -- relations ------------------------------------------------------------------------------------------


def test_given_documents_when_their_lines_are_read_then_each_product_exists_in_the_same_system(
    sandbox: Sandbox,
) -> None:
    checked = 0
    for record in sandbox.latest():
        if record.entity in DOCUMENTS and "product" in SYSTEM_ENTITIES[record.system]:
            for line in record.body["lines"]:
                assert _created_by(sandbox.get(record, "product", line["product_id"]), record.created_at), line
                checked += 1
    assert checked > 1000


def test_given_orders_when_priced_then_lines_match_the_product_version_in_force_at_the_order(
    sandbox: Sandbox,
) -> None:
    """Sales orders and purchase orders fix prices; an invoice raised from an order inherits them."""
    ordered_separately = {c.company_id for c in sandbox.companies.values()
                          if c.commerce_system or "sales_order" in SYSTEM_ENTITIES[c.accounting_system]}
    for record in sandbox.first_versions("sales_order", "invoice", "purchase_order"):
        if "product" not in SYSTEM_ENTITIES[record.system] or not _clean(record):
            continue
        if record.entity == "invoice" and record.company_id in ordered_separately:
            continue
        field = "unit_cost" if record.entity == "purchase_order" else "unit_price"
        for line in record.body["lines"]:
            product = sandbox.get(record, "product", line["product_id"]) or []
            in_force = [v for v in product if v.updated_at <= record.created_at][-1]
            assert line["unit_price"] == in_force.body[field], (record.record_id, line)


def test_given_documents_when_their_party_is_read_then_it_exists_in_the_same_system(sandbox: Sandbox) -> None:
    for record in sandbox.latest():
        if record.entity in DOCUMENTS + ("payment",):
            party = "vendor" if record.entity == "purchase_order" else "customer"
            if party in SYSTEM_ENTITIES[record.system]:
                assert _created_by(sandbox.get(record, party, record.body["party_id"]), record.created_at), record


def test_given_payments_when_read_then_each_settles_an_existing_invoice_for_its_total(sandbox: Sandbox) -> None:
    payments = [p for p in sandbox.latest("payment") if _clean(p)]
    assert payments
    for payment in payments:
        invoice = sandbox.get(payment, "invoice", payment.body["invoice_id"])
        assert invoice is not None
        at_payment = [v for v in invoice if v.updated_at <= payment.created_at][-1]
        assert at_payment.body["total"] == payment.body["amount"]
        assert at_payment.body["party_id"] == payment.body["party_id"]
        assert at_payment.body["status"] == "paid" and at_payment.body["balance"] == 0


def test_given_credit_notes_when_read_then_each_applies_to_a_paid_invoice_line(sandbox: Sandbox) -> None:
    notes = sandbox.latest("credit_note")
    assert notes
    for note in notes:
        invoice = sandbox.get(note, "invoice", note.body["applies_to"])
        assert invoice is not None and invoice[-1].body["status"] == "paid"
        skus = {line["sku"] for line in invoice[-1].body["lines"]}
        assert note.body["lines"][0]["sku"] in skus


def test_given_shop_companies_when_orders_and_invoices_are_paired_by_reference_then_each_sale_is_in_both(
    sandbox: Sandbox,
) -> None:
    shops = [c for c in sandbox.companies.values() if c.commerce_system == "shopify"]
    assert shops
    for company in shops:
        orders = {r.body["number"]: r for r in sandbox.latest("sales_order")
                  if r.company_id == company.company_id and r.system == "shopify" and _clean(r)}
        invoices = [r for r in sandbox.latest("invoice")
                    if r.company_id == company.company_id and r.system == company.accounting_system and _clean(r)]
        by_reference = {r.body["reference"]: r for r in invoices}
        assert len(by_reference) == len(invoices), "two invoices claim one shop order"
        assert by_reference.keys() == orders.keys()
        for number, order in orders.items():
            invoice = by_reference[number]
            assert invoice.body["subtotal"] == order.body["subtotal"]
            assert [line["sku"] for line in invoice.body["lines"]] == [line["sku"] for line in order.body["lines"]]
            shop_customer = sandbox.get(order, "customer", order.body["party_id"])
            books_customer = sandbox.get(invoice, "customer", invoice.body["party_id"])
            if shop_customer and books_customer:
                assert shop_customer[0].truth["party"] == books_customer[0].truth["party"]


def test_given_a_company_with_sales_orders_when_read_then_invoices_follow_orders(sandbox: Sandbox) -> None:
    erp = [c for c in sandbox.companies.values()
           if c.commerce_system is None and "sales_order" in SYSTEM_ENTITIES[c.accounting_system]]
    assert erp
    for company in erp:
        orders = [r for r in sandbox.latest("sales_order") if r.company_id == company.company_id and _clean(r)]
        invoices = [r for r in sandbox.latest("invoice") if r.company_id == company.company_id and _clean(r)]
        assert len(invoices) <= len(orders)
        assert sum(o.body["status"] == "fulfilled" for o in orders) <= len(invoices)


# -- arithmetic ---------------------------------------------------------------------------------------


def test_given_non_poison_documents_when_summed_then_total_is_lines_plus_tax_exactly(sandbox: Sandbox) -> None:
    for versions in sandbox.history.values():
        for record in versions:
            if record.entity not in DOCUMENTS or "poison" in record.truth:
                continue
            body, digits = record.body, sandbox.digits(record)
            lines = body["lines"]
            for line in lines:
                assert minor(line["amount"], digits) == round(line["quantity"] * minor(line["unit_price"], digits))
            assert minor(body["subtotal"], digits) == sum(minor(line["amount"], digits) for line in lines)
            assert minor(body["tax_total"], digits) == sum(minor(line["tax_amount"], digits) for line in lines)
            assert minor(body["total"], digits) == minor(body["subtotal"], digits) + minor(body["tax_total"], digits)


def test_given_every_amount_when_read_then_it_is_rounded_to_the_currency_minor_unit(sandbox: Sandbox) -> None:
    assert any(c.currency == "JPY" for c in sandbox.companies.values())
    for record in sandbox.latest():
        if record.entity in DOCUMENTS and "poison" not in record.truth:
            digits = sandbox.digits(record)
            for value in (record.body["total"], *(line["unit_price"] for line in record.body["lines"])):
                assert math.isclose(value * 10**digits, round(value * 10**digits), abs_tol=1e-6), (record, value)


# -- the panel ----------------------------------------------------------------------------------------


def test_given_churned_and_late_companies_when_read_then_no_record_falls_outside_their_tenure(sandbox: Sandbox) -> None:
    moved = {c.company_id: c for c in sandbox.companies.values()
             if c.churned_on or c.onboarded_on > sandbox.config.start}
    assert any(c.churned_on for c in moved.values())
    assert any(c.onboarded_on > sandbox.config.start for c in moved.values())
    for versions in sandbox.history.values():
        company = moved.get(versions[0].company_id)
        if company is None:
            continue
        opens = datetime.combine(company.onboarded_on, datetime.min.time(), timezone.utc)
        assert versions[0].created_at >= opens
        if company.churned_on:
            closes = datetime.combine(company.churned_on + timedelta(days=1), datetime.min.time(), timezone.utc)
            assert versions[-1].updated_at < closes


# -- defects ------------------------------------------------------------------------------------------


def _within(observed: int, trials: int, rate: float) -> bool:
    """Binomial count within four standard deviations of its expectation."""
    expected = trials * rate
    return abs(observed - expected) <= 4 * math.sqrt(expected * (1 - rate)) + 2


def _issued_before(sandbox: Sandbox, record: Record, days: int) -> bool:
    end = datetime.combine(sandbox.config.end, datetime.min.time(), timezone.utc)
    return record.created_at < end - timedelta(days=days)


def _has(versions: list[Record], mark: str) -> bool:
    return any(mark in v.truth.get("defects", ()) for v in versions)


def _clean_originals(sandbox: Sandbox, entities: tuple[str, ...], older_than_days: int = 0) -> list[list[Record]]:
    return [v for k, v in sandbox.history.items()
            if k[2] in entities and _clean(v[0]) and _issued_before(sandbox, v[0], older_than_days)]


def _rate_of(sandbox: Sandbox, defect: str) -> tuple[int, int]:
    """(records showing the defect, records eligible for it)."""
    if defect == "duplicate":
        originals = _clean_originals(sandbox, DOCUMENTS[1:2] + ("sales_order", "purchase_order", "payment"), 2)
        copies = {(v[0].system, v[0].company_id, v[0].entity, v[0].truth["duplicate_of"])
                  for v in sandbox.history.values() if "duplicate_of" in v[0].truth}
        copied = sum((v[0].system, v[0].company_id, v[0].entity, v[0].record_id) in copies for v in originals)
        return copied, len(originals)
    if defect == "poison":
        documents = _clean_originals(sandbox, ("sales_order", "invoice", "purchase_order"))
        poisons = sum("poison" in v[0].truth and v[0].entity in ("sales_order", "invoice", "purchase_order")
                      for v in sandbox.history.values())
        return poisons, len(documents)
    if defect == "spelling_variant":
        parties = _clean_originals(sandbox, ("customer", "vendor"), 61)
        variants = {v[0].truth["party"] + v[0].system for v in sandbox.history.values() if _has(v, "spelling_variant")}
        return sum(v[0].truth["party"] + v[0].system in variants for v in parties
                   if not _has(v, "spelling_variant")), len([v for v in parties if not _has(v, "spelling_variant")])
    if defect in ("void", "delete"):
        invoices = _clean_originals(sandbox, ("invoice",), 11)
        return sum(_has(v, defect) for v in invoices), len(invoices)
    if defect == "late_edit":
        open_business = [v for v in _clean_originals(sandbox, ("invoice",), 29)
                         if v[0].body["status"] == "open" and not (_has(v, "void") or _has(v, "delete"))]
        return sum(_has(v, "late_edit") for v in open_business), len(open_business)
    if defect == "missing_optional":
        records = _clean_originals(sandbox, ("customer", "vendor", "invoice", "purchase_order", "payment"))
        return sum(any(m.startswith("missing:") for m in v[0].truth.get("defects", ())) for v in records), len(records)
    if defect == "currency_code":
        records = _clean_originals(sandbox, ("customer", "vendor", "payment") + DOCUMENTS)
        return sum(_has(v, "currency_lowercase") or _has(v, "currency_alias") for v in records), len(records)
    raise AssertionError(defect)


@pytest.mark.parametrize("defect", sorted(RAISED_DEFECTS))
def test_given_a_configured_rate_when_generated_then_the_defect_appears_at_that_rate(
    sandbox: Sandbox, defect: str,
) -> None:
    observed, eligible = _rate_of(sandbox, defect)
    rate = getattr(sandbox.config.defects, defect)
    assert eligible > 150, f"too few records to measure {defect}"
    assert _within(observed, eligible, rate), f"{defect}: {observed}/{eligible} vs rate {rate}"


def test_given_duplicates_when_compared_to_their_original_then_only_the_id_differs(sandbox: Sandbox) -> None:
    copies = [v[0] for v in sandbox.history.values() if "duplicate_of" in v[0].truth]
    assert copies
    for copy in copies:
        original = sandbox.get(copy, copy.entity, copy.truth["duplicate_of"])
        assert original is not None and original[0].body == copy.body and original[0].record_id != copy.record_id
        assert "duplicate" in copy.truth["defects"]


def test_given_spelling_variants_when_compared_then_same_party_new_id_other_name(sandbox: Sandbox) -> None:
    by_party: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for record in sandbox.first_versions("customer", "vendor"):
        by_party[(record.system, record.truth["party"])].append(record)
    variants = [r for r in sandbox.first_versions("customer", "vendor")
                if "spelling_variant" in r.truth.get("defects", ())]
    assert variants
    for variant in variants:
        originals = [r for r in by_party[(variant.system, variant.truth["party"])] if r is not variant]
        assert originals and all(o.body["name"] != variant.body["name"] for o in originals)


def test_given_poison_records_when_read_then_the_named_field_is_impossible(sandbox: Sandbox) -> None:
    poisons = [v[0] for v in sandbox.history.values() if "poison" in v[0].truth]
    fields = Counter(p.truth["poison"] for p in poisons)
    assert len(fields) >= 3
    for poison in poisons:
        field, body = poison.truth["poison"], poison.body
        if field == "lines.quantity":
            assert body["lines"][0]["quantity"] < 0
        elif field == "total":
            assert not isinstance(body["total"], (int, float))
        elif field == "issued_at":
            assert body["issued_at"].startswith("0001-")
        elif field == "due_on":
            with pytest.raises(ValueError):
                date.fromisoformat(body["due_on"])
        else:
            assert field == "row" and poison.system == "csv"


def test_given_voids_and_deletes_when_read_then_the_marked_version_shows_them(sandbox: Sandbox) -> None:
    seen = Counter()
    for versions in sandbox.history.values():
        for version in versions:
            marks = version.truth.get("defects", ())
            if "void" in marks:
                assert version.body["status"] in ("void", "cancelled")
                seen["void"] += 1
            if "delete" in marks:
                assert version.deleted and version is versions[-1]
                seen["delete"] += 1
            if "late_edit" in marks:
                before = versions[version.version - 2].body
                assert before["lines"] != version.body["lines"] and before["number"] == version.body["number"]
                seen["late_edit"] += 1
    assert min(seen.values()) > 10 and len(seen) == 3


def test_given_currency_defects_when_read_then_the_code_is_lowercase_or_an_alias(sandbox: Sandbox) -> None:
    for record in sandbox.latest():
        marks = record.truth.get("defects", ())
        currency = sandbox.companies[record.company_id].currency
        if "currency_lowercase" in marks:
            assert record.body["currency"] == currency.lower()
        elif "currency_alias" in marks:
            assert record.body["currency"] == CURRENCIES[currency].alias
        elif "currency" in record.body and "poison" not in record.truth:
            assert record.body["currency"] == currency


# -- dynamics -----------------------------------------------------------------------------------------


def _one_company(config: SandboxConfig, **changes: object) -> Company:
    return replace(build_companies(config)[0], **changes)


def test_given_a_demand_shock_when_simulated_then_purchase_orders_fall_a_lead_time_before_sales() -> None:
    start = date(2025, 1, 6)
    shock = {"sector": "wholesale", "region": "NA", "start": start + timedelta(weeks=20), "weeks": 10, "effect": -0.6}
    config = small_config(start=start, weeks=40, shocks=[shock])
    company = _one_company(config, sector="wholesale", region="NA", country="US", currency="USD", size=40.0,
                           accounting_system="netsuite", commerce_system=None, onboarded_on=start, churned_on=None,
                           timezone="America/Chicago", locale="en_US")
    books = simulate(company, build_economy(config), config, company_flow(company), rng_for(1, 99))
    lead = config.sectors["wholesale"].purchase_lead_days
    opens = books.window.opens_at

    def daily(times: np.ndarray) -> np.ndarray:
        return np.bincount(((times - opens) // 86_400).astype(int), minlength=280)[:280]

    sales, purchases = daily(books.sales.issued_at), daily(books.purchases.issued_at)
    shock_day = 20 * 7
    calm = slice(shock_day - 8 * 7, shock_day - 6 * 7)
    ahead = slice(shock_day - lead + 7, shock_day - lead + 28)
    assert purchases[ahead].mean() < 0.6 * purchases[calm].mean()  # buyers cut orders before the slump
    assert sales[ahead].mean() > 0.8 * sales[calm].mean()  # while sales have not yet fallen
    assert sales[shock_day + 7: shock_day + 28].mean() < 0.6 * sales[calm].mean()


def test_given_a_company_too_small_to_trade_when_generated_then_only_its_catalog_exists() -> None:
    config = small_config(weeks=2)
    company = _one_company(config, size=1e-9, accounting_system="businesscentral", commerce_system="shopify")
    records = company_records(company, build_economy(config), config)
    assert records and {r.entity for r in records} <= {"product", "inventory_snapshot"}


def test_given_two_workers_when_generated_then_the_records_equal_a_single_process_run(tmp_path: Path) -> None:
    config = small_config(companies=8, weeks=3)
    single = generate(config, tmp_path / "one", progress=False, workers=1)
    parallel = generate(config, tmp_path / "two", progress=False, workers=2)
    assert list(SandboxStore(single).all_versions()) == list(SandboxStore(parallel).all_versions())


def test_given_an_existing_sandbox_when_generated_again_then_it_is_replaced_not_appended(tmp_path: Path) -> None:
    generate(small_config(companies=6, weeks=3), tmp_path, progress=False, workers=1)
    path = generate(small_config(companies=3, weeks=3), tmp_path, progress=False, workers=1)
    assert {r.company_id for r in SandboxStore(path).all_versions()} <= {"c00000", "c00001", "c00002"}

