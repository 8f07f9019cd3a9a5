"""The sandbox configuration (conf/sandbox.toml): the economy to generate and how its APIs misbehave.

Parts owned by the emulators (drift, faults, limits) are declared here too so one file configures a
sandbox end to end and a bad key fails at load naming itself.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from connectors.sandbox.countries import COUNTRIES
from connectors.sandbox.model import ACCOUNTING_SYSTEMS, API_SYSTEMS, SYSTEM_ENTITIES

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "conf" / "sandbox.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DriftRule(_Strict):
    """A source system changes the shape of one entity's payload from a date on.

    Applies to every record version the emulator renders whose `updated_at` is on or after `on`
    (a tenant's app update reaches the records written after it, not the history)."""

    system: str
    entity: str
    on: date
    kind: Literal["rename", "retype", "add"]
    field: str = Field(description="dotted path in the rendered payload, e.g. 'TotalAmt' or 'Line.Amount'")
    to: str = Field(
        description="rename: the new field name; retype: 'string' | 'number' | 'boolean'; add: the new field's name"
    )


class FaultConfig(_Strict):
    """Fault rates of one emulated system, each a probability per request (0 = never)."""

    error_rate: float = Field(0.0, ge=0, le=1, description="answer 500/502/503 with the system's error body")
    throttle_rate: float = Field(0.0, ge=0, le=1, description="answer 429 + Retry-After though within limits")
    timeout_rate: float = Field(0.0, ge=0, le=1, description="stall longer than any sane client timeout")
    slow_rate: float = Field(0.0, ge=0, le=1, description="answer after `slow_seconds`")
    slow_seconds: float = Field(2.0, ge=0)
    timeout_seconds: float = Field(30.0, ge=0, description="how long a 'timeout' stalls")
    truncate_rate: float = Field(0.0, ge=0, le=1, description="cut a page's body mid-way (invalid JSON)")
    token_ttl_seconds: int | None = Field(None, ge=1, description="override access-token lifetime")
    failing_resources: tuple[str, ...] = Field(
        (),
        description="resources that always fail the way the system fails them, e.g. NetSuite record types "
        "its REST record API cannot serve (a connector must fall back to SuiteQL for them)",
    )


# -- the economy -------------------------------------------------------------------------------------


class SectorConfig(_Strict):
    """How companies of one sector trade. Rates are for a median-size company (size 1.0) on a day when
    the sector's latent demand is 1.0."""

    weight: float = Field(gt=0, description="relative share of the companies beyond the per-cell minimum")
    orders_per_day: float = Field(gt=0)
    lines_per_order: float = Field(ge=1, description="mean lines on a sale")
    units_per_line: float = Field(ge=1, description="mean quantity on a line")
    unit_price_usd: float = Field(gt=0, description="median list price, in USD at the start's FX levels")
    price_spread: float = Field(ge=0, description="lognormal sigma of list prices across a catalog")
    gross_margin: float = Field(gt=0, lt=1, description="unit_cost = unit_price × (1 − gross_margin)")
    products: int = Field(ge=1, description="catalog size of a median-size company")
    b2c_share: float = Field(ge=0, le=1, description="share of sales to consumers, paid at the sale")
    customers_per_sale: float = Field(gt=0, le=1, description="consumers: distinct customers per sale")
    business_customers: int = Field(ge=1, description="business customers of a median-size company")
    payment_terms_days: int = Field(ge=0, description="business invoices fall due after this many days")
    payment_delay_days: float = Field(ge=0, description="mean lateness beyond terms (exponential)")
    fulfilment_days: float = Field(ge=0, description="sales order to invoice/fulfilment, at most")
    shopify_share: float = Field(ge=0, le=1, description="share of companies that also sell through Shopify")
    annual_growth: float = Field(description="trend of latent demand, e.g. 0.03 = +3 % a year")
    annual_inflation: float = Field(description="trend of the sector's prices")
    weekly_pattern: tuple[float, float, float, float, float, float, float] = Field(
        description="relative demand Monday..Sunday (normalized to mean 1)"
    )
    yearly_amplitude: float = Field(ge=0, lt=1, description="seasonal swing around the trend")
    yearly_peak_day: int = Field(ge=1, le=366, description="day of year of the seasonal peak")
    purchase_orders_per_week: float = Field(gt=0)
    purchase_lead_days: int = Field(ge=1, description="purchases lead the sales they supply by this much")
    vendors: int = Field(ge=1, description="vendors of a median-size company")


class RegionConfig(_Strict):
    weight: float = Field(gt=0)
    countries: dict[str, float] = Field(description="ISO 3166-1 alpha-2 → relative weight")
    annual_growth: float = Field(0.0, description="added to every sector's growth in this region")


class ShockConfig(_Strict):
    """A step change of latent demand, e.g. {sector="retail", region="EU", start=2026-03-02, weeks=6,
    effect=-0.15}; an omitted sector or region means all of them."""

    sector: str | None = None
    region: str | None = None
    start: date
    weeks: int = Field(ge=1)
    effect: float = Field(gt=-1, description="relative change of demand while the shock lasts")


class PanelConfig(_Strict):
    """Who is in the panel when: companies join late and churn, except a stable core per cell so every
    sector × region cell keeps a constant panel large enough for disclosure control."""

    min_per_cell: int = Field(ge=0, description="companies dealt round-robin to every sector × region first")
    stable_per_cell: int = Field(ge=0, description="of those, present for the whole window (never join late or churn)")
    late_join_share: float = Field(ge=0, le=1, description="others: share onboarded after the start")
    churn_share: float = Field(ge=0, le=1, description="others: share that churn before the end")
    min_tenure_days: int = Field(ge=1, description="a company stays at least this long")


class CompanyConfig(_Strict):
    size_sigma: float = Field(ge=0, description="lognormal sigma of company size (median 1.0)")
    daily_noise: float = Field(ge=0, description="lognormal sigma of a company's day-to-day activity")
    growth_sigma: float = Field(ge=0, description="spread of a company's own annual growth drift")


class LatentConfig(_Strict):
    demand_noise: float = Field(ge=0, description="daily sigma of a cell's AR(1) demand noise")
    demand_persistence: float = Field(ge=0, lt=1, description="AR(1) coefficient of that noise")
    price_noise: float = Field(ge=0, description="daily sigma of a cell's price random walk")


class ActivityConfig(_Strict):
    credit_note_rate: float = Field(ge=0, le=1, description="share of paid sales later partly credited")
    reprice_days: int = Field(ge=1, description="list prices follow sector inflation at this cadence")
    shop_fulfilment_days: float = Field(ge=0, description="a shop order is fulfilled within this many days")
    inventory_products: int = Field(ge=0, description="products whose stock is snapshotted weekly")
    inventory_cover_weeks: float = Field(gt=0, description="stock held, in weeks of expected sales")


class DefectConfig(_Strict):
    """Probabilities per eligible record; each defect is marked in Record.truth."""

    duplicate: float = Field(ge=0, le=1, description="a record stored twice: same content, new id")
    spelling_variant: float = Field(ge=0, le=1, description="a customer/vendor again under a variant spelling")
    missing_optional: float = Field(
        ge=0, le=1, description="an optional field (email, phone, address, due_on, method) absent"
    )
    currency_code: float = Field(ge=0, le=1, description="currency as lowercase or a non-ISO alias ('usd', 'US$')")
    poison: float = Field(ge=0, le=1, description="an extra document with one impossible value")
    late_edit: float = Field(ge=0, le=1, description="an open document edited days/weeks later, amounts changed")
    void: float = Field(ge=0, le=1, description="a sale voided (orders cancelled) or a purchase order cancelled")
    delete: float = Field(ge=0, le=1, description="a document deleted in its source system")


class FxConfig(_Strict):
    daily_volatility: float = Field(ge=0, description="sigma of the daily log change of each rate")
    mean_reversion: float = Field(ge=0, lt=1, description="daily pull back toward the currency's usual level")


class SandboxConfig(_Strict):
    """conf/sandbox.toml: the synthetic economy, its defects, and the emulators' drift and faults."""

    seed: int
    companies: int = Field(ge=1)
    start: date
    end: date = Field(description="last day of activity (inclusive); the emulators' default clock")
    accounting: dict[str, float] = Field(description="accounting system → relative weight")
    sectors: dict[str, SectorConfig]
    regions: dict[str, RegionConfig]
    shocks: list[ShockConfig] = []
    panel: PanelConfig
    company: CompanyConfig
    latent: LatentConfig
    activity: ActivityConfig
    defects: DefectConfig
    fx: FxConfig
    drift: list[DriftRule] = []
    faults: dict[str, FaultConfig] = {}

    @model_validator(mode="after")
    def _names_exist(self) -> SandboxConfig:
        def known(where: str, value: str | None, allowed: Iterable[str]) -> None:
            names = sorted(allowed)
            if value is not None and value not in names:
                raise ValueError(f"{where}: unknown {value!r}; use one of {', '.join(names)}")

        if self.end <= self.start:
            raise ValueError(f"end: {self.end} is not after start {self.start}; set end later than start")
        for system in self.accounting:
            known("accounting", system, ACCOUNTING_SYSTEMS)
        for name, region in self.regions.items():
            for country in region.countries:
                known(f"regions.{name}.countries", country, COUNTRIES)
        for i, shock in enumerate(self.shocks):
            known(f"shocks[{i}].sector", shock.sector, self.sectors)
            known(f"shocks[{i}].region", shock.region, self.regions)
        for i, rule in enumerate(self.drift):
            known(f"drift[{i}].system", rule.system, SYSTEM_ENTITIES)
            known(f"drift[{i}].entity", rule.entity, SYSTEM_ENTITIES[rule.system])
        for system in self.faults:
            known("faults", system, API_SYSTEMS)
        if self.panel.stable_per_cell > self.panel.min_per_cell:
            raise ValueError(
                f"panel.stable_per_cell ({self.panel.stable_per_cell}) exceeds panel.min_per_cell "
                f"({self.panel.min_per_cell}); stable companies come from the per-cell minimum"
            )
        return self


class SandboxConfigError(ValueError):
    """conf/sandbox.toml cannot be used; the message names each offending key and what to do."""


def load_config(path: Path | None = None) -> SandboxConfig:
    """Read and validate a sandbox config (default: conf/sandbox.toml at the repository root)."""
    path = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SandboxConfigError(f"{path}: no such file; pass --config or restore conf/sandbox.toml") from None
    except tomllib.TOMLDecodeError as error:
        raise SandboxConfigError(f"{path}: not valid TOML ({error}); fix the syntax there") from None
    return parse_config(raw, source=str(path))


def parse_config(raw: dict, *, source: str = "sandbox config") -> SandboxConfig:
    """Validate a config mapping, turning pydantic's errors into one message that names every key."""
    try:
        return SandboxConfig.model_validate(raw)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            key = ".".join(str(part) for part in item["loc"]) or "(top level)"
            if item["type"] == "extra_forbidden":
                problems.append(f"{key}: unknown key; remove it or correct its spelling")
            elif item["type"] == "missing":
                problems.append(f"{key}: required key is missing; add it")
            elif item["loc"]:
                problems.append(f"{key}: {item['msg']}")
            else:  # a cross-field check: its message names the keys itself
                problems.append(item["msg"].removeprefix("Value error, "))
        raise SandboxConfigError(f"{source}: " + "; ".join(problems)) from None
