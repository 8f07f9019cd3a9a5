"""The Shopify Admin REST emulator, specified through its HTTP surface."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from connectors.sandbox.config import DriftRule
from connectors.sandbox.emulators import EmulatorSettings, build_app, tenant_credentials
from connectors.sandbox.emulators.limits import LimitPolicy
from connectors.sandbox.store import SandboxStore
from tests.sandbox.conftest import MAPLE, FakeTimer, client, visible_ids

pytestmark = pytest.mark.anyio

SETTINGS = EmulatorSettings()
CREDENTIALS = tenant_credentials("shopify", MAPLE, SETTINGS)
BASE = f"/shops/{CREDENTIALS['shop']}/admin/api/2025-07"
AUTH = {"X-Shopify-Access-Token": CREDENTIALS["access_token"]}


def _next_link(response: httpx.Response) -> str | None:
    link = response.headers.get("Link")
    return link.split(";")[0].strip("<>") if link else None


async def _walk(http: httpx.AsyncClient, path: str, params: dict[str, str]) -> list[dict]:
    items: list[dict] = []
    response = await http.get(f"{BASE}/{path}", params=params, headers=AUTH)
    key = path.removesuffix(".json")
    while True:
        assert response.status_code == 200, response.text
        items += response.json()[key]
        url = _next_link(response)
        if url is None:
            return items
        response = await http.get(url, headers=AUTH)


async def test_given_more_orders_than_a_page_when_walking_link_headers_then_every_order_arrives_once(
    store: SandboxStore,
) -> None:
    async with client(build_app("shopify", store, SETTINGS)) as http:
        orders = await _walk(http, "orders.json", {"status": "any", "limit": "4"})

    expected = visible_ids(store, "shopify", MAPLE, "sales_order")
    assert [str(order["id"]) for order in orders] == expected
    assert len(expected) == 11  # 12 orders, one deleted: Shopify keeps no list of deleted records


async def test_given_no_status_when_listing_orders_then_only_open_ones_are_served(store: SandboxStore) -> None:
    async with client(build_app("shopify", store, SETTINGS)) as http:
        orders = await _walk(http, "orders.json", {"limit": "250"})

    assert orders and all(order["closed_at"] is None and order["cancelled_at"] is None for order in orders)
    assert {order["name"] for order in orders}.isdisjoint({"#1003", "#1007"})


async def test_given_a_cancelled_order_when_listed_then_it_carries_cancelled_at_and_reason(store: SandboxStore) -> None:
    async with client(build_app("shopify", store, SETTINGS)) as http:
        response = await http.get(f"{BASE}/orders.json", params={"status": "cancelled"}, headers=AUTH)

    (order,) = response.json()["orders"]
    assert order["name"] == "#1003"
    assert order["cancel_reason"] == "customer"
    assert order["cancelled_at"] == "2026-02-07T10:00:00-05:00"  # the shop's New York offset


async def test_given_page_info_when_another_filter_is_passed_then_shopify_refuses_it(store: SandboxStore) -> None:
    async with client(build_app("shopify", store, SETTINGS)) as http:
        first = await http.get(f"{BASE}/orders.json", params={"status": "any", "limit": "2"}, headers=AUTH)
        page_info = parse_qs(urlparse(_next_link(first)).query)["page_info"][0]
        refused = await http.get(f"{BASE}/orders.json", params={"page_info": page_info, "status": "any"}, headers=AUTH)
        allowed = await http.get(
            f"{BASE}/orders.json", params={"page_info": page_info, "limit": "2", "fields": "id,name"}, headers=AUTH
        )

    assert refused.status_code == 400
    assert refused.json() == {
        "errors": {
            "status": (
                "status cannot be passed when page_info is present. "
                "See https://shopify.dev/api/usage/pagination-rest for more information."
            )
        }
    }
    assert allowed.status_code == 200
    assert all(set(order) == {"id", "name"} for order in allowed.json()["orders"])


async def test_given_a_forged_page_info_when_requested_then_it_is_an_invalid_value(store: SandboxStore) -> None:
    async with client(build_app("shopify", store, SETTINGS)) as http:
        response = await http.get(f"{BASE}/orders.json", params={"page_info": "not-a-cursor"}, headers=AUTH)

    assert response.status_code == 400
    assert response.json() == {"errors": {"page_info": "Invalid value."}}


async def test_given_updated_at_min_when_listing_then_only_later_updates_are_served_across_pages(
    store: SandboxStore,
) -> None:
    async with client(build_app("shopify", store, SETTINGS)) as http:
        orders = await _walk(
            http, "orders.json", {"status": "any", "limit": "2", "updated_at_min": "2026-01-15T10:00:00-05:00"}
        )

    assert [order["name"] for order in orders] == ["#1010", "#1011", "#1012", "#1002", "#1003"]


async def test_given_a_limit_above_250_when_listing_then_shopify_serves_at_most_250(store: SandboxStore) -> None:
    async with client(build_app("shopify", store, SETTINGS)) as http:
        response = await http.get(f"{BASE}/customers.json", params={"limit": "1000"}, headers=AUTH)

    assert response.status_code == 200
    assert len(response.json()["customers"]) == 4
    assert _next_link(response) is None


async def test_given_a_wrong_access_token_when_calling_then_401_with_shopifys_error(store: SandboxStore) -> None:
    async with client(build_app("shopify", store, SETTINGS)) as http:
        wrong = await http.get(f"{BASE}/orders.json", headers={"X-Shopify-Access-Token": "shpat_wrong"})
        unknown_shop = await http.get("/shops/nobody/admin/api/2025-07/orders.json", headers=AUTH)

    assert wrong.status_code == 401
    assert wrong.json() == {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
    assert unknown_shop.status_code == 404


async def test_given_a_full_bucket_when_calling_then_429_with_retry_after_and_call_limit(
    store: SandboxStore, timer: FakeTimer
) -> None:
    settings = EmulatorSettings(limits={"shopify": LimitPolicy(bucket_size=3)})  # leak stays 2/s
    async with client(build_app("shopify", store, settings, timer=timer)) as http:
        admitted = [await http.get(f"{BASE}/customers.json", headers=AUTH) for _ in range(3)]
        refused = await http.get(f"{BASE}/customers.json", headers=AUTH)
        timer.advance(0.5)  # one request leaks out
        again = await http.get(f"{BASE}/customers.json", headers=AUTH)

    assert [r.headers["X-Shopify-Shop-Api-Call-Limit"] for r in admitted] == ["1/3", "2/3", "3/3"]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "2.0"
    assert refused.headers["X-Shopify-Shop-Api-Call-Limit"] == "3/3"
    assert "Exceeded 2 calls per second" in refused.json()["errors"]
    assert again.status_code == 200


async def test_given_products_when_listed_then_each_has_a_variant_with_sku_price_and_inventory_item(
    store: SandboxStore,
) -> None:
    async with client(build_app("shopify", store, SETTINGS)) as http:
        products = (await http.get(f"{BASE}/products.json", headers=AUTH)).json()["products"]

    variant = products[1]["variants"][0]
    assert (variant["sku"], variant["price"], variant["product_id"]) == ("SKU-2", "20.00", products[1]["id"])
    assert len({p["variants"][0]["inventory_item_id"] for p in products}) == 3


async def test_given_weekly_snapshots_when_levels_are_listed_then_each_item_shows_its_current_level(
    store: SandboxStore,
) -> None:
    async with client(build_app("shopify", store, SETTINGS)) as http:
        products = (await http.get(f"{BASE}/products.json", headers=AUTH)).json()["products"]
        location = (await http.get(f"{BASE}/locations.json", headers=AUTH)).json()["locations"][0]
        levels = await http.get(f"{BASE}/inventory_levels.json", params={"location_ids": location["id"]}, headers=AUTH)
        unfiltered = await http.get(f"{BASE}/inventory_levels.json", headers=AUTH)

    listed = levels.json()["inventory_levels"]
    assert sorted(level["inventory_item_id"] for level in listed) == sorted(
        p["variants"][0]["inventory_item_id"] for p in products
    )
    assert all(level["available"] == 39 and level["location_id"] == location["id"] for level in listed)
    assert unfiltered.status_code == 422


async def test_given_a_poison_order_when_listed_then_it_is_served_with_its_impossible_values(
    store: SandboxStore,
) -> None:
    async with client(build_app("shopify", store, SETTINGS)) as http:
        orders = await _walk(http, "orders.json", {"status": "any", "limit": "250"})

    poison = next(order for order in orders if order["name"] == "#1009")
    assert poison["total_price"] == "not-a-number"
    assert poison["processed_at"].startswith("0001-01-01T")


async def test_given_a_drift_rule_when_orders_span_its_date_then_only_later_versions_drift(
    store: SandboxStore,
) -> None:
    rule = DriftRule(
        system="shopify",
        entity="sales_order",
        on=date(2026, 1, 12),
        kind="rename",
        field="total_price",
        to="current_total_price",
    )
    async with client(build_app("shopify", store, EmulatorSettings(drift=[rule]))) as http:
        orders = await _walk(http, "orders.json", {"status": "any", "limit": "250"})

    by_name = {order["name"]: order for order in orders}
    assert "total_price" in by_name["#1006"] and "current_total_price" not in by_name["#1006"]  # updated Jan 11
    assert "current_total_price" in by_name["#1007"] and "total_price" not in by_name["#1007"]  # updated Jan 12
    assert "current_total_price" in by_name["#1002"]  # late edit in February: the new version drifts
