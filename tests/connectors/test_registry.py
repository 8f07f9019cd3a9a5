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


def test_given_a_rate_limit_when_loaded_and_written_back_then_only_the_fields_given_are_set(tmp_path):
    registry = load_registry(_registry(tmp_path, SHOP + "rate_limit = { rate_per_second = 0.5, burst = 3 }\n"))
    write_registry(registry, tmp_path / "again.toml")

    limit = load_registry(tmp_path / "again.toml").connections[0].rate_limit
    assert (limit.rate_per_second, limit.burst, limit.concurrency) == (0.5, 3, None)


@pytest.mark.parametrize(
    ("rate_limit", "message"),
    [
        ("{ burst = 0 }", r"connection\[0\] shopify/c1\.rate_limit\.burst: .*greater than or equal to 1"),
        ("{ rate_per_second = -1.0 }", r"connection\[0\] shopify/c1\.rate_limit\.rate_per_second: .*greater than 0"),
        ("{ rate = 2.0 }", r"connection\[0\] shopify/c1\.rate_limit\.rate: Extra inputs"),
    ],
)
def test_given_a_bad_rate_limit_when_loaded_then_the_error_names_the_connection_and_key(tmp_path, rate_limit, message):
    with pytest.raises(RegistryError, match=message):
        load_registry(_registry(tmp_path, SHOP + f"rate_limit = {rate_limit}\n"))


def test_given_a_file_drop_with_a_rate_limit_when_loaded_then_it_is_refused(tmp_path):
    drop = '[[connection]]\nsystem = "csv"\ncompany_id = "c2"\ndrop_dir = "/drops/c2"\nentities = ["invoice"]\n'

    with pytest.raises(RegistryError, match="csv/c2: a file-drop system sends no requests: remove its rate_limit"):
        load_registry(_registry(tmp_path, drop + "rate_limit = { burst = 2 }\n"))
