"""Shopify Admin REST streams: one per listing, named as Shopify names the resource.

Shopify keeps no record of deletions (a deleted order, customer or product is simply absent), so there is
no deletes stream. Orders are listed with status=any: the default (open) would hide closed and cancelled
orders. Inventory levels have no id of their own: an item's level at a location is keyed by both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.base import Stream
from connectors.dates import parse_instant


@dataclass(frozen=True)
class ShopifyStream(Stream):
    path: str = ""  # under the shop's /admin/api/{version}/
    envelope: str = ""  # the listing's top-level key
    params: dict[str, str] = field(default_factory=dict)  # fixed filters of the first request
    bounded: bool = True  # the listing takes updated_at_max (inventory levels take only updated_at_min)
    by_location: bool = False  # the listing needs location_ids (inventory levels)


def _updated_at(record: dict[str, Any]) -> datetime | None:
    return parse_instant(record.get("updated_at"))


def _id(record: dict[str, Any]) -> str:
    return str(record["id"])


def _level_key(record: dict[str, Any]) -> str:
    return f"{record['inventory_item_id']}@{record['location_id']}"


STREAMS: dict[str, ShopifyStream] = {
    "sales_order": ShopifyStream(
        name="orders", entity="sales_order", key=_id, updated_at=_updated_at,
        path="orders.json", envelope="orders", params={"status": "any"},
    ),
    "customer": ShopifyStream(
        name="customers", entity="customer", key=_id, updated_at=_updated_at, path="customers.json", envelope="customers",
    ),
    "product": ShopifyStream(
        name="products", entity="product", key=_id, updated_at=_updated_at, path="products.json", envelope="products",
    ),
    "inventory_snapshot": ShopifyStream(
        name="inventory_levels", entity="inventory_snapshot", key=_level_key, updated_at=_updated_at,
        path="inventory_levels.json", envelope="inventory_levels", bounded=False, by_location=True,
    ),
}


def streams_for(entities: tuple[str, ...]) -> list[ShopifyStream]:
    unknown = [entity for entity in entities if entity not in STREAMS]
    if unknown:
        raise ValueError(f"Shopify has no stream for {', '.join(unknown)}: it serves {', '.join(STREAMS)}")
    return [STREAMS[entity] for entity in entities]
