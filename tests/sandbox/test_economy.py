"""The sandbox config and the macro economy: latent indices, FX rates and the company panel."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from connectors.sandbox.config import SandboxConfigError, load_config, parse_config
from connectors.sandbox.countries import COUNTRIES, CURRENCIES
from connectors.sandbox.economy import build_companies, fx_rates, latent_indices
from connectors.sandbox.model import ACCOUNTING_SYSTEMS
from tests.sandbox.economy_builders import small_config


def _raw_default() -> dict:
    return load_config().model_dump()


# -- config -------------------------------------------------------------------------------------------


def test_given_default_config_when_loaded_then_every_cell_keeps_a_constant_panel_of_at_least_eight() -> None:
    config = load_config()
    stable = Counter(
        (c.sector, c.region) for c in build_companies(config)
        if c.onboarded_on == config.start and c.churned_on is None
    )
    cells = [(s, r) for s in config.sectors for r in config.regions]
    assert min(stable[cell] for cell in cells) >= 8


def test_given_a_misspelt_nested_key_when_parsing_then_the_error_names_it() -> None:
    raw = _raw_default()
    raw["sectors"]["retail"]["order_per_day"] = 2.0
    with pytest.raises(SandboxConfigError, match=r"sectors\.retail\.order_per_day: unknown key"):
        parse_config(raw)


def test_given_a_misspelt_key_in_the_file_when_loading_then_the_error_names_file_and_key(tmp_path: Path) -> None:
    text = Path("conf/sandbox.toml").read_text().replace("[fx]\n", "[fx]\nvolatility = 0.1\n")
    path = tmp_path / "sandbox.toml"
    path.write_text(text)
    with pytest.raises(SandboxConfigError, match=rf"{path}: fx\.volatility: unknown key"):
        load_config(path)


def test_given_a_shock_for_an_unknown_sector_when_parsing_then_the_error_names_the_shock() -> None:
    raw = _raw_default()
    raw["shocks"] = [{"sector": "mining", "start": date(2025, 1, 6), "weeks": 2, "effect": -0.1}]
    with pytest.raises(SandboxConfigError, match=r"shocks\[0\]\.sector: unknown 'mining'"):
        parse_config(raw)


def test_given_a_country_without_facts_when_parsing_then_the_error_names_region_and_country() -> None:
    raw = _raw_default()
    raw["regions"]["EU"]["countries"] = {"DE": 1.0, "XX": 1.0}
    with pytest.raises(SandboxConfigError, match=r"regions\.EU\.countries: unknown 'XX'"):
        parse_config(raw)


def test_given_end_before_start_when_parsing_then_it_fails_naming_end() -> None:
    raw = _raw_default()
    raw["end"] = raw["start"] - timedelta(days=1)
    with pytest.raises(SandboxConfigError, match=r"end: .* is not after start"):
        parse_config(raw)


# -- latent indices -----------------------------------------------------------------------------------


def test_given_a_shock_when_indices_are_built_then_its_cell_alone_moves_by_its_effect() -> None:
    start = date(2025, 1, 6)
    shock = {"sector": "retail", "region": "EU", "start": start + timedelta(weeks=8), "weeks": 4, "effect": -0.3}
    with_shock = small_config(start=start, weeks=20, shocks=[shock])
    without = small_config(start=start, weeks=20, shocks=[])
    shocked, _ = latent_indices(with_shock)
    calm, _ = latent_indices(without)
    s, r = list(with_shock.sectors).index("retail"), list(with_shock.regions).index("EU")
    during = slice(8 * 7, 12 * 7)
    assert np.allclose(shocked[s, r, during] / calm[s, r, during], 0.7)
    assert np.allclose(np.delete(shocked[s, r], np.r_[during]), np.delete(calm[s, r], np.r_[during]))
    others = np.ones(shocked.shape[:2], dtype=bool)
    others[s, r] = False
    assert np.allclose(shocked[others], calm[others])


def test_given_sector_inflation_when_indices_are_built_then_prices_grow_at_that_rate() -> None:
    config = small_config(weeks=104, latent=dict(load_config().latent.model_dump(), price_noise=0.0))
    _, price = latent_indices(config)
    for s, sector in enumerate(config.sectors.values()):
        yearly = price[s, :, 365] / price[s, :, 0]
        assert np.allclose(yearly, np.exp(sector.annual_inflation * 365 / 365.25))


def test_given_weekly_pattern_when_indices_are_built_then_weekends_follow_it() -> None:
    config = small_config(weeks=52)
    demand, _ = latent_indices(config)
    retail = list(config.sectors).index("retail")
    by_weekday = demand[retail, 0, : 52 * 7].reshape(52, 7).mean(axis=0)  # start is a Monday
    pattern = np.asarray(config.sectors["retail"].weekly_pattern)
    assert np.argmax(by_weekday) == np.argmax(pattern)
    assert np.corrcoef(by_weekday, pattern)[0, 1] > 0.95


# -- FX ---------------------------------------------------------------------------------------------


def test_given_a_seed_when_fx_is_built_twice_then_rates_are_identical_and_near_usual_levels() -> None:
    config = small_config(weeks=104)
    first, second = fx_rates(config), fx_rates(config)
    assert first.keys() == second.keys() >= {"USD", "EUR", "GBP", "CAD", "JPY"}
    for code, rates in first.items():
        assert np.array_equal(rates, second[code])
        assert np.all(np.abs(np.log(rates / CURRENCIES[code].usd_per_unit)) < 0.25), code
    assert np.all(first["USD"] == 1.0)
    assert len(np.unique(first["EUR"])) > 300  # it moves every day


def test_given_another_seed_when_fx_is_built_then_the_walk_differs() -> None:
    assert not np.array_equal(fx_rates(small_config(seed=1))["EUR"], fx_rates(small_config(seed=2))["EUR"])


# -- companies --------------------------------------------------------------------------------------


def test_given_a_panel_when_built_then_each_company_is_consistent_with_its_country() -> None:
    config = small_config(companies=300)
    for company in build_companies(config):
        facts = COUNTRIES[company.country]
        assert company.country in config.regions[company.region].countries
        assert company.currency == facts.currency
        assert (company.timezone, company.locale) in facts.places
        assert company.accounting_system in ACCOUNTING_SYSTEMS
        assert company.commerce_system in (None, "shopify")
        assert not (company.accounting_system == "x12" and company.commerce_system)
        assert config.start <= company.onboarded_on <= config.end
        if company.churned_on:
            assert (company.churned_on - company.onboarded_on).days >= config.panel.min_tenure_days


def test_given_a_large_panel_when_built_then_sizes_are_lognormal_around_one_and_systems_follow_weights() -> None:
    config = small_config(companies=3000)
    panel = build_companies(config)
    sizes = np.array([c.size for c in panel])
    assert abs(np.median(sizes) - 1.0) < 0.1
    assert abs(np.std(np.log(sizes)) - config.company.size_sigma) < 0.05
    shares = Counter(c.accounting_system for c in panel)
    total = sum(config.accounting.values())
    for system, weight in config.accounting.items():
        assert abs(shares[system] / len(panel) - weight / total) < 0.03, system
    assert 0.05 < sum(c.commerce_system == "shopify" for c in panel) / len(panel) < 0.6


def test_given_a_panel_when_built_then_some_join_late_and_some_churn_but_the_stable_core_does_not() -> None:
    config = small_config(companies=400, weeks=52,
                          panel=dict(load_config().panel.model_dump(), min_per_cell=3, stable_per_cell=2))
    panel = build_companies(config)
    assert any(c.onboarded_on > config.start for c in panel)
    assert any(c.churned_on for c in panel)
    seen: Counter[tuple[str, str]] = Counter()
    for company in panel[: 3 * 20]:  # the round-robin deal: 20 cells, 3 each
        seen[(company.sector, company.region)] += 1
        if seen[(company.sector, company.region)] <= 2:
            assert company.onboarded_on == config.start and company.churned_on is None


def test_given_the_same_config_when_companies_are_built_with_another_seed_then_ids_stay_and_details_change() -> None:
    first, second = build_companies(small_config(seed=1)), build_companies(small_config(seed=2))
    assert [c.company_id for c in first] == [c.company_id for c in second]
    assert [c.size for c in first] != [c.size for c in second]
