"""The macro layer of the sandbox: latent demand and price indices per sector × region, daily FX rates,
and the panel of companies.

The latent indices are the answer key: company activity is drawn from them, so a pipeline that
recovers them from the generated records has measured the economy correctly.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from connectors.sandbox import names
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.countries import COUNTRIES, CURRENCIES
from connectors.sandbox.model import Company

# Independent random streams, so changing one part of the economy leaves the others' draws alone.
STREAM_LATENT, STREAM_FX, STREAM_COMPANIES, STREAM_COMPANY = 1, 2, 3, 4


def rng_for(seed: int, stream: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, stream, *key]))


@dataclass(frozen=True)
class Economy:
    """Latent indices over the window, one value per day; index 0 is `start`."""

    start: date
    days: int
    sectors: tuple[str, ...]
    regions: tuple[str, ...]
    demand: np.ndarray  # [sector, region, day], 1.0 = the sector's usual level at the start
    price: np.ndarray  # [sector, region, day], 1.0 at the start
    fx: dict[str, np.ndarray]  # currency → USD per unit, per day

    def cell(self, sector: str, region: str) -> tuple[np.ndarray, np.ndarray]:
        s, r = self.sectors.index(sector), self.regions.index(region)
        return self.demand[s, r], self.price[s, r]

    def day(self, index: int) -> date:
        return self.start + timedelta(days=index)


def window_days(config: SandboxConfig) -> int:
    return (config.end - config.start).days + 1


def build_economy(config: SandboxConfig) -> Economy:
    sectors, regions = tuple(config.sectors), tuple(config.regions)
    demand, price = latent_indices(config)
    return Economy(config.start, window_days(config), sectors, regions, demand, price, fx_rates(config))


def latent_indices(config: SandboxConfig) -> tuple[np.ndarray, np.ndarray]:
    """demand = trend × weekly × yearly seasonality × shocks × AR(1) noise; price = the sector's
    inflation trend × a small random walk. Both per sector × region × day."""
    rng = rng_for(config.seed, STREAM_LATENT)
    n = window_days(config)
    day = np.arange(n)
    years = day / 365.25
    dates = np.datetime64(config.start) + day
    weekday = (dates.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(int) + 1
    shape = (len(config.sectors), len(config.regions), n)
    demand, price = np.empty(shape), np.empty(shape)
    for s, (sector_name, sector) in enumerate(config.sectors.items()):
        weekly = np.asarray(sector.weekly_pattern) / np.mean(sector.weekly_pattern)
        yearly = 1 + sector.yearly_amplitude * np.cos(2 * math.pi * (day_of_year - sector.yearly_peak_day) / 365.25)
        seasonal = weekly[weekday] * yearly / yearly[0]
        for r, (region_name, region) in enumerate(config.regions.items()):
            trend = np.exp((sector.annual_growth + region.annual_growth) * years)
            noise = _ar1(rng, n, config.latent.demand_noise, config.latent.demand_persistence)
            demand[s, r] = trend * seasonal * np.exp(noise) * _shocks(config, sector_name, region_name, dates)
            walk = np.cumsum(rng.normal(0, config.latent.price_noise, n))
            price[s, r] = np.exp(sector.annual_inflation * years + walk - walk[0])
    return demand, price


def _ar1(rng: np.random.Generator, n: int, sigma: float, phi: float) -> np.ndarray:
    shocks = rng.normal(0, sigma, n)
    out = np.empty(n)
    level = 0.0
    for i in range(n):
        level = phi * level + shocks[i]
        out[i] = level
    return out


def _shocks(config: SandboxConfig, sector: str, region: str, dates: np.ndarray) -> np.ndarray:
    factor = np.ones(len(dates))
    for shock in config.shocks:
        if shock.sector in (None, sector) and shock.region in (None, region):
            first = np.datetime64(shock.start)
            factor[(dates >= first) & (dates < first + 7 * shock.weeks)] *= 1 + shock.effect
    return factor


def fx_rates(config: SandboxConfig) -> dict[str, np.ndarray]:
    """USD per unit of each currency a configured country uses: a mean-reverting log random walk
    around the currency's usual level, rounded to 8 decimals as a rate table would publish it."""
    rng = rng_for(config.seed, STREAM_FX)
    n = window_days(config)
    used = sorted({COUNTRIES[c].currency for region in config.regions.values() for c in region.countries})
    rates = {"USD": np.ones(n)}
    for code in used:
        if code == "USD":
            continue
        steps = rng.normal(0, config.fx.daily_volatility, n)
        level = np.empty(n)
        x = 0.0
        for i in range(n):
            x = (1 - config.fx.mean_reversion) * x + steps[i]
            level[i] = x
        rates[code] = np.round(CURRENCIES[code].usd_per_unit * np.exp(level), 8)
    return rates


def build_companies(config: SandboxConfig) -> list[Company]:
    """The panel: each sector × region cell first gets `panel.min_per_cell` companies round-robin (the
    first `panel.stable_per_cell` of them present the whole window), the rest are spread by sector and
    region weights and may join late or churn."""
    rng = rng_for(config.seed, STREAM_COMPANIES)
    rnd = random.Random(int(rng.integers(2**63)))
    cells = [(s, r) for s in config.sectors for r in config.regions]
    weights = np.array([config.sectors[s].weight * config.regions[r].weight for s, r in cells])
    dealt = len(cells) * config.panel.min_per_cell
    extra = rng.choice(len(cells), size=max(0, config.companies - dealt), p=weights / weights.sum())
    cell_of = [i % len(cells) for i in range(min(dealt, config.companies))] + extra.tolist()
    accounting = list(config.accounting)
    accounting_p = np.array([config.accounting[a] for a in accounting])
    accounting_p = accounting_p / accounting_p.sum()
    window = window_days(config)
    seen: dict[int, int] = {}
    companies = []
    for index, cell in enumerate(cell_of):
        sector, region = cells[cell]
        seen[cell] = seen.get(cell, 0) + 1
        stable = seen[cell] <= config.panel.stable_per_cell
        country_weights = config.regions[region].countries
        country = rnd.choices(list(country_weights), weights=list(country_weights.values()))[0]
        timezone, locale = rnd.choice(COUNTRIES[country].places)
        system = accounting[int(rng.choice(len(accounting), p=accounting_p))]
        # EDI partners trade business to business; they do not run a web shop.
        shop = system != "x12" and rng.random() < config.sectors[sector].shopify_share
        onboarded, churned = _tenure(config, rng, window, stable)
        companies.append(
            Company(
                company_id=f"c{index:05d}",
                name=names.company_name(rnd, sector, country),
                sector=sector,
                region=region,
                country=country,
                currency=COUNTRIES[country].currency,
                size=round(float(rng.lognormal(0.0, config.company.size_sigma)), 6),
                accounting_system=system,
                commerce_system="shopify" if shop else None,
                onboarded_on=onboarded,
                churned_on=churned,
                timezone=timezone,
                locale=locale,
            )
        )
    return companies


def _tenure(config: SandboxConfig, rng: np.random.Generator, window: int, stable: bool) -> tuple[date, date | None]:
    join_draw, churn_draw, join_at, churn_at = rng.random(4)
    if stable:
        return config.start, None
    tenure = min(config.panel.min_tenure_days, window - 1)
    joined = 0
    if join_draw < config.panel.late_join_share:
        joined = int(join_at * (window - tenure))
    if churn_draw < config.panel.churn_share and joined + tenure < window - 1:
        last = joined + tenure + int(churn_at * (window - 1 - joined - tenure))
        return config.start + timedelta(days=joined), config.start + timedelta(days=last)
    return config.start + timedelta(days=joined), None
