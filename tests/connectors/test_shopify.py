"""Shopify connector: against the served sandbox (whole, faulty, incremental) and the real sample payloads."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from connectors.base import Window
from connectors.catalog import connector_class
from connectors.http.client import SourceError
from connectors.registry import Connection
from connectors.sandbox.emulators.runtime import store_end
from tests.connectors.conftest import read_keys, read_tenants

FIXTURES = Path("/work/shared/fixtures/shopify")
SYSTEM = "shopify"


def _served_keys(sandbox, company_id: str, clock: datetime, **bounds) -> dict[str, set[str]]:
    """What the emulator serves: live records; one level per inventory item (item id = product id × 10 + 2)."""
    live = {
        entity: [r for r in sandbox.store.records(SYSTEM, company_id, entity, as_of=clock, **bounds) if not r.deleted]
        for entity in ("sales_order", "customer", "product")
    }
    levels = {
        str(int(r.body["product_id"]) * 10 + 2)
        for r in sandbox.store.records(SYSTEM, company_id, "inventory_snapshot", as_of=clock) if not r.deleted
    }
    return {
        "orders": {r.record_id for r in live["sales_order"]},
        "customers": {r.record_id for r in live["customer"]},
        "products": {r.record_id for r in live["product"]},
        "inventory_levels": levels,
    }


def _items(keys: set[str]) -> set[str]:
    return {key.partition("@")[0] for key in keys}


def _small_pages(connection: Connection) -> Connection:
    return connection.model_copy(update={"settings": {**connection.settings, "page_size": "20"}})


def test_given_no_faults_when_every_stream_of_every_shop_is_read_then_the_keys_are_what_the_sandbox_serves(served_sandbox):
    clock = store_end(served_sandbox.store)
    connections = served_sandbox.registry.select(systems=[SYSTEM])
    results = read_tenants(connections, Window(None, clock + timedelta(seconds=1)))
    assert connections, "the sandbox has Shopify tenants"
    for connection, (keys, _) in zip(connections, results):
        expected = _served_keys(served_sandbox, connection.company_id, clock)
        keys["inventory_levels"] = _items(keys["inventory_levels"])
        assert keys == expected, connection.company_id


def test_given_faults_and_small_pages_when_every_shop_is_read_then_every_record_still_arrives(served_sandbox):
    clock = store_end(served_sandbox.store)
    sandbox = served_sandbox
    faults = dict(error_rate=0.10, throttle_rate=0.05, timeout_rate=0.02, timeout_seconds=3, truncate_rate=0.05)
    connections = [_small_pages(c) for c in sandbox.registry.select(systems=[SYSTEM])][:4]
    window = Window(None, clock + timedelta(seconds=1))

    with sandbox.faults(SYSTEM, **faults):
        results = read_tenants(connections, window, timeout=httpx.Timeout(1.0, connect=1.0))
    retried = sum(sum(stats.retries.values()) for _, stats in results)
    assert retried > 0, "the faults were injected and retried"
    for connection, (keys, _) in zip(connections, results):
        expected = _served_keys(sandbox, connection.company_id, clock)
        keys["inventory_levels"] = _items(keys["inventory_levels"])
        assert keys == expected, connection.company_id


def test_given_a_window_when_orders_are_read_then_those_updated_in_it_and_at_both_ends_arrive(served_sandbox):
    clock = store_end(served_sandbox.store)
    connection = max(served_sandbox.registry.select(systems=[SYSTEM]), key=lambda c: sum(
        1 for _ in served_sandbox.store.records(SYSTEM, c.company_id, "sales_order", as_of=clock)))
    orders = [r for r in served_sandbox.store.records(SYSTEM, connection.company_id, "sales_order", as_of=clock) if not r.deleted]
    since, until = orders[len(orders) // 3].updated_at, orders[2 * len(orders) // 3].updated_at
    inside = {r.record_id for r in orders if since <= r.updated_at < until}

    got = asyncio.run(read_keys(_small_pages(connection), Window(since, until)))[0]["orders"]

    at_end = {r.record_id for r in orders if r.updated_at == until}  # updated_at_max is inclusive on Shopify
    assert inside and got == inside | at_end


def _fixture(name: str):
    return json.loads((FIXTURES / name).read_text())


def _fixture_shop(requests: list[httpx.Request]) -> httpx.MockTransport:
    """A shop serving the real sample payloads: two order pages linked by page_info, the rest in one page."""
    order = _fixture("order.json")["order"]
    products = _fixture("products.json")
    customer = _fixture("customer.json")["customer"]

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        resource = request.url.path.rsplit("/", 1)[-1]
        if resource == "orders.json" and "page_info" not in request.url.params:
            link = f'<{request.url.copy_with(params={"limit": "250", "page_info": "next-cursor"})}>; rel="next"'
            return httpx.Response(200, json=_fixture("orders.json"), headers={"Link": link})
        pages = {
            "orders.json": {"orders": [order]},
            "products.json": {"products": products},
            "customers.json": {"customers": [customer]},
            "locations.json": {"locations": [{"id": 487838322}, {"id": 905684977}]},
            "inventory_levels.json": _fixture("inventory_levels.json"),
        }
        return httpx.Response(200, json=pages[resource])

    return httpx.MockTransport(handle)


def _fixture_connection(tmp_path: Path, token: str = "shpat_fixture") -> Connection:
    (tmp_path / "token").write_text(token)
    return Connection(
        system=SYSTEM, company_id="fixture", base_url="https://example-shop.myshopify.com",
        entities=("sales_order", "customer", "product", "inventory_snapshot"),
        settings={"shop": "example-shop"}, credentials={"access_token": f"file:{tmp_path / 'token'}"},
    )


def test_given_real_sample_payloads_when_read_then_ids_and_update_times_parse_and_pages_follow_the_link(tmp_path):
    requests: list[httpx.Request] = []
    connection = _fixture_connection(tmp_path)

    async def scenario():
        connector = connector_class(SYSTEM)(connection, transport=_fixture_shop(requests))
        pages = {}
        for stream in connector.streams():
            pages[stream.name] = [(stream.key(r), stream.updated_at(r)) async for page in connector.read(stream, Window(
                datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2030, 1, 1, tzinfo=timezone.utc))) for r in page]
        await connector.aclose()
        return pages

    pages = asyncio.run(scenario())

    first_order = _fixture("orders.json")["orders"][0]
    assert pages["orders"][0] == (str(first_order["id"]), datetime(2008, 1, 10, 16, 0, tzinfo=timezone.utc))
    assert pages["orders"][-1][0] == str(_fixture("order.json")["order"]["id"])
    assert pages["customers"] == [("207119551", datetime(2015, 5, 27, 22, 11, 24, tzinfo=timezone.utc))]
    assert [key for key, _ in pages["products"]] == [str(p["id"]) for p in _fixture("products.json")]
    assert ("39072856@487838322", datetime(2018, 5, 7, 19, 33, 38, tzinfo=timezone.utc)) in pages["inventory_levels"]
    first, linked = [r for r in requests if r.url.path.endswith("orders.json")]
    assert first.url.path == "/admin/api/2025-07/orders.json"
    assert first.url.params["status"] == "any" and first.url.params["updated_at_min"].startswith("2000-01-01T00:00:00")
    assert set(linked.url.params) == {"limit", "page_info"}
    assert all(r.headers["X-Shopify-Access-Token"] == "shpat_fixture" for r in requests)
    levels = next(r for r in requests if r.url.path.endswith("inventory_levels.json"))
    assert levels.url.params["location_ids"] == "487838322,905684977"


def test_given_a_wrong_access_token_when_read_then_it_fails_naming_the_shop_and_never_the_token(
    served_sandbox, tmp_path, capsys, caplog,
):
    secret = "shpat_this-is-not-the-right-token-0123456789"
    real = served_sandbox.registry.select(systems=[SYSTEM])[0]
    (tmp_path / "token").write_text(secret)
    connection = real.model_copy(update={"credentials": {"access_token": f"file:{tmp_path / 'token'}"}})

    with pytest.raises(SourceError) as failure:
        asyncio.run(read_keys(connection, Window(None, store_end(served_sandbox.store))))

    assert failure.value.status == 401 and real.id in str(failure.value)
    captured = capsys.readouterr()
    assert secret not in str(failure.value) + captured.out + captured.err + caplog.text
