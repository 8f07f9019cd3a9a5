"""Turns one company's simulated books into the record versions its systems hold.

Each system gets its own native ids (allocated in creation order, as a system numbers its records),
its own copy of shared parties and products, and its own defects. A shop company's sale becomes a
Shopify order and an accounting invoice whose `reference` is the order's number; a company whose
accounting system raises sales orders gets a sales order invoiced at fulfilment; otherwise the
invoice is the sale. Only entities the system holds (model.SYSTEM_ENTITIES) are emitted; ids of
parties and products a system does not list (X12) are still allocated, so lines and documents
carry the identifiers the trading partners use.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

from connectors.sandbox import defects, names
from connectors.sandbox.books import DAY, DELETE, HOUR, NEVER, VOID, Books, Documents, Flow, Parties
from connectors.sandbox.config import DefectConfig, SandboxConfig
from connectors.sandbox.countries import CURRENCIES
from connectors.sandbox.model import SYSTEM_ENTITIES, Company, Record, native_id

_EDIT, _SETTLE, _FATE = 0, 1, 2


def company_flow(company: Company) -> Flow:
    held = SYSTEM_ENTITIES[company.accounting_system]
    return Flow(
        shop=company.commerce_system == "shopify",
        sales_orders="sales_order" in held,
        credit_notes="credit_note" in held,
    )


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _iso_instants(seconds: np.ndarray) -> list[str]:
    clipped = np.minimum(seconds, 253_402_300_799)  # NEVER renders as 9999-12-31; it is never emitted
    return [f"{text}Z" for text in np.datetime_as_string(clipped.astype("datetime64[s]")).tolist()]


def _iso_dates(seconds: np.ndarray) -> list[str]:
    clipped = np.minimum(seconds, 253_402_300_799)
    return np.datetime_as_string(clipped.astype("datetime64[s]").astype("datetime64[D]")).tolist()


def _serial_groups(*created: np.ndarray) -> list[list[int]]:
    """1-based creation order of records created at these times, numbered across all groups (a
    system numbers originals, duplicates and poison records in one sequence), returned per group."""
    times = np.concatenate([np.asarray(c, dtype=np.int64) for c in created])
    rank = np.empty(len(times), dtype=np.int64)
    rank[np.argsort(times, kind="stable")] = np.arange(1, len(times) + 1)
    bounds = np.cumsum([0, *(len(c) for c in created)])
    return [rank[a:b].tolist() for a, b in zip(bounds[:-1], bounds[1:])]


@dataclass(frozen=True)
class _PartyIds:
    ids: list[str | None]  # per pool member; None if it never trades
    alias_ids: list[str | None]  # its duplicate or spelling variant, if any
    alias_at: np.ndarray  # when that alias appears (NEVER if none)


@dataclass(frozen=True)
class _DocumentView:
    """How one system holds one kind of document."""

    system: str
    entity: str
    prefix: str  # document numbers: "#" for Shopify orders, else e.g. "INV-"
    created_at: np.ndarray
    settled_at: np.ndarray
    open_status: str
    settled_status: str
    void_status: str
    party_ids: list[str]
    product_ids: list[str]
    due_days: float | None = None  # invoices: payment terms; purchase orders: lead time
    balance: bool = False
    references: list[str | None] | None = None

    def number(self, serial: int) -> str:
        return f"#{1000 + serial}" if self.prefix == "#" else f"{self.prefix}{serial:05d}"


@dataclass(frozen=True)
class _Rendered:
    ids: list[str | None]  # per document, None if created after the window
    numbers: list[str | None]


@dataclass(frozen=True)
class _Amounts:
    """Per-document money in major units, as issued and after the late edit."""

    subtotal: list[float]
    tax: list[float]
    total: list[float]
    amended_subtotal: list[float]
    amended_tax: list[float]
    amended_total: list[float]
    amended_line_amount: list[float]
    amended_line_tax: list[float]


class _CompanyRenderer:
    """Renders one company; holds its random streams, the parties' true details shared across its
    systems, and the records emitted so far."""

    def __init__(self, company: Company, books: Books, config: SandboxConfig, rng: np.random.Generator) -> None:
        self.company = company
        self.books = books
        self.config = config
        self.rates: DefectConfig = config.defects
        self.rng = rng
        self.rnd = random.Random(int(rng.integers(2**63)))
        self.currency = CURRENCIES[company.currency]
        self.closes_at = books.window.closes_at
        self.terms_days = config.sectors[company.sector].payment_terms_days
        self.lead_days = config.sectors[company.sector].purchase_lead_days
        self._people: dict[tuple[str, int], dict[str, Any]] = {}
        catalog = books.catalog
        initials = "".join(ch for ch in company.name.upper() if ch.isascii() and ch.isalpha())[:3] or "SKU"
        self.skus = [f"{initials}-{i + 1:04d}" for i in range(catalog.size)]
        self.product_names = [names.product_name(self.rnd, company.sector) for _ in range(catalog.size)]
        self.categories = [names.product_category(self.rnd, company.sector) for _ in range(catalog.size)]
        self.out: list[Record] = []

    # -- helpers ---------------------------------------------------------------------------------

    def _money(self, minor: np.ndarray) -> list[float]:
        return (minor / self.currency.minor_per_unit).tolist()

    def _emit(self, system: str, entity: str, record_id: str, version: int, created: int, updated: int,
              body: dict[str, Any], truth: dict[str, Any], deleted: bool = False) -> None:
        if entity in SYSTEM_ENTITIES[system]:
            self.out.append(Record(system, self.company.company_id, entity, record_id, version, _instant(created),
                                   _instant(updated), deleted, body, truth))

    def _draw(self, n: int, rate: float) -> np.ndarray:
        return self.rng.random(n) < rate

    def _copies(self, created: np.ndarray, rate: float, low: int, high: int) -> dict[int, int]:
        """Which records (by index) get an extra copy at `rate`, and when each copy is created."""
        chosen = np.flatnonzero(self._draw(len(created), rate))
        return dict(zip(chosen.tolist(), (created[chosen] + self.rng.integers(low, high, len(chosen))).tolist()))

    def _ids(self, system: str, entity: str, serials: list[int]) -> list[str]:
        return [native_id(system, self.company.company_id, entity, s) for s in serials]

    def _emit_duplicate(self, system: str, entity: str, record_id: str, at: int, body: dict[str, Any],
                        original_id: str, marks: list[str], **truth: Any) -> None:
        if at < self.closes_at:
            self._emit(system, entity, record_id, 1, at, at, body,
                       {**truth, "duplicate_of": original_id, "defects": ["duplicate", *marks]})

    def _amounts(self, docs: Documents) -> _Amounts:
        return _Amounts(
            subtotal=self._money(docs.subtotal), tax=self._money(docs.tax), total=self._money(docs.subtotal + docs.tax),
            amended_subtotal=self._money(docs.amended_subtotal), amended_tax=self._money(docs.amended_tax),
            amended_total=self._money(docs.amended_subtotal + docs.amended_tax),
            amended_line_amount=self._money(docs.edit_amount), amended_line_tax=self._money(docs.edit_tax),
        )

    def _currency_code(self) -> tuple[str, list[str]]:
        if self.rnd.random() < self.rates.currency_code:
            code, defect = defects.bad_currency(self.company.currency, self.rnd)
            return code, [defect]
        return self.company.currency, []

    def _drop_optional(self, body: dict[str, Any], entity: str, marks: list[str]) -> dict[str, Any]:
        if self.rnd.random() < self.rates.missing_optional:
            body, defect = defects.without_optional(body, entity, self.rnd)
            if defect:
                marks.append(defect)
        return body

    # -- the company's records -------------------------------------------------------------------

    def records(self) -> list[Record]:
        company, books = self.company, self.books
        accounting, sales, purchases = company.accounting_system, books.sales, books.purchases
        products = {system: self._products(system) for system in company.systems}
        customers = {system: self._parties(system, "customer", books.customers) for system in company.systems}
        sale_amounts = self._amounts(sales)
        references = None
        if company.commerce_system:
            shop = company.commerce_system
            orders = self._sales_view(shop, "sales_order", "#", sales.issued_at, sales.fulfilled_at,
                                      customers[shop], products[shop])
            references = self._documents(orders, sales, sale_amounts).numbers
        elif "sales_order" in SYSTEM_ENTITIES[accounting]:
            orders = self._sales_view(accounting, "sales_order", "SO-", sales.issued_at, sales.fulfilled_at,
                                      customers[accounting], products[accounting])
            self._documents(orders, sales, sale_amounts)
        invoice_view = self._sales_view(accounting, "invoice", "INV-", sales.invoiced_at, sales.settled_at,
                                        customers[accounting], products[accounting], references)
        invoices = self._documents(invoice_view, sales, sale_amounts)
        self._payments(accounting, invoices, invoice_view.party_ids)
        self._credit_notes(accounting, invoices, invoice_view.party_ids, products[accounting])
        vendors = self._parties(accounting, "vendor", books.vendors)
        purchase_view = _DocumentView(
            accounting, "purchase_order", "PO-", purchases.issued_at, purchases.settled_at, "open", "received",
            "cancelled", self._refer(vendors, purchases.party, purchases.issued_at), products[accounting],
            due_days=self.lead_days,
        )
        self._documents(purchase_view, purchases, self._amounts(purchases))
        # Stock is counted where the goods are sold: the shop if there is one.
        stock_system = next((s for s in reversed(company.systems) if "inventory_snapshot" in SYSTEM_ENTITIES[s]), None)
        if stock_system:
            self._stock(stock_system, products[stock_system])
        return self.out

    def _sales_view(self, system: str, entity: str, prefix: str, created: np.ndarray, settled: np.ndarray,
                    customers: _PartyIds, product_ids: list[str],
                    references: list[str | None] | None = None) -> _DocumentView:
        invoice = entity == "invoice"
        return _DocumentView(
            system, entity, prefix, created, settled, "open", "paid" if invoice else "fulfilled",
            "void" if invoice else "cancelled", self._refer(customers, self.books.sales.party, created),
            product_ids, due_days=self.terms_days if invoice else None, balance=invoice, references=references,
        )

    # -- products ----------------------------------------------------------------------------------

    def _products(self, system: str) -> list[str]:
        """The catalog in one system: a new version whenever repricing changes price or cost."""
        catalog = self.books.catalog
        created = np.full(catalog.size, catalog.opens_at, dtype=np.int64)
        copies = self._copies(created, self.rates.duplicate, 60, DAY)
        serials, copy_serials = _serial_groups(created, np.array(list(copies.values())))
        ids = self._ids(system, "product", serials)
        copy_ids = dict(zip(copies, self._ids(system, "product", copy_serials)))
        prices, costs = self._money(catalog.price), self._money(catalog.cost)
        for p in range(catalog.size):
            version, first_body = 0, None
            for k in range(len(catalog.period_starts)):
                updated = catalog.repriced_at(p, k)
                if updated >= self.closes_at:
                    break
                if k and (prices[p][k], costs[p][k]) == (prices[p][k - 1], costs[p][k - 1]):
                    continue
                version += 1
                body = {"sku": self.skus[p], "name": self.product_names[p], "category": self.categories[p],
                        "unit_price": prices[p][k], "unit_cost": costs[p][k], "taxable": bool(catalog.taxable[p])}
                self._emit(system, "product", ids[p], version, catalog.opens_at, updated, body, {})
                first_body = first_body or body
            if p in copies and first_body:
                self._emit_duplicate(system, "product", copy_ids[p], copies[p], first_body, ids[p], [])
        return ids

    # -- customers and vendors ---------------------------------------------------------------------

    def _person(self, entity: str, member: int, consumer: bool) -> dict[str, Any]:
        """A party's true details, shared by every system the company runs."""
        key = (entity, member)
        if key not in self._people:
            country = self.company.country
            name = names.person_name(self.rnd, country) if consumer else names.business_name(self.rnd, country)
            self._people[key] = {
                "name": name, "email": names.email(self.rnd, name), "phone": names.phone(self.rnd, country),
                "address": names.address(self.rnd, country),
            }
        return self._people[key]

    def _parties(self, system: str, entity: str, pool: Parties) -> _PartyIds:
        """Records of every member that trades, created just before its first document, plus for some
        a second record: an exact duplicate or a spelling variant, which later documents may use."""
        n = len(pool)
        trades = pool.first_at < self.closes_at
        created = np.maximum(self.books.window.opens_at,
                             np.where(trades, pool.first_at, 0) - self.rng.integers(60, HOUR, n))
        draw = self.rng.random(n)
        duplicate = trades & (draw < self.rates.duplicate)
        variant = trades & ~duplicate & (draw < self.rates.duplicate + self.rates.spelling_variant)
        alias_at = np.where(duplicate | variant, created + self.rng.integers(HOUR, 60 * DAY, n), NEVER)
        alias_at = np.where(alias_at < self.closes_at, alias_at, NEVER)
        members, aliased = np.flatnonzero(trades), np.flatnonzero(alias_at < NEVER)
        serials, alias_serials = _serial_groups(created[members], alias_at[aliased])
        ids: list[str | None] = [None] * n
        alias_ids: list[str | None] = [None] * n
        for member, record_id in zip(members.tolist(), self._ids(system, entity, serials)):
            ids[member] = record_id
        for member, record_id in zip(aliased.tolist(), self._ids(system, entity, alias_serials)):
            alias_ids[member] = record_id
        for member in members.tolist():
            details = self._person(entity, member, bool(pool.consumer[member]))
            party = f"{self.company.company_id}:{entity}:{member}"
            body, marks = self._party_body(details, entity)
            at = int(created[member])
            self._emit(system, entity, ids[member], 1, at, at, body,
                       {"party": party, "defects": marks} if marks else {"party": party})
            alias_id, alias_time = alias_ids[member], int(alias_at[member])
            if alias_id and duplicate[member]:
                self._emit_duplicate(system, entity, alias_id, alias_time, body, ids[member], marks, party=party)
            elif alias_id:
                variant_body, variant_marks = self._party_body(details, entity)
                variant_body["name"] = names.spelling_variant(details["name"], self.rnd)
                if "address" in variant_body and self.rnd.random() < 0.5:
                    variant_body["address"] = names.address_variant(variant_body["address"], self.rnd)
                self._emit(system, entity, alias_id, 1, alias_time, alias_time, variant_body,
                           {"party": party, "defects": ["spelling_variant", *variant_marks]})
        return _PartyIds(ids, alias_ids, alias_at)

    def _party_body(self, details: dict[str, Any], entity: str) -> tuple[dict[str, Any], list[str]]:
        currency, marks = self._currency_code()
        body = dict(details, currency=currency)
        return self._drop_optional(body, entity, marks), marks

    def _refer(self, parties: _PartyIds, member: np.ndarray, at: np.ndarray) -> list[str]:
        """The party id each document carries: once a party's alias exists, half its documents use it."""
        use_alias = (parties.alias_at[member] <= at) & (self.rng.random(len(member)) < 0.5)
        return [parties.alias_ids[m] if alias else parties.ids[m]  # type: ignore[misc]
                for m, alias in zip(member.tolist(), use_alias.tolist())]

    # -- documents -----------------------------------------------------------------------------------

    def _line_dicts(self, view: _DocumentView, docs: Documents) -> list[dict[str, Any]]:
        lines = docs.lines
        line_no = (np.arange(len(lines)) - np.repeat(docs.first_line, docs.line_count) + 1).tolist()
        return [
            {"line_no": no, "product_id": view.product_ids[p], "sku": self.skus[p],
             "description": self.product_names[p], "quantity": quantity, "unit_price": price, "amount": amount,
             "tax_amount": tax}
            for no, p, quantity, price, amount, tax in zip(
                line_no, lines.product.tolist(), lines.quantity.astype(float).tolist(), self._money(lines.unit_price),
                self._money(lines.amount), self._money(lines.tax),
            )
        ]

    def _documents(self, view: _DocumentView, docs: Documents, amounts: _Amounts) -> _Rendered:
        """Every version of each document in one view, plus its duplicates and poison copies."""
        created = view.created_at
        duplicates = self._copies(created, self.rates.duplicate, 60, DAY)
        poisons = self._copies(created, self.rates.poison, 1, HOUR)
        serials, duplicate_serials, poison_serials = _serial_groups(
            created, np.array(list(duplicates.values())), np.array(list(poisons.values())))
        ids = self._ids(view.system, view.entity, serials)
        duplicate_ids = dict(zip(duplicates, self._ids(view.system, view.entity, duplicate_serials)))
        poison_serial = dict(zip(poisons, poison_serials))
        lines = self._line_dicts(view, docs)
        issued = _iso_instants(created)
        due = _iso_dates(created + int(view.due_days * DAY)) if view.due_days is not None else None
        first_lines, counts = docs.first_line.tolist(), docs.line_count.tolist()
        rendered = _Rendered([None] * len(docs), [None] * len(docs))
        for i, at in enumerate(created.tolist()):
            if at >= self.closes_at:
                continue
            number = view.number(serials[i])
            rendered.ids[i], rendered.numbers[i] = ids[i], number
            currency, marks = self._currency_code()
            body: dict[str, Any] = {
                "number": number, "party_id": view.party_ids[i], "issued_at": issued[i], "currency": currency,
                "lines": lines[first_lines[i]: first_lines[i] + counts[i]], "subtotal": amounts.subtotal[i],
                "tax_total": amounts.tax[i], "total": amounts.total[i], "status": view.open_status,
            }
            if due is not None:
                body["due_on"] = due[i]
            if view.balance:
                body["balance"] = amounts.total[i]
            if view.references is not None:
                body["reference"] = view.references[i]
            body = self._drop_optional(body, view.entity, marks)
            versions = self._lifecycle(view, docs, i, body, amounts)
            for version, (updated, version_body, deleted, event) in enumerate(versions, start=1):
                version_marks = [*marks, event] if event else marks
                self._emit(view.system, view.entity, ids[i], version, at, updated, version_body,
                           {"defects": version_marks} if version_marks else {}, deleted)
            first_body = versions[0][1]
            if i in duplicates:
                self._emit_duplicate(view.system, view.entity, duplicate_ids[i], duplicates[i], first_body, ids[i],
                                     marks)
            if i in poisons:
                self._emit_poison(view, poison_serial[i], poisons[i], first_body)
        return rendered

    def _emit_poison(self, view: _DocumentView, serial: int, at: int, original: dict[str, Any]) -> None:
        if at >= self.closes_at:
            return
        field = self.rnd.choice(defects.poison_fields(original, view.system))
        body = defects.poisoned(dict(original, number=view.number(serial)), field)
        record_id = self._ids(view.system, view.entity, [serial])[0]
        self._emit(view.system, view.entity, record_id, 1, at, at, body, {"poison": field, "defects": ["poison"]})

    def _lifecycle(self, view: _DocumentView, docs: Documents, i: int, body: dict[str, Any],
                   amounts: _Amounts) -> list[tuple[int, dict[str, Any], bool, str | None]]:
        """Versions of one document as (updated_at, body, deleted, defect marking that version). An
        event at the creation instant (a consumer paying at the till) folds into version 1."""
        created = int(view.created_at[i])
        events = sorted(
            (int(t), kind) for kind, t in ((_EDIT, docs.edit_at[i]), (_SETTLE, view.settled_at[i]),
                                           (_FATE, docs.fate_at[i]))
            if t < self.closes_at
        )
        versions: list[tuple[int, dict[str, Any], bool, str | None]] = [(created, body, False, None)]
        for at, kind in events:
            current = dict(versions[-1][1])
            deleted, event = False, None
            if kind == _EDIT:
                lines = list(current["lines"])
                offset = int(docs.edit_line[i] - docs.first_line[i])
                lines[offset] = dict(lines[offset], quantity=float(docs.edit_quantity[i]),
                                     amount=amounts.amended_line_amount[i], tax_amount=amounts.amended_line_tax[i])
                current.update(lines=lines, subtotal=amounts.amended_subtotal[i], tax_total=amounts.amended_tax[i],
                               total=amounts.amended_total[i])
                if view.balance:
                    current["balance"] = amounts.amended_total[i]
                event = "late_edit"
            elif kind == _SETTLE:
                current["status"] = view.settled_status
                if view.balance:
                    current["balance"] = 0.0
            elif docs.fate[i] == VOID:
                current["status"] = view.void_status
                if view.balance:
                    current["balance"] = 0.0
                event = "void"
            elif docs.fate[i] == DELETE:
                deleted, event = True, "delete"
            if at == created:
                versions[-1] = (created, current, deleted, event)
            else:
                versions.append((at, current, deleted, event))
        return versions

    # -- payments, credit notes, stock -----------------------------------------------------------------

    def _payments(self, system: str, invoices: _Rendered, party_ids: list[str]) -> None:
        """One payment per paid invoice, for its total at the time (after any amendment)."""
        sales = self.books.sales
        invoiced = np.array([i is not None for i in invoices.ids], dtype=bool)
        paid = np.flatnonzero((sales.settled_at < self.closes_at) & invoiced)
        paid_at = sales.settled_at[paid]
        copies = self._copies(paid_at, self.rates.duplicate, 60, DAY)
        serials, copy_serials = _serial_groups(paid_at, np.array(list(copies.values())))
        ids = self._ids(system, "payment", serials)
        copy_ids = dict(zip(copies, self._ids(system, "payment", copy_serials)))
        amended = sales.edit_at[paid] < paid_at
        totals = np.where(amended, sales.amended_subtotal[paid] + sales.amended_tax[paid],
                          sales.subtotal[paid] + sales.tax[paid])
        amounts, paid_iso = self._money(totals), _iso_instants(paid_at)
        for k, (sale, at) in enumerate(zip(paid.tolist(), paid_at.tolist())):
            currency, marks = self._currency_code()
            method = "card" if sales.consumer[sale] else self.rnd.choice(("bank_transfer", "check", "card"))
            body = {"party_id": party_ids[sale], "invoice_id": invoices.ids[sale], "paid_at": paid_iso[k],
                    "amount": amounts[k], "currency": currency, "method": method}
            body = self._drop_optional(body, "payment", marks)
            self._emit(system, "payment", ids[k], 1, at, at, body, {"defects": marks} if marks else {})
            if k in copies:
                self._emit_duplicate(system, "payment", copy_ids[k], copies[k], body, ids[k], marks)

    def _credit_notes(self, system: str, invoices: _Rendered, party_ids: list[str], product_ids: list[str]) -> None:
        """A credit note for one whole line of a paid invoice, as amended if it was."""
        sales, lines = self.books.sales, self.books.sales.lines
        credited = np.flatnonzero(sales.credit_at < self.closes_at)
        credit_at = sales.credit_at[credited]
        (serials,) = _serial_groups(credit_at)
        line = sales.credit_line[credited]
        amended = (sales.edit_line[credited] == line) & (sales.edit_at[credited] < credit_at)
        quantity = np.where(amended, sales.edit_quantity[credited], lines.quantity[line]).astype(float).tolist()
        amount = np.where(amended, sales.edit_amount[credited], lines.amount[line])
        tax = np.where(amended, sales.edit_tax[credited], lines.tax[line])
        amounts, taxes, totals = self._money(amount), self._money(tax), self._money(amount + tax)
        prices, issued = self._money(lines.unit_price[line]), _iso_instants(credit_at)
        ids = self._ids(system, "credit_note", serials)
        products = lines.product[line].tolist()
        for k, (sale, at, product) in enumerate(zip(credited.tolist(), credit_at.tolist(), products)):
            currency, marks = self._currency_code()
            body = {
                "number": f"CN-{serials[k]:05d}", "party_id": party_ids[sale], "issued_at": issued[k],
                "currency": currency,
                "lines": [{"line_no": 1, "product_id": product_ids[product], "sku": self.skus[product],
                           "description": self.product_names[product], "quantity": quantity[k],
                           "unit_price": prices[k], "amount": amounts[k], "tax_amount": taxes[k]}],
                "subtotal": amounts[k], "tax_total": taxes[k], "total": totals[k], "status": "open",
                "applies_to": invoices.ids[sale],
            }
            self._emit(system, "credit_note", ids[k], 1, at, at, body, {"defects": marks} if marks else {})

    def _stock(self, system: str, product_ids: list[str]) -> None:
        stock = self.books.stock
        (serials,) = _serial_groups(stock.taken_at)
        ids = self._ids(system, "inventory_snapshot", serials)
        costs = self._money(stock.unit_cost)
        as_of = np.datetime_as_string(np.datetime64(self.config.start) + stock.as_of_day).tolist()
        for k, (product, at) in enumerate(zip(stock.product.tolist(), stock.taken_at.tolist())):
            body = {"product_id": product_ids[product], "sku": self.skus[product], "as_of": as_of[k],
                    "quantity_on_hand": float(stock.quantity[k]), "unit_cost": costs[k]}
            self._emit(system, "inventory_snapshot", ids[k], 1, at, at, body, {})


def render(company: Company, books: Books, config: SandboxConfig, rng: np.random.Generator) -> list[Record]:
    """Every record version of one company, in every system it runs."""
    return _CompanyRenderer(company, books, config, rng).records()
