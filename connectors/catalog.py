"""Which Connector class serves which system (imported only when a connection of that system runs)."""

from __future__ import annotations

import importlib

from connectors.base import Connector

_CONNECTORS = {
    "shopify": "connectors.shopify:ShopifyConnector",
    "quickbooks": "connectors.quickbooks:QuickBooksConnector",
    "netsuite": "connectors.netsuite:NetSuiteConnector",
    "odoo": "connectors.odoo:OdooConnector",
    "xero": "connectors.xero:XeroConnector",
    "businesscentral": "connectors.businesscentral:BusinessCentralConnector",
    "csv": "connectors.csv_drop:CsvDropConnector",
    "x12": "connectors.x12_drop:X12DropConnector",
}


def connector_class(system: str) -> type[Connector]:
    if system not in _CONNECTORS:
        raise KeyError(f"no connector for system {system!r}: known are {', '.join(_CONNECTORS)}")
    module, _, name = _CONNECTORS[system].partition(":")
    return getattr(importlib.import_module(module), name)
