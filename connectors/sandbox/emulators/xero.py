"""Xero Accounting API (api.xro/2.0): Invoices, CreditNotes, PurchaseOrders, Payments, Contacts, Items.

Wire facts emulated (shapes from shared/fixtures/xero/): OAuth2 bearer tokens that expire (1800 s) and refresh
tokens that rotate at /connect/token (a used one answers invalid_grant; Xero's 30-minute reuse grace is not
emulated); the organisation chosen by the `Xero-tenant-id` header, tenants listed at /connections; answers in
JSON only when `Accept: application/json` asks for it (406 otherwise: the sandbox cannot speak Xero's XML);
the `{"Id", "Status", "ProviderName", "DateTimeUTC", <Resource>: [...]}` envelope, with `pagination`
(page, pageSize, pageCount, itemCount) when `page` is given; `page` + `pageSize` (100 by default, at most 1000)
on every resource but Items, which is never paged; without `page` a listing returns everything, invoices and
credit notes then without their LineItems; the `If-Modified-Since` header (ISO or HTTP date, UTC, inclusive);
a `where` subset (`Field op literal` joined by AND/&&, literals "text", true/false, null, numbers,
DateTime(y,m,d[,h,m,s]), Guid("..."); anything else is Xero's QueryParseException) and `order` limited to
UpdatedDateUTC ASC, the order every listing runs in; `Statuses` on Invoices, `status` on PurchaseOrders,
`includeArchived` on Contacts. Dates are "/Date(ms+0000)/" with a DateString at local midnight; money is
numbers. Limits per organisation: 60 a minute, 5000 a day, 5 at once, plus 10000 a minute for the whole app,
reported in X-MinLimit-Remaining / X-DayLimit-Remaining / X-AppMinLimit-Remaining, refused with 429,
Retry-After and X-Rate-Limit-Problem. Voided documents keep their totals with Status VOIDED; deleted
documents and payments stay listed with Status DELETED (a cancelled purchase order too); a deleted contact is
ARCHIVED (listed only with includeArchived=true); a deleted item is gone. Customers and vendors are both
Contacts (IsCustomer / IsSupplier). Unknown ids answer 404 with Xero's plain-text body.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import hmac
import math
import operator
import re
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from itertools import count
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.sandbox.emulators.auth import AccessDenied, OAuthError, derive
from connectors.sandbox.emulators.base import UNAUTHENTICATED, ApiError, Endpoint, Handler, OAuth2Emulator, json_response
from connectors.sandbox.emulators.limits import LimitHeaders, LimitPolicy, RateLimiter, Window
from connectors.sandbox.emulators.runtime import Runtime
from connectors.sandbox.emulators.wire import local_date, parse_instant, zone
from connectors.sandbox.model import Company, Record, RecordKey
from connectors.sandbox.store import SandboxStore

_API = "/api.xro/2.0"
ACCESS_TTL_SECONDS = 1800
_SCOPES = "accounting.transactions accounting.contacts accounting.settings offline_access"
_PROVIDER = "Groundswell Sandbox"
_DEFAULT_PAGE_SIZE, _MAX_PAGE_SIZE = 100, 1000
_NOT_FOUND = "The resource you're looking for cannot be found"
_APP = "app"  # the app-wide limiter's single key
_APP_LIMITS = LimitPolicy(windows={"appminute": Window(limit=10_000, seconds=60)})
_APP_HEADERS = LimitHeaders(remaining={"appminute": "X-AppMinLimit-Remaining"}, problem="X-Rate-Limit-Problem")
_MEMORY = 4096  # listing positions and counts remembered, so walking pages is not quadratic
_NAMESPACE = uuid.UUID("0f3c2a4e-8d1b-4f6e-9a7c-5b2d1e0f9c33")
_INVOICE_STATUS = {"open": "AUTHORISED", "paid": "PAID", "void": "VOIDED"}
_ORDER_STATUS = {"open": "AUTHORISED", "received": "BILLED", "cancelled": "DELETED"}


@dataclass(frozen=True)
class _Resource:
    name: str  # path segment and envelope key
    entities: tuple[str, ...]  # neutral entities served under it, merged in (updated_at, record_id) order
    paged: bool = True
    status_param: str | None = None  # query parameter filtering by Status


_RESOURCES = {
    resource.name.lower(): resource
    for resource in (
        _Resource("Invoices", ("invoice",), status_param="Statuses"),
        _Resource("CreditNotes", ("credit_note",)),
        _Resource("PurchaseOrders", ("purchase_order",), status_param="status"),
        _Resource("Payments", ("payment",)),
        _Resource("Contacts", ("customer", "vendor")),
        _Resource("Items", ("product",), paged=False),
    )
}
_LINES_ONLY_WHEN_PAGED = frozenset({"Invoices", "CreditNotes"})


class Xero(OAuth2Emulator):
    system = "xero"
    limits = LimitPolicy(
        windows={"minute": Window(limit=60, seconds=60), "day": Window(limit=5000, seconds=86_400)}, concurrent=5
    )
    limit_headers = LimitHeaders(
        remaining={"minute": "X-MinLimit-Remaining", "day": "X-DayLimit-Remaining"}, problem="X-Rate-Limit-Problem"
    )
    access_ttl_seconds = ACCESS_TTL_SECONDS

    def __init__(self, store: SandboxStore, runtime: Runtime) -> None:
        super().__init__(store, runtime)
        self.app_limiter = RateLimiter(_APP_LIMITS, _APP_HEADERS, runtime.timer)
        self._serial = count(1)
        self._resume: OrderedDict[tuple[Any, ...], RecordKey] = OrderedDict()
        self._counts: OrderedDict[tuple[Any, ...], int] = OrderedDict()
        self._renderers: dict[str, Callable[[_Render, Record], dict[str, Any]]] = {
            "invoice": self._invoice,
            "credit_note": self._credit_note,
            "purchase_order": self._purchase_order,
            "payment": self._payment,
            "customer": self._contact,
            "vendor": self._contact,
            "product": self._item,
        }

    @classmethod
    def credentials(cls, company: Company, secret: str) -> dict[str, str]:
        return {"tenant_id": _tenant_id(company), **cls.client_credentials(company, secret)}

    @classmethod
    def app_client(cls, secret: str) -> tuple[str, str]:
        """The sandbox's one Xero app: every organisation is connected through the same client id and secret."""
        return derive(secret, "xero", "app", "client_id").upper(), derive(secret, "xero", "app", "secret", length=48)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/connect/token", self.counted(self._token), methods=["POST"]),
            Route("/connections", self.counted(self._connections), methods=["GET"]),
            Route(_API + "/{resource}", self._metered(self._list), methods=["GET"]),
            Route(_API + "/{resource}/{id}", self._metered(self._read), methods=["GET"]),
        ]

    # -- auth --------------------------------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        form = {key: values[0] for key, values in parse_qs((await request.body()).decode()).items()}
        client = _basic_auth(request.headers.get("Authorization")) or (
            form.get("client_id", ""),
            form.get("client_secret", ""),
        )
        expected = self.app_client(self.secret)
        if not (hmac.compare_digest(client[0], expected[0]) and hmac.compare_digest(client[1], expected[1])):
            return json_response({"error": "invalid_client"}, 400)
        if form.get("grant_type") != "refresh_token":
            return json_response({"error": "unsupported_grant_type"}, 400)
        try:
            grant = self.oauth.refresh(form.get("refresh_token", ""))
        except OAuthError as refused:
            return json_response({"error": refused.error}, refused.status)
        return json_response(
            {
                "access_token": grant.access_token,
                "expires_in": grant.expires_in,
                "token_type": "Bearer",
                "refresh_token": grant.refresh_token,
                "scope": _SCOPES,
            }
        )

    async def _connections(self, request: Request) -> Response:
        company = self._bearer(request)
        connected = datetime.combine(company.onboarded_on, datetime.min.time()).isoformat(timespec="microseconds")
        return json_response(
            [
                {
                    "id": str(uuid.uuid5(_NAMESPACE, f"connection/{company.company_id}")),
                    "authEventId": str(uuid.uuid5(_NAMESPACE, f"auth-event/{company.company_id}")),
                    "tenantId": _tenant_id(company),
                    "tenantType": "ORGANISATION",
                    "tenantName": company.name,
                    "createdDateUtc": connected,
                    "updatedDateUtc": connected,
                }
            ]
        )

    async def authenticate(self, request: Request) -> Company:
        company = self._bearer(request)
        if (request.headers.get("Xero-tenant-id") or "").strip().lower() != _tenant_id(company):
            raise ApiError(self._problem(403, "Forbidden", "AuthenticationUnsuccessful"))
        return company

    def _bearer(self, request: Request) -> Company:
        """The organisation the access token was issued for; Xero's 401 otherwise."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(self._problem(401, "Unauthorized", "AuthenticationUnsuccessful"))
        try:
            tenant = self.oauth.verify(token.strip())
        except AccessDenied as denied:
            detail = "AuthenticationUnsuccessful"
            if denied.reason == "expired":
                at = datetime.fromtimestamp(self.runtime.timer(), timezone.utc)
                detail = f"TokenExpired: token expired at {at:%m/%d/%Y %H:%M:%S}"
            raise ApiError(self._problem(401, "Unauthorized", detail)) from None
        company = self.tenants.get(tenant)
        if company is None:
            raise ApiError(self._problem(403, "Forbidden", "AuthenticationUnsuccessful"))
        return company

    def _metered(self, handler: Handler) -> Endpoint:
        """A data endpoint that also counts against the app-wide minute limit shared by every organisation."""
        endpoint = self.api(handler)

        async def metered(request: Request) -> Response:
            decision = self.app_limiter.acquire(_APP)
            try:
                if not decision.allowed:
                    refused = self.throttled_response()
                    refused.headers.update(decision.headers)
                    return self._counted(UNAUTHENTICATED, refused)
                response = await endpoint(request)
            finally:
                self.app_limiter.release(_APP)
            response.headers.update(decision.headers)
            return response

        return metered

    # -- errors ------------------------------------------------------------------------------------------

    def _problem(self, status: int, title: str, detail: str) -> Response:
        """The problem-details body Xero's gateway answers with (401, 403, 429, 5xx)."""
        body = {
            "Type": None,
            "Title": title,
            "Status": status,
            "Detail": detail,
            "Instance": self._id(),
            "Extensions": {},
        }
        return json_response(body, status)

    def error_response(self, status: int) -> Response:
        titles = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
        title = titles.get(status, "Internal Server Error")
        return self._problem(status, title, f"{title}: check status.developer.xero.com and retry")

    def throttled_response(self) -> Response:
        return self._problem(429, "Too Many Requests", "Rate limit exceeded: wait for Retry-After seconds")

    def _query_error(self, message: str) -> ApiError:
        return ApiError(json_response({"ErrorNumber": 16, "Type": "QueryParseException", "Message": message}, 400))

    def _validation_error(self, message: str) -> ApiError:
        body = {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": [{"ValidationErrors": [{"Message": message}]}],
        }
        return ApiError(json_response(body, 400))

    def _id(self) -> str:
        """Response and error ids: fresh per answer, and the same sequence on every run."""
        return str(uuid.uuid5(_NAMESPACE, f"response/{next(self._serial)}"))

    # -- endpoints ---------------------------------------------------------------------------------------

    async def _list(self, request: Request, company: Company) -> Response:
        resource = _resource(request)
        _require_json(request)
        query = self._query(request, resource)
        render = _Render(self, company)
        envelope = self._envelope()
        if query.page is None:
            items = list(self._matching(render, query, after=None))
        else:
            items = self._page(render, query, query.page)
            total = self._count(render, query)
            envelope["pagination"] = {
                "page": query.page,
                "pageSize": query.size,
                "pageCount": math.ceil(total / query.size),
                "itemCount": total,
            }
        envelope[resource.name] = [
            self._payload(render, record, query.lines) if payload is None else payload for record, payload in items
        ]
        return json_response(envelope)

    async def _read(self, request: Request, company: Company) -> Response:
        resource = _resource(request)
        _require_json(request)
        render = _Render(self, company)
        wanted = request.path_params["id"].strip().lower()
        for entity in resource.entities:
            record = self.store.get(self.system, company.company_id, entity, wanted, as_of=self.now)
            if record is not None and not _hidden(record, include_archived=True):
                return json_response({**self._envelope(), resource.name: [self._payload(render, record, lines=True)]})
        raise ApiError(PlainTextResponse(_NOT_FOUND, 404))

    def _envelope(self) -> dict[str, Any]:
        return {"Id": self._id(), "Status": "OK", "ProviderName": _PROVIDER, "DateTimeUTC": _ms_date(self.now, False)}

    # -- listing -----------------------------------------------------------------------------------------

    def _query(self, request: Request, resource: _Resource) -> _Query:
        params = request.query_params
        order = params.get("order")
        if order is not None and not re.fullmatch(r"\s*UpdatedDateUTC(\s+ASC)?\s*", order, re.IGNORECASE):
            raise self._query_error(f"order {order!r}: the sandbox orders by UpdatedDateUTC ASC only")
        try:
            conditions = _parse_where(params.get("where", ""))
        except ValueError as error:
            raise self._query_error(str(error)) from None
        statuses = None
        if resource.status_param and params.get(resource.status_param):
            statuses = frozenset(s.strip().upper() for s in params[resource.status_param].split(",") if s.strip())
        page = self._positive(params.get("page"), "page") if resource.paged else None
        size = min(self._positive(params.get("pageSize"), "pageSize") or _DEFAULT_PAGE_SIZE, _MAX_PAGE_SIZE)
        return _Query(
            resource=resource,
            since=_if_modified_since(request.headers.get("If-Modified-Since")),
            conditions=conditions,
            statuses=statuses,
            include_archived=params.get("includeArchived", "").lower() == "true",
            page=page,
            size=size,
        )

    def _positive(self, raw: str | None, name: str) -> int | None:
        if raw is None:
            return None
        if not raw.strip().isdigit() or int(raw) < 1:
            raise self._validation_error(f"{name} must be a whole number from 1, got {raw!r}")
        return int(raw)

    def _matching(
        self, render: _Render, query: _Query, after: RecordKey | None
    ) -> Iterator[tuple[Record, dict | None]]:
        """Records the query shows, in listing order, with their payload when filtering needed it."""
        streams = [
            self.records(render.company, entity, after=after, updated_since=query.since)
            for entity in query.resource.entities
        ]
        for record in heapq.merge(*streams, key=lambda r: (r.updated_at, r.record_id)):
            if _hidden(record, query.include_archived):
                continue
            if not query.filters:
                yield record, None
                continue
            payload = self._payload(render, record, query.lines)
            if query.accepts(payload):
                yield record, payload

    def _page(self, render: _Render, query: _Query, page_number: int) -> list[tuple[Record, dict | None]]:
        """One page, resumed from where the previous page of the same listing ended when that is known."""
        key = query.key(render.company, self.now)
        start = (page_number - 1) * query.size
        after = self._resume.get((*key, start))
        skip = 0 if after is not None else start
        page: list[tuple[Record, dict | None]] = []
        for item in self._matching(render, query, after):
            if skip:
                skip -= 1
                continue
            page.append(item)
            if len(page) == query.size:
                break
        if page:
            last = page[-1][0]
            _remember(self._resume, (*key, start + len(page)), RecordKey(last.updated_at, last.record_id))
        return page

    def _count(self, render: _Render, query: _Query) -> int:
        key = query.key(render.company, self.now)
        if key not in self._counts:
            _remember(self._counts, key, sum(1 for _ in self._matching(render, query, after=None)))
        return self._counts[key]

    # -- rendering ---------------------------------------------------------------------------------------

    def _payload(self, render: _Render, record: Record, lines: bool) -> dict[str, Any]:
        """A record as its resource shows it (LineItems only where asked for), with its drift."""
        built = self._renderers[record.entity](render, record)
        if not lines:
            built.pop("LineItems", None)
        return self.render(record, built)

    def _invoice(self, render: _Render, record: Record) -> dict[str, Any]:
        body = record.body
        document = render.document(record, "customer", _INVOICE_STATUS)
        status, total = document["Status"], body.get("total")
        due = 0.0 if status in ("VOIDED", "DELETED") else body.get("balance", total)
        due_string, due_value = render.date(body.get("due_on"))
        invoice = {
            "Type": "ACCREC",
            "InvoiceID": record.record_id,
            "InvoiceNumber": body.get("number"),
            "Reference": body.get("reference", ""),
            "Payments": [],
            "CreditNotes": [],
            "Prepayments": [],
            "Overpayments": [],
            "AmountDue": due,
            "AmountPaid": _difference(total, due) if status in ("AUTHORISED", "PAID") else 0.0,
            "AmountCredited": 0.0,
            "SentToContact": True,
            "IsDiscounted": False,
            "HasAttachments": False,
            "HasErrors": False,
            "DueDateString": due_string,
            "DueDate": due_value,
            **document,
        }
        if status == "PAID":
            invoice["FullyPaidOnDate"] = render.date(record.updated_at)[1]
        return invoice

    def _credit_note(self, render: _Render, record: Record) -> dict[str, Any]:
        body = record.body
        document = render.document(record, "customer", _INVOICE_STATUS)
        applies_to = body.get("applies_to")
        allocations = []
        if applies_to and document["Status"] in ("AUTHORISED", "PAID"):
            invoice = {"InvoiceID": applies_to, "InvoiceNumber": render.number("invoice", applies_to)}
            allocations.append({"Amount": body.get("total"), "Date": document["Date"], "Invoice": invoice})
        unallocated = document["Status"] == "AUTHORISED" and not allocations
        return {
            "Type": "ACCRECCREDIT",
            "CreditNoteID": record.record_id,
            "CreditNoteNumber": body.get("number"),
            "Reference": "",
            **document,
            "RemainingCredit": body.get("total") if unallocated else 0.0,
            "Allocations": allocations,
            "HasAttachments": False,
        }

    def _purchase_order(self, render: _Render, record: Record) -> dict[str, Any]:
        body = record.body
        delivery_string, delivery_value = render.date(body.get("due_on"))
        return {
            "PurchaseOrderID": record.record_id,
            "PurchaseOrderNumber": body.get("number"),
            "DeliveryDateString": delivery_string,
            "DeliveryDate": delivery_value,
            "Reference": "",
            **render.document(record, "vendor", _ORDER_STATUS),
            "HasAttachments": False,
            "IsDiscounted": False,
        }

    def _payment(self, render: _Render, record: Record) -> dict[str, Any]:
        body = record.body
        invoice_id = body.get("invoice_id")
        return {
            "PaymentID": record.record_id,
            "Date": render.date(body.get("paid_at"))[1],
            "BankAmount": body.get("amount"),
            "Amount": body.get("amount"),
            "Reference": body.get("method", ""),
            "CurrencyRate": 1.0,
            "PaymentType": "ACCRECPAYMENT",
            "Status": "DELETED" if record.deleted else "AUTHORISED",
            "UpdatedDateUTC": _ms_date(record.updated_at),
            "HasAccount": True,
            "IsReconciled": False,
            "Account": {"AccountID": str(uuid.uuid5(_NAMESPACE, f"bank/{record.company_id}")), "Code": "090"},
            "Invoice": {
                "Type": "ACCREC",
                "InvoiceID": invoice_id,
                "InvoiceNumber": render.number("invoice", invoice_id),
                "Contact": render.contact("customer", body.get("party_id")),
                "CurrencyCode": body.get("currency"),
            },
            "HasValidationErrors": False,
        }

    def _contact(self, render: _Render, record: Record) -> dict[str, Any]:
        body = record.body
        address = body.get("address")
        postal = {"AddressType": "POBOX", "AddressLine1": "", "City": "", "Region": "", "PostalCode": "", "Country": ""}
        if isinstance(address, dict):
            postal.update(
                AddressLine1=address.get("line1"),
                City=address.get("city"),
                Region=address.get("region"),
                PostalCode=address.get("postal_code"),
                Country=address.get("country"),
            )
        street = {"AddressType": "STREET", "City": "", "Region": "", "PostalCode": "", "Country": ""}
        phone = {
            "PhoneType": "DEFAULT",
            "PhoneNumber": body.get("phone", ""),
            "PhoneAreaCode": "",
            "PhoneCountryCode": "",
        }
        return {
            "ContactID": record.record_id,
            "ContactStatus": "ARCHIVED" if record.deleted else "ACTIVE",
            "Name": body.get("name"),
            "EmailAddress": body.get("email", ""),
            "BankAccountDetails": "",
            "Addresses": [street, postal],
            "Phones": [phone],
            "UpdatedDateUTC": _ms_date(record.updated_at),
            "ContactGroups": [],
            "IsSupplier": record.entity == "vendor",
            "IsCustomer": record.entity == "customer",
            "DefaultCurrency": body.get("currency"),
            "ContactPersons": [],
            "HasAttachments": False,
            "HasValidationErrors": False,
        }

    def _item(self, render: _Render, record: Record) -> dict[str, Any]:
        body = record.body
        return {
            "ItemID": record.record_id,
            "Code": body.get("sku"),
            "Name": body.get("name"),
            "Description": body.get("name"),
            "PurchaseDescription": body.get("name"),
            "UpdatedDateUTC": _ms_date(record.updated_at),
            "PurchaseDetails": {"UnitPrice": body.get("unit_cost"), "AccountCode": "300", "TaxType": "INPUT"},
            "SalesDetails": {
                "UnitPrice": body.get("unit_price"),
                "AccountCode": "200",
                "TaxType": "OUTPUT" if body.get("taxable") else "NONE",
            },
            "IsTrackedAsInventory": False,
            "IsSold": True,
            "IsPurchased": True,
        }


class _Render:
    """Renders one request's records for one organisation, looking each referenced name up once."""

    def __init__(self, xero: Xero, company: Company) -> None:
        self.xero = xero
        self.company = company
        self.tz = zone(company.timezone)
        self._bodies: dict[tuple[str, str], dict[str, Any]] = {}

    def date(self, value: Any) -> tuple[Any, Any]:
        """(DateString, Date) of an instant's or date's local calendar day: ('2018-10-20T00:00:00',
        '/Date(1539993600000+0000)/'); unreadable values pass through, absent ones are None."""
        if value is None:
            return None, None
        day = local_date(value, self.tz)
        try:
            midnight = datetime.combine(date.fromisoformat(day), datetime.min.time(), timezone.utc)
        except (TypeError, ValueError):
            return value, value
        return midnight.isoformat()[:19], _ms_date(midnight)

    def document(self, record: Record, party: str, statuses: dict[str, str]) -> dict[str, Any]:
        """What invoices, credit notes and purchase orders share: party, date, status, lines and totals."""
        body = record.body
        date_string, date_value = self.date(body.get("issued_at"))
        return {
            "Contact": self.contact(party, body.get("party_id")),
            "DateString": date_string,
            "Date": date_value,
            "Status": "DELETED" if record.deleted else statuses.get(body.get("status"), "AUTHORISED"),
            "LineAmountTypes": "Exclusive",
            "LineItems": self.lines(record),
            "SubTotal": body.get("subtotal"),
            "TotalTax": body.get("tax_total"),
            "Total": body.get("total"),
            "UpdatedDateUTC": _ms_date(record.updated_at),
            "CurrencyCode": body.get("currency"),
            "CurrencyRate": 1.0,
        }

    def contact(self, entity: str, record_id: Any) -> dict[str, Any]:
        return {"ContactID": record_id, "Name": self._body(entity, record_id).get("name")}

    def number(self, entity: str, record_id: Any) -> Any:
        return self._body(entity, record_id).get("number")

    def lines(self, record: Record) -> list[dict[str, Any]]:
        return [
            {
                "LineItemID": str(uuid.uuid5(_NAMESPACE, f"{record.record_id}/line/{line.get('line_no')}")),
                "ItemCode": line.get("sku"),
                "Item": {"ItemID": line.get("product_id"), "Code": line.get("sku")},
                "Description": line.get("description"),
                "Quantity": line.get("quantity"),
                "UnitAmount": line.get("unit_price"),
                "TaxType": "OUTPUT" if line.get("tax_amount") else "NONE",
                "TaxAmount": line.get("tax_amount"),
                "LineAmount": line.get("amount"),
                "AccountCode": "200" if record.entity != "purchase_order" else "300",
                "Tracking": [],
                "ValidationErrors": [],
            }
            for line in record.body.get("lines", [])
        ]

    def _body(self, entity: str, record_id: Any) -> dict[str, Any]:
        if not isinstance(record_id, str):
            return {}
        key = (entity, record_id)
        if key not in self._bodies:
            found = self.xero.store.get(
                self.xero.system, self.company.company_id, entity, record_id, as_of=self.xero.now
            )
            self._bodies[key] = found.body if found else {}
        return self._bodies[key]


# -- queries -------------------------------------------------------------------------------------------------

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
_CONDITION = re.compile(
    r"\s*(?P<field>[A-Za-z]\w*(?:\.[A-Za-z]\w*)*)\s*(?P<op>==|!=|>=|<=|>|<)\s*"
    r'(?P<value>"[^"]*"|true|false|null|-?\d+(?:\.\d+)?|DateTime\(\s*\d+(?:\s*,\s*\d+){2,5}\s*\)'
    r'|Guid\("[0-9A-Fa-f-]{36}"\))\s*'
)
_AND = re.compile(r"\s*(?:AND|&&)\s*", re.IGNORECASE)
_MS_DATE = re.compile(r"/Date\((-?\d+)(?:[+-]\d{4})?\)/")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class _Condition:
    field: tuple[str, ...]
    op: str
    value: Any

    def holds(self, payload: dict[str, Any]) -> bool:
        node: Any = payload
        for part in self.field:
            node = node.get(part) if isinstance(node, dict) else None
        try:
            return bool(_OPERATORS[self.op](_comparable(node), self.value))
        except TypeError:
            return False


@dataclass(frozen=True)
class _Query:
    resource: _Resource
    since: datetime | None
    conditions: tuple[_Condition, ...]
    statuses: frozenset[str] | None
    include_archived: bool
    page: int | None
    size: int

    @property
    def lines(self) -> bool:
        return self.page is not None or self.resource.name not in _LINES_ONLY_WHEN_PAGED

    @property
    def filters(self) -> bool:
        return bool(self.conditions) or self.statuses is not None

    def accepts(self, payload: dict[str, Any]) -> bool:
        if self.statuses is not None and payload.get("Status") not in self.statuses:
            return False
        return all(condition.holds(payload) for condition in self.conditions)

    def key(self, company: Company, clock: datetime) -> tuple[Any, ...]:
        """What a listing's positions depend on (not the page: pages of one listing share positions)."""
        return (
            company.company_id,
            self.resource.name,
            self.since,
            self.conditions,
            self.statuses,
            self.include_archived,
            self.size,
            clock,
        )


def _parse_where(text: str) -> tuple[_Condition, ...]:
    """The `where` subset: conditions joined by AND / &&; a ValueError names where parsing stopped."""
    conditions: list[_Condition] = []
    position = 0
    while text.strip():
        matched = _CONDITION.match(text, position)
        if matched is None:
            raise ValueError(f"where: cannot parse {text[position : position + 30]!r} at position {position}")
        conditions.append(_Condition(tuple(matched["field"].split(".")), matched["op"], _literal(matched["value"])))
        position = matched.end()
        if position == len(text):
            break
        joined = _AND.match(text, position)
        if joined is None:
            raise ValueError(f"where: expected AND at position {position}, found {text[position : position + 30]!r}")
        position = joined.end()
    return tuple(conditions)


def _literal(text: str) -> Any:
    if text.startswith('"'):
        return _comparable(text[1:-1])
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if text.startswith("DateTime("):
        return datetime(*(int(part) for part in text[9:-1].split(",")), tzinfo=timezone.utc)
    if text.startswith("Guid("):
        return text[6:-2].lower()
    return float(text)


def _comparable(value: Any) -> Any:
    """A payload value as `where` compares it: /Date()/ as an instant, GUIDs case-insensitively."""
    if isinstance(value, str):
        if matched := _MS_DATE.fullmatch(value):
            return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=int(matched[1]))
        if _GUID.fullmatch(value):
            return value.lower()
    return value


def _if_modified_since(raw: str | None) -> datetime | None:
    """The header as an instant (ISO 'yyyy-mm-ddThh:mm:ss' in UTC, or an HTTP date); Xero ignores what it
    cannot read, and so does the sandbox."""
    if not raw:
        return None
    instant = parse_instant(raw.strip())
    if instant is None:
        try:
            instant = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
    return instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)


# -- helpers -------------------------------------------------------------------------------------------------


def _hidden(record: Record, include_archived: bool) -> bool:
    """Deleted items are gone; deleted contacts are archived, listed only when asked for; deleted documents
    and payments stay, with Status DELETED."""
    if not record.deleted:
        return False
    return record.entity == "product" or (record.entity in ("customer", "vendor") and not include_archived)


def _resource(request: Request) -> _Resource:
    resource = _RESOURCES.get(request.path_params["resource"].lower())
    if resource is None:
        raise ApiError(PlainTextResponse(_NOT_FOUND, 404))
    return resource


def _require_json(request: Request) -> None:
    if "application/json" not in request.headers.get("Accept", "").lower():
        raise ApiError(
            PlainTextResponse("Xero answers in XML unless asked for JSON: send Accept: application/json", 406)
        )


def _ms_date(instant: datetime, offset: bool = True) -> str:
    """'/Date(1541176290160+0000)/' (DateTimeUTC of the envelope carries no offset)."""
    milliseconds = round((instant - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds() * 1000)
    return f"/Date({milliseconds}{'+0000' if offset else ''})/"


def _difference(total: Any, due: Any) -> Any:
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (total, due))
    return round(total - due, 2) if numbers else total


def _remember(memory: OrderedDict, key: tuple[Any, ...], value: Any) -> None:
    memory[key] = value
    while len(memory) > _MEMORY:
        memory.popitem(last=False)


def _tenant_id(company: Company) -> str:
    """The organisation's Xero tenant id: a GUID, stable per company whatever the server secret."""
    return str(uuid.uuid5(_NAMESPACE, f"tenant/{company.company_id}"))


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password
