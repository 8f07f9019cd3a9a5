"""Shopify Admin REST's wire: where a shop's API lives, how requests are signed, the leaky bucket, paging.

Quirks this module owns:
- A real shop's API is at `https://{shop}.myshopify.com/admin/api/{version}`. The sandbox serves every shop
  from one host, under `/shops/{shop}`; any base URL that is not the shop's own host is addressed that way.
- Auth is the app's access token in `X-Shopify-Access-Token` (it does not expire: nothing to renew).
- REST limits are a leaky bucket per shop and app: 40 requests, leaking 2 a second (standard plans). Our
  bucket leaks a little slower and holds a little less, leaving room for the shop's other traffic; a 429
  carries `Retry-After: 2.0`, which the shared client obeys for the whole shop.
- Listings page through `Link: <...page_info=...>; rel="next"`. The page_info carries the first request's
  filters, and a request with page_info may carry nothing but limit and fields, so only the first request
  sends filters and every next one is exactly the URL Shopify linked.
- updated_at_min and updated_at_max are both inclusive: a record updated exactly at a window's end is read
  again by the next window (at-least-once; bronze drops the duplicate).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from connectors.base import Window
from connectors.http.auth import ApiKeyAuth
from connectors.http.client import ApiClient
from connectors.http.limits import RateLimit
from connectors.http.paginators import PageRequest
from connectors.http.settings import rate_limit_setting, required_secret, required_setting
from connectors.registry import Connection
from connectors.shopify.streams import ShopifyStream

API_VERSION = "2025-07"
MAX_PAGE_SIZE = 250  # the most a Shopify REST listing answers per page
LEAKY_BUCKET = RateLimit(rate=1.8, burst=36, concurrency=4)


def shop_root(base_url: str, shop: str, version: str) -> str:
    """The shop's Admin API root: its own host's /admin/api/{version}, else /shops/{shop}/... on a shared host."""
    base = base_url.rstrip("/")
    if urlsplit(base).hostname == f"{shop}.myshopify.com":
        return f"{base}/admin/api/{version}"
    return f"{base}/shops/{shop}/admin/api/{version}"


def api_client(
    connection: Connection, *, transport: httpx.AsyncBaseTransport | None, timeout: httpx.Timeout | None,
) -> ApiClient:
    root = shop_root(
        connection.base_url or "", required_setting(connection, "shop"), connection.settings.get("api_version", API_VERSION)
    )
    auth = ApiKeyAuth("X-Shopify-Access-Token", required_secret(connection, "access_token"))
    options: dict[str, Any] = {"timeout": timeout} if timeout is not None else {}
    return ApiClient(
        root, label=connection.id, auth=auth, limit=rate_limit_setting(connection, LEAKY_BUCKET),
        headers={"Accept": "application/json"}, transport=transport, **options,
    )


def first_page(stream: ShopifyStream, window: Window, *, limit: int, location_ids: list[str] | None = None) -> PageRequest:
    """The first request of a listing: its fixed filters and the window (later pages follow the Link header)."""
    params = {"limit": str(limit), **stream.params}
    if window.since is not None:
        params["updated_at_min"] = window.since.isoformat()
    if stream.bounded:
        params["updated_at_max"] = window.until.isoformat()
    if location_ids is not None:
        params["location_ids"] = ",".join(location_ids)
    return PageRequest(stream.path, params=params)


def location_ids(payload: Any) -> list[str]:
    """The ids of a shop's locations, from a locations.json answer."""
    return [str(location["id"]) for location in payload.get("locations", [])]
