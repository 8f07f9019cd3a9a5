"""One company's trading, simulated as numpy arrays: its catalog, sales with lines and lifecycles,
purchase orders, and stock levels — system-neutral numbers, before any system gives them ids or shapes.

Activity = size × latent demand of the company's sector and region × idiosyncratic daily noise ×
the company's own growth drift. Amounts are integers in the currency's minor unit, times are UTC epoch
seconds, so every sum is exact and every run identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from connectors.sandbox.config import DefectConfig, SandboxConfig, SectorConfig
from connectors.sandbox.countries import COUNTRIES, CURRENCIES
from connectors.sandbox.economy import Economy
from connectors.sandbox.model import Company

DAY = 86_400
HOUR = 3_600
NEVER = np.iinfo(np.int64).max  # an event that does not happen

NORMAL, VOID, DELETE = 0, 1, 2  # a document's fate


@dataclass(frozen=True)
class Window:
    """When the company's data exists: from onboarding to churn (or the end), in UTC seconds."""

    first_day: int  # economy day index of the first active day
    opens_at: int
    closes_at: int  # exclusive: nothing happens at or after it
    day_starts: np.ndarray  # UTC midnight of each active day
    utc_offsets: np.ndarray  # the company's local UTC offset on each active day, seconds

    @property
    def days(self) -> int:
        return len(self.day_starts)

    @property
    def weekdays(self) -> np.ndarray:
        """0 = Monday … 6 = Sunday, per active day (1970-01-01 was a Thursday)."""
        return ((self.day_starts // DAY) + 3) % 7

    def local_times(self, day: np.ndarray, seconds_after_midnight: np.ndarray) -> np.ndarray:
        """UTC instants of local wall-clock times on active days."""
        return self.day_starts[day] + seconds_after_midnight.astype(np.int64) - self.utc_offsets[day]


@dataclass(frozen=True)
class Catalog:
    """Products with a price and cost per pricing period. The whole catalog exists from the window's
    first instant (it is what the company sells when it connects); each product is repriced within
    the first hour of each later period."""

    price: np.ndarray  # [product, period] list price, minor units
    cost: np.ndarray  # [product, period]
    period_starts: np.ndarray  # UTC seconds each pricing period begins (the first at window open)
    reprice_offset: np.ndarray  # per product: seconds after a period's start its new price applies
    popularity: np.ndarray  # probability a sale line is this product
    taxable: np.ndarray  # bool per product

    @property
    def size(self) -> int:
        return len(self.popularity)

    @property
    def opens_at(self) -> int:
        return int(self.period_starts[0])

    def period(self, at: np.ndarray, product: np.ndarray) -> np.ndarray:
        """The pricing period in force for each product at each instant."""
        return np.maximum(0, np.searchsorted(self.period_starts, at - self.reprice_offset[product], side="right") - 1)

    def repriced_at(self, product: int, period: int) -> int:
        return self.opens_at if period == 0 else int(self.period_starts[period] + self.reprice_offset[product])


@dataclass(frozen=True)
class Lines:
    """Document lines, concatenated; a document owns lines[first_line : first_line + line_count]."""

    product: np.ndarray
    quantity: np.ndarray
    unit_price: np.ndarray  # minor units
    amount: np.ndarray  # quantity × unit_price
    tax: np.ndarray

    def __len__(self) -> int:
        return len(self.product)


@dataclass(frozen=True)
class Documents:
    """Sales or purchase orders with their lifecycle: issued, maybe amended, then settled (paid or
    received), voided or deleted. Times of events that do not happen are NEVER."""

    issued_at: np.ndarray
    party: np.ndarray  # index into the company's customer or vendor pool
    first_line: np.ndarray
    line_count: np.ndarray
    lines: Lines
    fate: np.ndarray  # NORMAL | VOID | DELETE
    fate_at: np.ndarray  # when voided or deleted
    settled_at: np.ndarray  # sales: paid; purchase orders: received
    edit_at: np.ndarray  # the late edit
    edit_line: np.ndarray  # index into lines of the amended line
    edit_quantity: np.ndarray  # its new quantity
    edit_amount: np.ndarray  # and its new amount and tax
    edit_tax: np.ndarray

    def __len__(self) -> int:
        return len(self.issued_at)

    @cached_property
    def subtotal(self) -> np.ndarray:
        return _per_document(self.lines.amount, self.first_line)

    @cached_property
    def tax(self) -> np.ndarray:
        return _per_document(self.lines.tax, self.first_line)

    @cached_property
    def amended_subtotal(self) -> np.ndarray:
        """Subtotal after the late edit (for documents that are never edited: what it would be)."""
        return self.subtotal - self.lines.amount[self.edit_line] + self.edit_amount

    @cached_property
    def amended_tax(self) -> np.ndarray:
        return self.tax - self.lines.tax[self.edit_line] + self.edit_tax


def _per_document(values: np.ndarray, first_line: np.ndarray) -> np.ndarray:
    return np.add.reduceat(values, first_line) if len(first_line) else np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Sales(Documents):
    invoiced_at: np.ndarray  # when the invoice is raised
    fulfilled_at: np.ndarray  # when an order (shop or ERP sales order) is fulfilled
    consumer: np.ndarray  # bool: sold to a consumer, paid at the sale
    credit_at: np.ndarray  # a credit note for one line
    credit_line: np.ndarray


@dataclass(frozen=True)
class Parties:
    """A customer or vendor pool; members who never trade do not exist in any system."""

    first_at: np.ndarray  # first document with the member, or NEVER
    consumer: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.first_at)


@dataclass(frozen=True)
class Stock:
    product: np.ndarray
    taken_at: np.ndarray  # UTC seconds
    as_of_day: np.ndarray  # economy day index of the date the snapshot reports
    quantity: np.ndarray
    unit_cost: np.ndarray


@dataclass(frozen=True)
class Books:
    window: Window
    catalog: Catalog
    sales: Sales
    customers: Parties
    purchases: Documents
    vendors: Parties
    stock: Stock
    tax_rate: float


@dataclass(frozen=True)
class Flow:
    """Which documents the company's systems raise for a sale, which decides their timing."""

    shop: bool  # each sale is a shop order synced to an accounting invoice
    sales_orders: bool  # a sales order is raised first and invoiced at fulfilment
    credit_notes: bool


def simulate(company: Company, economy: Economy, config: SandboxConfig, flow: Flow, rng: np.random.Generator) -> Books:
    sector = config.sectors[company.sector]
    window = _window(company, economy, config)
    demand, price_index = economy.cell(company.sector, company.region)
    active = np.arange(window.first_day, window.first_day + window.days)
    drift = np.exp(rng.normal(0.0, config.company.growth_sigma) * active / 365.25)
    expected = company.size * demand[active] * drift
    noise = config.company.daily_noise
    activity = expected * rng.lognormal(-noise * noise / 2, noise, window.days)
    lead = sector.purchase_lead_days
    demand_ahead = np.concatenate([demand, np.full(lead, demand[-1])])[active + lead]  # flat past the window
    catalog = _catalog(company, sector, config, window, price_index, rng)
    tax_rate = COUNTRIES[company.country].tax_rate
    sales, customers = _sales(company, sector, config, flow, window, activity, catalog, tax_rate, rng)
    purchases, vendors = _purchases(company, sector, config, window, company.size * demand_ahead * drift, catalog,
                                    tax_rate, rng)
    stock = _stock(sector, config, window, expected, catalog, rng)
    return Books(window, catalog, sales, customers, purchases, vendors, stock, tax_rate)


def _window(company: Company, economy: Economy, config: SandboxConfig) -> Window:
    first = max(company.onboarded_on, config.start)
    last = min(company.churned_on or config.end, config.end)
    first_day = (first - config.start).days
    count = (last - first).days + 1
    opens = int(datetime(first.year, first.month, first.day, tzinfo=timezone.utc).timestamp())
    day_starts = opens + DAY * np.arange(count, dtype=np.int64)
    offsets = _utc_offsets(company.timezone, first.toordinal(), count)
    return Window(first_day, opens, opens + DAY * count, day_starts, offsets)


@lru_cache(maxsize=64)
def _utc_offsets(zone: str, first_ordinal: int, count: int) -> np.ndarray:
    tz = ZoneInfo(zone)
    first = datetime.fromordinal(first_ordinal)
    return np.array(
        [int((first + timedelta(days=i, hours=12)).replace(tzinfo=tz).utcoffset().total_seconds())
         for i in range(count)],
        dtype=np.int64,
    )


def _catalog(company: Company, sector: SectorConfig, config: SandboxConfig, window: Window, price_index: np.ndarray,
             rng: np.random.Generator) -> Catalog:
    """List prices follow the sector's price index, reset every `activity.reprice_days`."""
    currency = CURRENCIES[company.currency]
    count = max(3, round(sector.products * company.size**0.3))
    base = rng.lognormal(np.log(sector.unit_price_usd), sector.price_spread, count) / currency.usd_per_unit
    period_days = np.arange(0, window.days, config.activity.reprice_days)
    wobble = rng.lognormal(0.0, 0.01, (count, len(period_days)))
    level = price_index[window.first_day + period_days]
    price = np.maximum(1, np.rint(base[:, None] * level[None, :] * wobble * currency.minor_per_unit)).astype(np.int64)
    cost_share = (1 - sector.gross_margin) * rng.uniform(0.9, 1.1, count)
    cost = np.maximum(1, np.rint(price * cost_share[:, None])).astype(np.int64)
    weights = 1.0 / (1 + rng.permutation(count)) ** 0.9
    return Catalog(
        price=price,
        cost=cost,
        period_starts=window.opens_at + DAY * period_days.astype(np.int64),
        reprice_offset=rng.integers(0, HOUR, count),
        popularity=weights / weights.sum(),
        taxable=rng.random(count) < 0.9,
    )


def _lines(catalog: Catalog, counts: np.ndarray, issued_at: np.ndarray, quantity: np.ndarray, tax_rate: float,
           rng: np.random.Generator, *, at_cost: bool = False) -> tuple[Lines, np.ndarray]:
    """`counts[i]` lines for document i, products drawn by popularity, priced (or costed) as of issue."""
    product = rng.choice(catalog.size, size=len(quantity), p=catalog.popularity)
    period = catalog.period(np.repeat(issued_at, counts), product)
    unit_price = (catalog.cost if at_cost else catalog.price)[product, period]
    amount = quantity * unit_price
    tax = np.where(catalog.taxable[product], np.rint(amount * tax_rate), 0).astype(np.int64)
    first_line = (np.cumsum(counts) - counts).astype(np.int64)
    return Lines(product, quantity, unit_price, amount, tax), first_line


def _uniform_times(rng: np.random.Generator, start: np.ndarray, low: float, high: float) -> np.ndarray:
    return start + (low + rng.random(len(start)) * (high - low)).astype(np.int64)


def _pool_members(rng: np.random.Generator, pool: int, count: int, concentration: float) -> np.ndarray:
    """Repeat business: low indices trade often, the tail rarely."""
    return np.minimum(pool - 1, (pool * rng.random(count) ** concentration).astype(np.int64))


def _first_use(pool: int, member: np.ndarray, at: np.ndarray) -> np.ndarray:
    first = np.full(pool, NEVER, dtype=np.int64)
    np.minimum.at(first, member, at)
    return first


def _fates(rng: np.random.Generator, n: int, defects: DefectConfig) -> np.ndarray:
    draw = rng.random(n)
    return np.where(draw < defects.void, VOID, np.where(draw < defects.void + defects.delete, DELETE, NORMAL))


def _sales(company: Company, sector: SectorConfig, config: SandboxConfig, flow: Flow, window: Window,
           activity: np.ndarray, catalog: Catalog, tax_rate: float, rng: np.random.Generator) -> tuple[Sales, Parties]:
    """Sales at local shop or office hours, each with lines, a customer and a lifecycle."""
    per_day = rng.poisson(sector.orders_per_day * activity)
    day = np.repeat(np.arange(window.days), per_day)
    consumer = rng.random(len(day)) < sector.b2c_share
    opening_hours = np.where(consumer, 13, 10) * HOUR  # shops 08–21, offices 08–18
    at = window.local_times(day, 8 * HOUR + rng.random(len(day)) * opening_hours)
    keep = (at >= window.opens_at) & (at < window.closes_at)
    order = np.argsort(at[keep], kind="stable")
    issued_at, consumer = at[keep][order], consumer[keep][order]
    counts = np.minimum(1 + rng.poisson(sector.lines_per_order - 1, len(issued_at)), catalog.size)
    quantity = 1 + rng.poisson(sector.units_per_line - 1, int(counts.sum()))
    lines, first_line = _lines(catalog, counts, issued_at, quantity, tax_rate, rng)  # the order fixes the price
    party, customers = _customers(company, sector, consumer, issued_at, rng)
    invoiced_at, fulfilled_at = _invoicing(sector, config, flow, issued_at, rng)
    fate = _fates(rng, len(issued_at), config.defects)
    lifecycle = _sale_lifecycle(sector, config, flow, invoiced_at, consumer, fate, rng)
    sales = Sales(
        issued_at=issued_at, party=party, first_line=first_line, line_count=counts, lines=lines, fate=fate,
        **lifecycle, **_amendments(rng, lines, first_line, counts, catalog.taxable, tax_rate),
        invoiced_at=invoiced_at, fulfilled_at=np.where(fate == NORMAL, fulfilled_at, NEVER), consumer=consumer,
        credit_line=first_line + (rng.random(len(counts)) * counts).astype(np.int64),
    )
    return sales, customers


def _customers(company: Company, sector: SectorConfig, consumer: np.ndarray, issued_at: np.ndarray,
               rng: np.random.Generator) -> tuple[np.ndarray, Parties]:
    """Who buys: a pool of businesses (few, repeat buyers) then a pool of consumers sized so that
    `customers_per_sale` of consumer sales come from someone new."""
    businesses = max(1, round(sector.business_customers * company.size**0.5))
    consumers = max(1, int(np.ceil(consumer.sum() * sector.customers_per_sale)))
    n = len(issued_at)
    party = np.where(consumer, businesses + _pool_members(rng, consumers, n, 1.5),
                     _pool_members(rng, businesses, n, 2.0))
    pool = businesses + consumers
    return party, Parties(_first_use(pool, party, issued_at), np.arange(pool) >= businesses)


def _invoicing(sector: SectorConfig, config: SandboxConfig, flow: Flow, issued_at: np.ndarray,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """When each sale is invoiced and fulfilled: a shop order syncs to the books within minutes and
    ships within days; a sales order is invoiced when fulfilled; otherwise the invoice is the sale."""
    if flow.shop:
        return (_uniform_times(rng, issued_at, 30, 300),
                _uniform_times(rng, issued_at, 0.1 * DAY, config.activity.shop_fulfilment_days * DAY))
    if flow.sales_orders:
        invoiced_at = _uniform_times(rng, issued_at, HOUR, sector.fulfilment_days * DAY + HOUR)
        return invoiced_at, invoiced_at
    return issued_at, np.full(len(issued_at), NEVER, dtype=np.int64)


def _sale_lifecycle(sector: SectorConfig, config: SandboxConfig, flow: Flow, invoiced_at: np.ndarray,
                    consumer: np.ndarray, fate: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Voids and deletes within ten days; consumers pay at the till, businesses on terms plus some
    lateness (DSO); an open business invoice may be amended, and is then paid after the amendment;
    some paid sales are later partly credited."""
    n, normal = len(invoiced_at), fate == NORMAL
    fate_at = np.where(normal, NEVER, _uniform_times(rng, invoiced_at, 600, 10 * DAY))
    terms = sector.payment_terms_days * DAY * rng.uniform(0.6, 1.0, n) + rng.exponential(
        sector.payment_delay_days * DAY, n)
    paid_at = np.where(consumer, invoiced_at, invoiced_at + terms.astype(np.int64))
    editable = normal & ~consumer & (rng.random(n) < config.defects.late_edit)
    edit_time = _uniform_times(rng, invoiced_at, 3 * DAY, 28 * DAY)
    paid_at = np.where(editable & (paid_at <= edit_time), _uniform_times(rng, edit_time, DAY, 10 * DAY), paid_at)
    credited = flow.credit_notes & normal & (rng.random(n) < config.activity.credit_note_rate)
    return {
        "fate_at": fate_at,
        "settled_at": np.where(normal, paid_at, NEVER),
        "edit_at": np.where(editable, edit_time, NEVER),
        "credit_at": np.where(credited, _uniform_times(rng, paid_at, DAY, 30 * DAY), NEVER),
    }


def _amendments(rng: np.random.Generator, lines: Lines, first_line: np.ndarray, counts: np.ndarray,
                taxable: np.ndarray, tax_rate: float) -> dict[str, np.ndarray]:
    """Which line a late edit changes, its new quantity (never the old one, never below 1), amount and tax."""
    line = first_line + (rng.random(len(first_line)) * counts).astype(np.int64)
    delta = rng.choice(np.array([-2, -1, 1, 2, 3]), size=len(first_line))
    old = lines.quantity[line]
    new = np.maximum(1, old + delta)
    quantity = np.where(new == old, old + 1, new)
    amount = quantity * lines.unit_price[line]
    tax = np.where(taxable[lines.product[line]], np.rint(amount * tax_rate), 0).astype(np.int64)
    return {"edit_line": line, "edit_quantity": quantity, "edit_amount": amount, "edit_tax": tax}


def _purchases(company: Company, sector: SectorConfig, config: SandboxConfig, window: Window,
               lead_expected: np.ndarray, catalog: Catalog, tax_rate: float,
               rng: np.random.Generator) -> tuple[Documents, Parties]:
    """Purchase orders placed on weekdays at a rate set by the demand expected `purchase_lead_days`
    ahead, each line sized so purchases cover the sales they supply: POs lead sales."""
    weekday = window.weekdays < 5
    per_day = rng.poisson(sector.purchase_orders_per_week / 5 * lead_expected * weekday)
    day = np.repeat(np.arange(window.days), per_day)
    at = window.local_times(day, 9 * HOUR + rng.random(len(day)) * 8 * HOUR)
    keep = (at >= window.opens_at) & (at < window.closes_at)
    issued_at = np.sort(at[keep], kind="stable")
    n = len(issued_at)
    mean_lines = 2.5
    counts = np.minimum(1 + rng.poisson(mean_lines - 1, n), catalog.size)
    per_line = 7 * sector.orders_per_day * sector.lines_per_order * sector.units_per_line / (
        sector.purchase_orders_per_week * mean_lines
    )
    quantity = np.maximum(1, np.rint(per_line * rng.lognormal(0, 0.3, int(counts.sum())))).astype(np.int64)
    lines, first_line = _lines(catalog, counts, issued_at, quantity, tax_rate, rng, at_cost=True)

    pool = max(1, round(sector.vendors * company.size**0.3))
    party = _pool_members(rng, pool, n, 1.5)
    vendors = Parties(_first_use(pool, party, issued_at), np.zeros(pool, dtype=bool))

    lead = sector.purchase_lead_days * DAY
    fate = _fates(rng, n, config.defects)
    fate_at = np.where(fate == NORMAL, NEVER, _uniform_times(rng, issued_at, HOUR, 0.8 * lead))
    received_at = np.where(fate == NORMAL, _uniform_times(rng, issued_at, 0.85 * lead, 1.15 * lead), NEVER)
    editable = (fate == NORMAL) & (rng.random(n) < config.defects.late_edit)
    edit_at = np.where(editable, _uniform_times(rng, issued_at, DAY, 0.8 * lead), NEVER)
    purchases = Documents(
        issued_at=issued_at, party=party, first_line=first_line, line_count=counts, lines=lines, fate=fate,
        fate_at=fate_at, settled_at=received_at, edit_at=edit_at,
        **_amendments(rng, lines, first_line, counts, catalog.taxable, tax_rate),
    )
    return purchases, vendors


def _stock(sector: SectorConfig, config: SandboxConfig, window: Window, expected: np.ndarray, catalog: Catalog,
           rng: np.random.Generator) -> Stock:
    """Weekly on-hand quantity of the best sellers, taken Monday 02:00 local for the Sunday before:
    stock held for `inventory_cover_weeks` of expected sales."""
    tracked = np.argsort(-catalog.popularity, kind="stable")[: config.activity.inventory_products]
    mondays = np.flatnonzero(window.weekdays == 0)
    mondays = mondays[mondays > 0]
    product = np.tile(tracked, len(mondays))
    day = np.repeat(mondays, len(tracked))
    weekly_units = 7 * sector.orders_per_day * sector.lines_per_order * sector.units_per_line
    level = config.activity.inventory_cover_weeks * weekly_units * expected[day] * catalog.popularity[product]
    quantity = np.rint(level * rng.uniform(0.7, 1.3, len(day))).astype(np.int64)
    taken_at = window.local_times(day, np.full(len(day), 2 * HOUR))
    keep = (taken_at >= window.opens_at) & (taken_at < window.closes_at)
    unit_cost = catalog.cost[product, catalog.period(taken_at, product)]
    return Stock(product[keep], taken_at[keep], window.first_day + day[keep] - 1, quantity[keep], unit_cost[keep])
