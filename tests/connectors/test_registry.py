"""The connection registry: validated at load, every mistake named with its connection and key."""

from __future__ import annotations

import pytest

from connectors.registry import RegistryError, load_registry, write_registry

SHOP = '''
[[connection]]
system = "shopify"
company_id = "c1"
base_url = "https://c1.myshopify.com"
entities = ["sales_order"]
settings = { shop = "c1" }
credentials = { access_token = "env:C1_SHOP_TOKEN" }
'''


def _registry(tmp_path, text):
    path = tmp_path / "connections.toml"
    path.write_text(text)
    return path


def test_given_a_registry_when_loaded_and_written_back_then_it_is_the_same(tmp_path):
    registry = load_registry(_registry(tmp_path, SHOP))
    write_registry(registry, tmp_path / "again.toml")

    assert load_registry(tmp_path / "again.toml") == registry
    assert registry.connections[0].id == "shopify/c1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SHOP + SHOP, "connection shopify/c1 is listed twice"),
        (SHOP.replace('base_url = "https://c1.myshopify.com"\n', ""), "shopify/c1: base_url is required"),
        (SHOP.replace('"env:C1_SHOP_TOKEN"', '"shpat_literal_token"'), "credentials.access_token: .*is not a secret reference"),
        (SHOP.replace('system = "shopify"', 'system = "sap"'), "system 'sap' has no connector"),
    ],
)
def test_given_a_bad_registry_when_loaded_then_the_error_names_the_connection_and_key(tmp_path, text, message):
    with pytest.raises(RegistryError, match=message):
        load_registry(_registry(tmp_path, text))


def test_given_a_missing_registry_then_the_error_says_how_to_get_one(tmp_path):
    with pytest.raises(RegistryError, match="run `groundswell sandbox serve` or pass --registry"):
        load_registry(tmp_path / "nope.toml")
