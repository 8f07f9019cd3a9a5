"""Shopify Admin REST API: orders, customers, products (with variants), inventory levels, locations.

Wire facts emulated (shapes from shared/fixtures/shopify/): routes under
/shops/{shop}/admin/api/{version}/; `X-Shopify-Access-Token`; the leaky bucket (40, 2/s) reported in
`X-Shopify-Shop-Api-Call-Limit: n/40` with 429 + `Retry-After: 2.0`; cursor pagination through the
`Link` header, whose page_info carries the first request's filters, so a request with page_info accepts
only limit and fields (anything else is a 400, as on Shopify); orders default to status=open; times in
the shop's UTC offset; money as decimal strings. Shopify keeps no list of deleted records: deleted
records are simply absent. Listings run in updated_at order (what incremental connectors ask for with
order=updated_at asc); other `order` values are ignored, and there is no rel="previous" link.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from connectors.sandbox.emulators.auth import derive
from connectors.sandbox.emulators.base import ApiError, Emulator, json_response
from connectors.sandbox.emulators.limits import LimitHeaders, LimitPolicy
from connectors.sandbox.emulators.wire import local_time, money_text, parse_instant, whole, zone
from connectors.sandbox.model import Company, Record, RecordKey

_VERSION = re.compile(r"\d{4}-(01|04|07|10)")
_PAGINATION_DOC = "https://shopify.dev/api/usage/pagination-rest"
_DEFAULT_LIMIT, _MAX_LIMIT = 50, 250
_ORDER_STATUSES = ("open", "closed", "cancelled", "any")
_CLOSED = ("fulfilled", "cancelled")  # our sales_order statuses Shopify shows with closed_at set


def _not_found() -> ApiError:
    return ApiError(json_response({"errors": "Not Found"}, 404))


def _bad_param(name: str, message: str = "Invalid value.") -> ApiError:
    return ApiError(json_response({"errors": {name: message}}, 400))


def _numeric(value: Any) -> Any:
    """Shopify ids are integers; an id that is not one goes out as it is."""
    return int(value) if isinstance(value, str) and value.isdigit() else value


def _derived_id(record_id: Any, kind: int) -> Any:
    """A child id (variant 1, inventory item 2, address 3) unique per parent record."""
    parent = _numeric(record_id)
    return parent * 10 + kind if isinstance(parent, int) else parent


def _location_id(company: Company) -> int:
    return 60_000_000 + zlib.crc32(company.company_id.encode()) % 10_000_000


@dataclass(frozen=True)
class _Resource:
    entity: str
    key: str  # the envelope key of the listing
    filters: tuple[str, ...]  # parameters a first request may filter by (page_info carries them on)


_ORDERS = _Resource("sales_order", "orders", ("status", "updated_at_min", "updated_at_max"))
_CUSTOMERS = _Resource("customer", "customers", ("updated_at_min", "updated_at_max"))
_PRODUCTS = _Resource("product", "products", ("updated_at_min", "updated_at_max"))
_LEVELS = _Resource("inventory_snapshot", "inventory_levels", ("location_ids", "inventory_item_ids", "updated_at_min"))


class Shopify(Emulator):
    system = "shopify"
    limits = LimitPolicy(bucket_size=40, leak_per_second=2.0)
    limit_headers = LimitHeaders(usage="X-Shopify-Shop-Api-Call-Limit", retry_after="2.0")

    @classmethod
    def credentials(cls, company: Company, secret: str) -> dict[str, str]:
        return {"shop": company.company_id, "access_token": _access_token(company, secret)}

    def routes(self) -> list[BaseRoute]:
        base = "/shops/{shop}/admin/api/{version}"
        return [
            Route(f"{base}/orders.json", self.api(self._orders)),
            Route(f"{base}/customers.json", self.api(self._customers)),
            Route(f"{base}/products.json", self.api(self._products)),
            Route(f"{base}/inventory_levels.json", self.api(self._inventory_levels)),
            Route(f"{base}/locations.json", self.api(self._locations)),
        ]

    async def authenticate(self, request: Request) -> Company:
        company = self.tenants.get(request.path_params["shop"])
        if company is None or not _VERSION.fullmatch(request.path_params["version"]):
            raise _not_found()
        token = request.headers.get("X-Shopify-Access-Token", "")
        if not hmac.compare_digest(token, _access_token(company, self.secret)):
            raise ApiError(
                json_response(
                    {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}, 401
                )
            )
        return company

    def error_response(self, status: int) -> Response:
        reasons = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
        return json_response({"errors": reasons.get(status, "Internal Server Error")}, status)

    def throttled_response(self) -> Response:
        message = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
        return json_response(
            {"errors": message},
            429,
        )

    # -- endpoints -------------------------------------------------------------------------------------

    async def _orders(self, request: Request, company: Company) -> Response:
        return self._list(request, company, _ORDERS, self._order)

    async def _customers(self, request: Request, company: Company) -> Response:
        return self._list(request, company, _CUSTOMERS, self._customer)

    async def _products(self, request: Request, company: Company) -> Response:
        return self._list(request, company, _PRODUCTS, self._product)

    async def _inventory_levels(self, request: Request, company: Company) -> Response:
        params = request.query_params
        if "page_info" not in params and not ({"location_ids", "inventory_item_ids"} & set(params)):
            raise ApiError(
                json_response({"errors": "Must specify at least one of inventory_item_ids or location_ids"}, 422)
            )
        return self._list(request, company, _LEVELS, self._level)

    async def _locations(self, request: Request, company: Company) -> Response:
        location = {
            "id": _location_id(company),
            "name": f"{company.name} warehouse",
            "country_code": company.country,
            "active": True,
            "legacy": False,
            "admin_graphql_api_id": f"gid://shopify/Location/{_location_id(company)}",
        }
        return self._json({"locations": [location]}, request)

    # -- listing ---------------------------------------------------------------------------------------

    def _list(
        self,
        request: Request,
        company: Company,
        resource: _Resource,
        render: Callable[[Company, Record], dict[str, Any]],
    ) -> Response:
        params = request.query_params
        limit = _limit(params.get("limit"))
        if "page_info" in params:
            extra = sorted(set(params) - {"page_info", "limit", "fields"})
            if extra:
                raise _bad_param(
                    extra[0],
                    f"{extra[0]} cannot be passed when page_info is present. "
                    f"See {_PAGINATION_DOC} for more information.",
                )
            filters, after = _open_page_info(params["page_info"], resource)
        else:
            filters, after = {name: params[name] for name in resource.filters if name in params}, None
        accept = self._acceptor(company, resource, filters)
        window = _update_window(filters)
        page: list[Record] = []
        more = False
        rows = (
            self._current_levels(company, after, **window)
            if resource is _LEVELS
            else self.records(company, resource.entity, after=after, **window)
        )
        for record in rows:
            if record.deleted or not accept(record):
                continue
            if len(page) == limit:
                more = True
                break
            page.append(record)
        fields = [name for name in params.get("fields", "").split(",") if name]
        items = [_only(self.render(record, render(company, record)), fields) for record in page]
        headers = {}
        if more:
            next_query = {"limit": str(limit), "page_info": _page_info(resource, filters, page[-1])}
            if fields:
                next_query["fields"] = ",".join(fields)
            headers["Link"] = f'<{request.url.replace(query=urlencode(next_query))}>; rel="next"'
        return self._json({resource.key: items}, request, headers)

    def _current_levels(
        self,
        company: Company,
        after: RecordKey | None,
        *,
        updated_since: datetime | None = None,
        updated_before: datetime | None = None,
    ) -> Iterator[Record]:
        """One level per inventory item, from its newest snapshot, in listing order.

        The sandbox keeps weekly snapshots (one record each); Shopify shows only the current level.
        A shop tracks few items, so reading all its snapshots per request stays cheap."""
        newest: dict[Any, Record] = {}
        for snapshot in self.records(company, _LEVELS.entity):
            if not snapshot.deleted:
                newest[snapshot.body.get("product_id")] = snapshot  # rows come oldest update first

        def listed(level: Record) -> bool:
            return (
                (updated_since is None or level.updated_at >= updated_since)
                and (updated_before is None or level.updated_at < updated_before)
                and (after is None or (level.updated_at, level.record_id) > (after.updated_at, after.record_id))
            )

        return (level for level in sorted(newest.values(), key=lambda r: (r.updated_at, r.record_id)) if listed(level))

    def _acceptor(self, company: Company, resource: _Resource, filters: dict[str, str]) -> Callable[[Record], bool]:
        if resource is _ORDERS:
            status = filters.get("status", "open")
            if status not in _ORDER_STATUSES:
                raise _bad_param("status")
            return lambda record: _order_status_is(status, record.body.get("status"))
        if resource is _LEVELS:
            locations = _id_list(filters.get("location_ids"))
            items = _id_list(filters.get("inventory_item_ids"))
            if locations is not None and _location_id(company) not in locations:
                return lambda record: False
            if items is None:
                return lambda record: True
            return lambda record: _derived_id(record.body.get("product_id"), 2) in items
        return lambda record: True

    def _json(self, content: Any, request: Request, headers: dict[str, str] | None = None) -> Response:
        return json_response(
            content, headers={**(headers or {}), "X-Shopify-API-Version": request.path_params["version"]}
        )

    # -- rendering -------------------------------------------------------------------------------------

    def _order(self, company: Company, record: Record) -> dict[str, Any]:
        body, tz = record.body, zone(company.timezone)
        currency, status = body.get("currency"), body.get("status")
        cancelled = status == "cancelled"
        number = body.get("number")
        digits = re.sub(r"\D", "", number) if isinstance(number, str) else ""
        order_number = int(digits) if digits else None
        money = partial(money_text, currency=currency)
        return {
            "id": _numeric(record.record_id),
            "admin_graphql_api_id": f"gid://shopify/Order/{record.record_id}",
            "name": number,
            "order_number": order_number,
            "number": order_number - 1000 if order_number and order_number > 1000 else order_number,
            "created_at": local_time(record.created_at, tz),
            "updated_at": local_time(record.updated_at, tz),
            "processed_at": local_time(body.get("issued_at"), tz),
            "closed_at": local_time(record.updated_at, tz) if status in _CLOSED else None,
            "cancelled_at": local_time(record.updated_at, tz) if cancelled else None,
            "cancel_reason": "customer" if cancelled else None,
            "currency": currency,
            "presentment_currency": currency,
            "financial_status": "voided" if cancelled else "paid",
            "fulfillment_status": "fulfilled" if status == "fulfilled" else None,
            "confirmed": True,
            "test": False,
            "taxes_included": False,
            "source_name": "web",
            "subtotal_price": money(body.get("subtotal")),
            "total_line_items_price": money(body.get("subtotal")),
            "total_discounts": money(0),
            "total_tax": money(body.get("tax_total")),
            "total_price": money(body.get("total")),
            "subtotal_price_set": _money_set(body.get("subtotal"), currency),
            "total_tax_set": _money_set(body.get("tax_total"), currency),
            "total_price_set": _money_set(body.get("total"), currency),
            "tax_lines": [{"title": "Tax", "price": money(body.get("tax_total")), "rate": _rate(body)}],
            "customer": {"id": _numeric(body.get("party_id"))},
            "line_items": [
                {
                    "id": _line_id(record.record_id, line.get("line_no")),
                    "product_id": _numeric(line.get("product_id")),
                    "variant_id": _derived_id(line.get("product_id"), 1),
                    "sku": line.get("sku"),
                    "title": line.get("description"),
                    "name": line.get("description"),
                    "quantity": whole(line.get("quantity")),
                    "price": money(line.get("unit_price")),
                    "total_discount": money(0),
                    "taxable": bool(line.get("tax_amount")),
                    "tax_lines": [{"title": "Tax", "price": money(line.get("tax_amount"))}],
                    "fulfillment_status": "fulfilled" if status == "fulfilled" else None,
                    "requires_shipping": True,
                }
                for line in body.get("lines", [])
            ],
        }

    def _customer(self, company: Company, record: Record) -> dict[str, Any]:
        body, tz = record.body, zone(company.timezone)
        first, _, last = str(body.get("name", "")).partition(" ")
        address = body.get("address")
        shopify_address = None
        if isinstance(address, dict):
            shopify_address = {
                "id": _derived_id(record.record_id, 3),
                "customer_id": _numeric(record.record_id),
                "first_name": first,
                "last_name": last,
                "name": body.get("name"),
                "company": None,
                "address1": address.get("line1"),
                "address2": "",
                "city": address.get("city"),
                "province": address.get("region"),
                "zip": address.get("postal_code"),
                "country_code": address.get("country"),
                "phone": body.get("phone"),
                "default": True,
            }
        return {
            "id": _numeric(record.record_id),
            "admin_graphql_api_id": f"gid://shopify/Customer/{record.record_id}",
            "email": body.get("email"),
            "first_name": first,
            "last_name": last,
            "phone": body.get("phone"),
            "currency": body.get("currency"),
            "created_at": local_time(record.created_at, tz),
            "updated_at": local_time(record.updated_at, tz),
            "state": "enabled",
            "verified_email": True,
            "tax_exempt": False,
            "tags": "",
            "note": None,
            "default_address": shopify_address,
            "addresses": [shopify_address] if shopify_address else [],
        }

    def _product(self, company: Company, record: Record) -> dict[str, Any]:
        body, tz = record.body, zone(company.timezone)
        created, updated = local_time(record.created_at, tz), local_time(record.updated_at, tz)
        name = body.get("name")
        return {
            "id": _numeric(record.record_id),
            "admin_graphql_api_id": f"gid://shopify/Product/{record.record_id}",
            "title": name,
            "handle": re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-"),
            "product_type": body.get("category"),
            "vendor": company.name,
            "status": "active",
            "tags": "",
            "created_at": created,
            "updated_at": updated,
            "published_at": created,
            "options": [{"name": "Title", "position": 1, "values": ["Default Title"]}],
            "variants": [
                {
                    "id": _derived_id(record.record_id, 1),
                    "product_id": _numeric(record.record_id),
                    "title": "Default Title",
                    "option1": "Default Title",
                    "position": 1,
                    "sku": body.get("sku"),
                    "price": money_text(body.get("unit_price"), company.currency),
                    "taxable": body.get("taxable"),
                    "inventory_item_id": _derived_id(record.record_id, 2),
                    "inventory_management": "shopify",
                    "created_at": created,
                    "updated_at": updated,
                }
            ],
        }

    def _level(self, company: Company, record: Record) -> dict[str, Any]:
        body = record.body
        item = _derived_id(body.get("product_id"), 2)
        location = _location_id(company)
        return {
            "inventory_item_id": item,
            "location_id": location,
            "available": whole(body.get("quantity_on_hand")),
            "updated_at": local_time(record.updated_at, zone(company.timezone)),
            "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{location}?inventory_item_id={item}",
        }


def _access_token(company: Company, secret: str) -> str:
    return "shpat_" + derive(secret, "shopify", company.company_id, "access_token")


def _limit(raw: str | None) -> int:
    """Shopify's default is 50 and it serves at most 250 whatever is asked."""
    if raw is None:
        return _DEFAULT_LIMIT
    if not raw.isdigit() or int(raw) < 1:
        raise _bad_param("limit")
    return min(int(raw), _MAX_LIMIT)


def _update_window(filters: dict[str, str]) -> dict[str, datetime]:
    """updated_at_min/max (both inclusive) as the store's [updated_since, updated_before) bounds."""
    window: dict[str, datetime] = {}
    for name, bound, shift in (("updated_at_min", "updated_since", 0), ("updated_at_max", "updated_before", 1)):
        if name in filters:
            instant = parse_instant(filters[name])
            if instant is None:
                raise _bad_param(name)
            window[bound] = instant + timedelta(microseconds=shift)
    return window


def _page_info(resource: _Resource, filters: dict[str, str], last: Record) -> str:
    """Like Shopify's: base64 JSON of the last row seen and the first request's filters."""
    state = {
        "direction": "next",
        "resource": resource.key,
        "last_id": last.record_id,
        "last_value": last.updated_at.isoformat(),
        "filters": filters,
    }
    return base64.urlsafe_b64encode(orjson.dumps(state)).decode().rstrip("=")


def _open_page_info(token: str, resource: _Resource) -> tuple[dict[str, str], RecordKey]:
    try:
        state = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if state["resource"] != resource.key or state["direction"] != "next":
            raise ValueError(token)
        filters = {name: str(value) for name, value in state["filters"].items() if name in resource.filters}
        return filters, RecordKey(datetime.fromisoformat(state["last_value"]), str(state["last_id"]))
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        raise _bad_param("page_info") from None


def _order_status_is(wanted: str, status: Any) -> bool:
    if wanted == "any":
        return True
    if wanted == "cancelled":
        return status == "cancelled"
    return (status in _CLOSED) == (wanted == "closed")


def _id_list(raw: str | None) -> set[Any] | None:
    return None if raw is None else {_numeric(part.strip()) for part in raw.split(",") if part.strip()}


def _only(item: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name in fields} if fields else item


def _money_set(amount: Any, currency: Any) -> dict[str, Any]:
    money = {"amount": money_text(amount, currency), "currency_code": currency}
    return {"shop_money": money, "presentment_money": dict(money)}


def _rate(body: dict[str, Any]) -> Any:
    tax, base = body.get("tax_total"), body.get("subtotal")
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (tax, base))
    return round(tax / base, 4) if numbers and base else None


def _line_id(record_id: str, line_no: Any) -> Any:
    parent = _numeric(record_id)
    return parent * 1000 + line_no if isinstance(parent, int) and isinstance(line_no, int) else f"{record_id}-{line_no}"
