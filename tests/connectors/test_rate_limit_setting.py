"""A connection's `rate_limit` overrides its system's default budget, in every API connector alike."""

from __future__ import annotations

import asyncio

import pytest

from connectors.catalog import connector_class
from connectors.http.limits import RateLimit
from connectors.http.settings import rate_limit_setting
from connectors.registry import Connection, RateLimitOverride
from connectors.systems import API_SYSTEMS

DEFAULT = RateLimit(rate=2.0, burst=40, concurrency=4)


def _shop(rate_limit: RateLimitOverride | None) -> Connection:
    return Connection(system="shopify", company_id="c1", base_url="https://c1.myshopify.com", entities=("sales_order",),
                      rate_limit=rate_limit)


def test_given_no_override_when_the_budget_is_chosen_then_the_system_default_stands():
    assert rate_limit_setting(_shop(None), DEFAULT) == DEFAULT


def test_given_a_partial_override_when_the_budget_is_chosen_then_only_the_fields_given_replace_the_default():
    chosen = rate_limit_setting(_shop(RateLimitOverride(rate_per_second=0.5, burst=3)), DEFAULT)

    assert chosen == RateLimit(rate=0.5, burst=3, concurrency=4)


@pytest.mark.parametrize("system", API_SYSTEMS)
def test_given_a_connection_with_a_rate_limit_when_its_connector_opens_then_its_client_keeps_to_it(served_sandbox, system):
    tenant = next(c for c in served_sandbox.registry.connections if c.system == system)
    tight = tenant.model_copy(update={"rate_limit": RateLimitOverride(rate_per_second=0.25, burst=2, concurrency=1)})

    connector = connector_class(system)(tight)
    try:
        assert connector.client.budget.limit == RateLimit(rate=0.25, burst=2, concurrency=1)
    finally:
        asyncio.run(connector.aclose())
