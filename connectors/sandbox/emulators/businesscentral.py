"""Microsoft Dynamics 365 Business Central API v2.0: companies and their customers, vendors, items, salesOrders,
salesInvoices (+ salesInvoiceLines), salesCreditMemos, purchaseOrders, customerPayments; Entra ID tokens.

Wire facts emulated (shapes from shared/fixtures/businesscentral/): routes
/v2.0/{tenantId}/{environment}/api/v2.0/companies({companyId})/{entitySet}[({id})[/{lines}]]; one Entra tenant
per sandbox company, with one "production" environment holding that one company; OAuth2 client credentials at
/{tenantId}/oauth2/v2.0/token (scope https://api.businesscentral.dynamics.com/.default, tokens for 3599 s),
refused with Entra's AADSTS error bodies; BC's OData error body {"error": {"code", "message"}} with the
"  CorrelationId:  <guid>." tail. Collections answer {"@odata.context", "value", "@odata.nextLink"} with
server-driven paging: at most 20000 entities a page, fewer when the client sends `Prefer: odata.maxpagesize=N`
(answered with Preference-Applied), the rest reached through a `$skiptoken` nextLink that keeps the other
options. Query options: `$filter` on lastModifiedDateTime (gt, ge, lt, le, eq, joined by `and`), `$top`,
`$skip`, `$select`, `$expand` of the document's lines; others answer 400 naming the option (the sandbox
does not emulate them). Every entity carries "@odata.etag" (W/"J...") and lastModifiedDateTime in UTC with
milliseconds; dates are the company's local dates. Limits per user and environment: 6000 requests in 5 minutes
and 100 connections (BC runs 5 at once and queues 95; the sandbox does not queue), refused with 429
Application_TooManyRequests and Retry-After. BC keeps no tombstones: deleted records are absent, and so are
cancelled sales and purchase orders (BC deletes them); a voided invoice or credit memo has status "Canceled".
Customer payments are served as the payment journal lines they are entered as.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import count
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from connectors.sandbox.emulators.auth import AccessDenied, derive
from connectors.sandbox.emulators.base import ApiError, OAuth2Emulator, json_response
from connectors.sandbox.emulators.limits import LimitHeaders, LimitPolicy, Window
from connectors.sandbox.emulators.runtime import Runtime
from connectors.sandbox.emulators.wire import local_date, parse_instant, zone
from connectors.sandbox.model import Company, Record, RecordKey
from connectors.sandbox.store import SandboxStore

ACCESS_TTL_SECONDS = 3599
ENVIRONMENT = "production"
_SCOPE = "https://api.businesscentral.dynamics.com/.default"
_MAX_PAGE_SIZE = 20_000
_ZERO = "00000000-0000-0000-0000-000000000000"
_NAMESPACE = uuid.UUID("7a0c9b52-31d4-4c8e-b6f1-2e5d8a9c4f07")
_API = "/v2.0/{tenant}/{environment}/api/v2.0"
_PATH = re.compile(r"(?P<set>[A-Za-z]+)(?:\((?P<key>[^)]*)\))?(?:/(?P<nav>[A-Za-z]+))?")
_OPTIONS = frozenset({"$filter", "$top", "$skip", "$skiptoken", "$select", "$expand"})
_CONDITION = re.compile(r"\s*lastModifiedDateTime\s+(gt|ge|lt|le|eq)\s+(\S+)\s*", re.IGNORECASE)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_STATUS = {
    "invoice": {"open": "Open", "paid": "Paid", "void": "Canceled"},
    "credit_note": {"open": "Open", "paid": "Paid", "void": "Canceled"},
    "sales_order": {"open": "Open", "fulfilled": "Released"},
    "purchase_order": {"open": "Open", "received": "Released"},
}


@dataclass(frozen=True)
class _EntitySet:
    name: str
    entity: str
    label: str  # how BC names one record in its "does not exist" message
    lines: str | None = None  # the navigation property holding the document's lines


_SETS = {
    entity_set.name: entity_set
    for entity_set in (
        _EntitySet("customers", "customer", "Customer"),
        _EntitySet("vendors", "vendor", "Vendor"),
        _EntitySet("items", "product", "Item"),
        _EntitySet("salesOrders", "sales_order", "Sales Order", "salesOrderLines"),
        _EntitySet("salesInvoices", "invoice", "Sales Invoice", "salesInvoiceLines"),
        _EntitySet("salesCreditMemos", "credit_note", "Sales Credit Memo", "salesCreditMemoLines"),
        _EntitySet("purchaseOrders", "purchase_order", "Purchase Order", "purchaseOrderLines"),
        _EntitySet("customerPayments", "payment", "Customer Payment"),
    )
}


class BusinessCentral(OAuth2Emulator):
    system = "businesscentral"
    limits = LimitPolicy(windows={"5min": Window(limit=6000, seconds=300)}, concurrent=100)
    limit_headers = LimitHeaders()
    access_ttl_seconds = ACCESS_TTL_SECONDS

    def __init__(self, store: SandboxStore, runtime: Runtime) -> None:
        super().__init__(store, runtime)
        self._by_tenant = {_tenant_id(company): company for company in self.tenants.values()}
        self._serial = count(1)
        self._renderers: dict[str, Callable[[_Lookup, Record], dict[str, Any]]] = {
            "customer": self._party,
            "vendor": self._party,
            "product": self._item,
            "sales_order": self._sales_order,
            "invoice": self._sales_invoice,
            "credit_note": self._sales_credit_memo,
            "purchase_order": self._purchase_order,
            "payment": self._customer_payment,
        }

    @classmethod
    def credentials(cls, company: Company, secret: str) -> dict[str, str]:
        return {
            "tenant_id": _tenant_id(company),
            "environment": ENVIRONMENT,
            "company_id": _company_id(company),
            **cls.client_credentials(company, secret, refresh_token=False),
        }

    @classmethod
    def app_client(cls, secret: str) -> tuple[str, str]:
        """The sandbox's one Entra app registration, consented in every company's tenant."""
        client_id = str(uuid.UUID(derive(secret, "businesscentral", "app", "client_id")))
        return client_id, derive(secret, "businesscentral", "app", "client_secret", length=40)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/{tenant}/oauth2/v2.0/token", self.counted(self._token), methods=["POST"]),
            Route(_API + "/companies", self.api(self._companies), methods=["GET"]),
            Route(_API + "/companies({company})/{path:path}", self.api(self._resource), methods=["GET"]),
        ]

    # -- auth --------------------------------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        """Entra ID's v2.0 token endpoint, client-credentials grant only."""
        tenant = request.path_params["tenant"]
        form = {key: values[0] for key, values in parse_qs((await request.body()).decode()).items()}
        company = self._by_tenant.get(tenant.lower())
        client_id, client_secret = self.app_client(self.secret)
        if company is None:
            return self._entra_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            return self._entra_error(
                400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        if not hmac.compare_digest(form.get("client_id", ""), client_id):
            return self._entra_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{form.get('client_id')}' was not found in the directory '{tenant}'.",
            )
        if not hmac.compare_digest(form.get("client_secret", ""), client_secret):
            return self._entra_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent "
                f"in the request is the client secret value, not the client secret ID, for a secret added to "
                f"app '{client_id}'.",
            )
        if form.get("scope") != _SCOPE:
            return self._entra_error(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {form.get('scope')} is not valid. "
                "Client credential flows must have a scope value with /.default suffixed to the resource identifier.",
            )
        grant = self.oauth.issue_access(company.company_id)
        return json_response(
            {
                "token_type": "Bearer",
                "expires_in": grant.expires_in,
                "ext_expires_in": grant.expires_in,
                "access_token": grant.access_token,
            }
        )

    def _entra_error(self, status: int, error: str, code: int, message: str) -> Response:
        trace, correlation = self._id(), self._id()
        stamp = f"{datetime.fromtimestamp(self.runtime.timer(), timezone.utc):%Y-%m-%d %H:%M:%S}Z"
        body = {
            "error": error,
            "error_description": f"AADSTS{code}: {message}\r\nTrace ID: {trace}\r\n"
            f"Correlation ID: {correlation}\r\nTimestamp: {stamp}",
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={code}",
        }
        return json_response(body, status)

    async def authenticate(self, request: Request) -> Company:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        company = None
        if scheme.lower() == "bearer":
            try:
                company = self.tenants.get(self.oauth.verify(token.strip()))
            except AccessDenied:
                company = None
        if company is None or request.path_params["tenant"].lower() != _tenant_id(company):
            headers = {
                "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common/'
                'oauth2/authorize", error="invalid_token"'
            }
            raise self._error(
                401, "Authentication_InvalidCredentials", "The server has rejected the client credentials.", headers
            )
        if request.path_params["environment"].lower() != ENVIRONMENT:
            raise self._error(
                404,
                "BadRequest_NotFound",
                f"The environment '{request.path_params['environment']}' does not "
                f"exist in tenant '{request.path_params['tenant']}'; the sandbox serves '{ENVIRONMENT}'.",
            )
        wanted = request.path_params.get("company")
        if wanted is not None and wanted.lower() != _company_id(company):
            raise self._error(404, "Internal_CompanyNotFound", f"The company '{wanted}' does not exist.")
        return company

    # -- errors ------------------------------------------------------------------------------------------

    def _error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> ApiError:
        return ApiError(self._error_response(status, code, message, headers))

    def _error_response(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
        body = {"error": {"code": code, "message": f"{message}  CorrelationId:  {self._id()}."}}
        return json_response(body, status, headers)

    def error_response(self, status: int) -> Response:
        return self._error_response(status, "Internal_ServerError", f"The service answered {status}; retry later.")

    def throttled_response(self) -> Response:
        return self._error_response(429, "Application_TooManyRequests", "Too many requests reached.")

    def _bad_request(self, message: str) -> ApiError:
        return self._error(400, "BadRequest", message)

    def _id(self) -> str:
        """Correlation and trace ids: fresh per answer, and the same sequence on every run."""
        return str(uuid.uuid5(_NAMESPACE, f"correlation/{next(self._serial)}"))

    # -- endpoints ---------------------------------------------------------------------------------------

    async def _companies(self, request: Request, company: Company) -> Response:
        created = datetime.combine(company.onboarded_on, datetime.min.time()).isoformat() + "Z"
        entry = {
            "id": _company_id(company),
            "systemVersion": "26.0.30643.32772",
            "timestamp": int(hashlib.sha256(company.company_id.encode()).hexdigest()[:6], 16),
            "name": company.name,
            "displayName": company.name,
            "businessProfileId": "",
            "systemCreatedAt": created,
            "systemCreatedBy": _ZERO,
            "systemModifiedAt": created,
            "systemModifiedBy": _ZERO,
        }
        return json_response({"@odata.context": f"{_api_root(request)}/$metadata#companies", "value": [entry]})

    async def _resource(self, request: Request, company: Company) -> Response:
        path = _PATH.fullmatch(request.path_params["path"])
        entity_set = _SETS.get(path["set"]) if path else None
        if path is None or entity_set is None:
            segment = path["set"] if path else request.path_params["path"]
            raise self._error(404, "BadRequest_ResourceNotFound", f"Resource not found for the segment '{segment}'.")
        options = self._options(request)
        if options["$expand"] not in (None, entity_set.lines):
            raise self._bad_request(
                f"Could not find a property named '{options['$expand']}' on type "
                f"'Microsoft.NAV.{entity_set.name[:-1]}'."
            )
        context = f"{_api_root(request)}/$metadata#companies({_company_id(company)})/{entity_set.name}"
        lookup = _Lookup(self, company)
        if path["key"] is None:
            if path["nav"] is not None:
                raise self._bad_request(f"The segment '{path['nav']}' needs a key on '{entity_set.name}' before it.")
            return self._collection(request, company, entity_set, options, lookup, context)
        record = self._record(company, entity_set, path["key"])
        if path["nav"] is None:
            entity = self._payload(lookup, record, options)
            return json_response({"@odata.context": f"{context}/$entity", **entity})
        if path["nav"] != entity_set.lines:
            raise self._error(
                404, "BadRequest_ResourceNotFound", f"Resource not found for the segment '{path['nav']}'."
            )
        lines = self._payload(lookup, record, {**options, "$expand": entity_set.lines, "$select": None})
        return json_response(
            {"@odata.context": f"{context}({record.record_id})/{path['nav']}", "value": lines[entity_set.lines]}
        )

    def _collection(
        self,
        request: Request,
        company: Company,
        entity_set: _EntitySet,
        options: dict[str, Any],
        lookup: _Lookup,
        context: str,
    ) -> Response:
        page_size = _preferred_page_size(request.headers.get("Prefer"))
        top, skip = options["$top"], options["$skip"]
        limit = page_size if top is None else min(page_size, top)
        page: list[Record] = []
        more = False
        for record in self.records(company, entity_set.entity, after=options["$skiptoken"], **options["$filter"]):
            if _absent(record):
                continue
            if skip:
                skip -= 1
                continue
            if len(page) == limit:
                more = True
                break
            page.append(record)
        body: dict[str, Any] = {"@odata.context": context, "value": [self._payload(lookup, r, options) for r in page]}
        headers = {}
        if page_size < _MAX_PAGE_SIZE:
            headers["Preference-Applied"] = f"odata.maxpagesize={page_size}"
        if more and (top is None or top > len(page)):
            body["@odata.nextLink"] = _next_link(request, page[-1], None if top is None else top - len(page))
        return json_response(body, headers=headers)

    def _record(self, company: Company, entity_set: _EntitySet, key: str) -> Record:
        record = self.store.get(
            self.system, company.company_id, entity_set.entity, key.strip("'").lower(), as_of=self.now
        )
        if record is None or _absent(record):
            raise self._error(
                404,
                "Internal_RecordNotFound",
                f"The {entity_set.label} does not exist. Identification fields and values: Id='{key}'",
            )
        return record

    def _options(self, request: Request) -> dict[str, Any]:
        """The system query options, read and checked; unsupported ones are refused by name."""
        params = request.query_params
        unknown = sorted(name for name in params if name.startswith("$") and name not in _OPTIONS)
        if unknown:
            raise self._bad_request(f"The query option '{unknown[0]}' is not supported by the sandbox emulator.")
        return {
            "$filter": self._filter(params.get("$filter")),
            "$top": self._whole(params.get("$top"), "$top"),
            "$skip": self._whole(params.get("$skip"), "$skip") or 0,
            "$skiptoken": self._open_skiptoken(params.get("$skiptoken")),
            "$select": [name.strip() for name in params["$select"].split(",")] if params.get("$select") else None,
            "$expand": params.get("$expand"),
        }

    def _filter(self, text: str | None) -> dict[str, datetime]:
        """`lastModifiedDateTime <op> <instant>` terms joined by `and`, as the store's update window."""
        window: dict[str, datetime] = {}
        if not text:
            return window
        for term in _AND.split(text.strip()):
            matched = _CONDITION.fullmatch(term)
            instant = parse_instant(matched[2].strip("'")) if matched else None
            if matched is None or instant is None:
                raise self._bad_request(
                    f"Invalid filter term '{term}': the sandbox filters on lastModifiedDateTime gt|ge|lt|le|eq "
                    "<DateTimeOffset>, joined by 'and'."
                )
            op, tick = matched[1].lower(), timedelta(microseconds=1)
            if op in ("gt", "ge", "eq"):
                since = instant + tick if op == "gt" else instant
                window["updated_since"] = max(since, window.get("updated_since", since))
            if op in ("lt", "le", "eq"):
                before = instant if op == "lt" else instant + tick
                window["updated_before"] = min(before, window.get("updated_before", before))
        return window

    def _whole(self, raw: str | None, name: str) -> int | None:
        if raw is None:
            return None
        if not raw.strip().isdigit():
            raise self._bad_request(f"Invalid value '{raw}' for {name}: it must be a non-negative whole number.")
        return int(raw)

    def _open_skiptoken(self, token: str | None) -> RecordKey | None:
        if token is None:
            return None
        try:
            state = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            return RecordKey(datetime.fromisoformat(state["after"]), str(state["id"]))
        except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise self._bad_request(
                f"The skip token '{token}' is not valid: follow @odata.nextLink as given."
            ) from None

    # -- rendering ---------------------------------------------------------------------------------------

    def _payload(self, lookup: _Lookup, record: Record, options: dict[str, Any]) -> dict[str, Any]:
        """One entity as BC answers it: etag first, lines when expanded, drift applied, then $select."""
        expand = options.get("$expand")
        payload = {"@odata.etag": _etag(record), **self._renderers[record.entity](lookup, record)}
        if expand is not None:
            payload[expand] = lookup.lines(record, payload)
        payload = self.render(record, payload)
        selected = options.get("$select")
        if selected:
            kept = {"@odata.etag", *selected, *([expand] if expand else [])}
            payload = {name: value for name, value in payload.items() if name in kept}
        return payload

    def _party(self, lookup: _Lookup, record: Record) -> dict[str, Any]:
        body = record.body
        address = body.get("address") if isinstance(body.get("address"), dict) else {}
        party = {
            "id": record.record_id,
            "number": _number("C" if record.entity == "customer" else "V", record.record_id),
            "displayName": body.get("name"),
            **({"type": "Company"} if record.entity == "customer" else {}),
            "addressLine1": address.get("line1", ""),
            "addressLine2": "",
            "city": address.get("city", ""),
            "state": address.get("region", ""),
            "country": address.get("country", ""),
            "postalCode": address.get("postal_code", ""),
            "phoneNumber": body.get("phone", ""),
            "email": body.get("email", ""),
            "website": "",
            "taxRegistrationNumber": "",
            "currencyId": _ZERO,
            "currencyCode": body.get("currency"),
            "paymentTermsId": _ZERO,
            "paymentMethodId": _ZERO,
            "taxLiable": True,
            "blocked": " ",
            "lastModifiedDateTime": _timestamp(record.updated_at),
        }
        if record.entity == "vendor":
            party["irs1099Code"] = ""
        else:
            party["shipmentMethodId"] = _ZERO
        return party

    def _item(self, lookup: _Lookup, record: Record) -> dict[str, Any]:
        body = record.body
        return {
            "id": record.record_id,
            "number": body.get("sku"),
            "displayName": body.get("name"),
            "type": "Inventory",
            "itemCategoryId": str(uuid.uuid5(_NAMESPACE, f"category/{body.get('category')}")),
            "itemCategoryCode": str(body.get("category", "")).upper()[:20],
            "blocked": False,
            "gtin": "",
            "unitPrice": body.get("unit_price"),
            "priceIncludesTax": False,
            "unitCost": body.get("unit_cost"),
            "taxGroupCode": "TAXABLE" if body.get("taxable") else "NONTAXABLE",
            "baseUnitOfMeasureCode": "PCS",
            "lastModifiedDateTime": _timestamp(record.updated_at),
        }

    def _sales_invoice(self, lookup: _Lookup, record: Record) -> dict[str, Any]:
        body = record.body
        status = _STATUS["invoice"].get(body.get("status"), "Open")
        invoice = {
            "id": record.record_id,
            "number": body.get("number"),
            "externalDocumentNumber": body.get("reference", ""),
            "invoiceDate": lookup.date(body.get("issued_at")),
            "postingDate": lookup.date(body.get("issued_at")),
            "dueDate": lookup.date(body.get("due_on")),
            "customerPurchaseOrderReference": "",
            **lookup.customer(body.get("party_id")),
            "currencyId": _ZERO,
            "currencyCode": body.get("currency"),
            "orderId": _ZERO,
            "orderNumber": "",
            "paymentTermsId": _ZERO,
            "shipmentMethodId": _ZERO,
            "salesperson": "",
            "pricesIncludeTax": False,
            "remainingAmount": body.get("balance", body.get("total")) if status == "Open" else 0,
            **_totals(body),
            "status": status,
            "lastModifiedDateTime": _timestamp(record.updated_at),
        }
        return {**invoice, **lookup.contact_details(body.get("party_id"))}

    def _sales_credit_memo(self, lookup: _Lookup, record: Record) -> dict[str, Any]:
        body = record.body
        applies_to = body.get("applies_to")
        memo = {
            "id": record.record_id,
            "number": body.get("number"),
            "externalDocumentNumber": "",
            "creditMemoDate": lookup.date(body.get("issued_at")),
            "postingDate": lookup.date(body.get("issued_at")),
            "dueDate": lookup.date(body.get("issued_at")),
            **lookup.customer(body.get("party_id")),
            "currencyId": _ZERO,
            "currencyCode": body.get("currency"),
            "paymentTermsId": _ZERO,
            "shipmentMethodId": _ZERO,
            "salesperson": "",
            "pricesIncludeTax": False,
            **_totals(body),
            "status": _STATUS["credit_note"].get(body.get("status"), "Open"),
            "lastModifiedDateTime": _timestamp(record.updated_at),
            "invoiceId": applies_to or _ZERO,
            "invoiceNumber": lookup.field("invoice", applies_to, "number") or "",
        }
        return {**memo, **lookup.contact_details(body.get("party_id"))}

    def _sales_order(self, lookup: _Lookup, record: Record) -> dict[str, Any]:
        body = record.body
        status = _STATUS["sales_order"].get(body.get("status"), "Open")
        order = {
            "id": record.record_id,
            "number": body.get("number"),
            "externalDocumentNumber": body.get("reference", ""),
            "orderDate": lookup.date(body.get("issued_at")),
            "postingDate": lookup.date(body.get("issued_at")),
            **lookup.customer(body.get("party_id")),
            "currencyId": _ZERO,
            "currencyCode": body.get("currency"),
            "pricesIncludeTax": False,
            "paymentTermsId": _ZERO,
            "shipmentMethodId": _ZERO,
            "salesperson": "",
            "partialShipping": True,
            "requestedDeliveryDate": "0001-01-01",
            **_totals(body),
            "fullyShipped": status == "Released",
            "status": status,
            "lastModifiedDateTime": _timestamp(record.updated_at),
        }
        return {**order, **lookup.contact_details(body.get("party_id"))}

    def _purchase_order(self, lookup: _Lookup, record: Record) -> dict[str, Any]:
        body = record.body
        status = _STATUS["purchase_order"].get(body.get("status"), "Open")
        vendor_id = body.get("party_id")
        name = lookup.field("vendor", vendor_id, "name")
        number = _number("V", vendor_id) if isinstance(vendor_id, str) else None
        address = lookup.field("vendor", vendor_id, "address")
        return {
            "id": record.record_id,
            "number": body.get("number"),
            "orderDate": lookup.date(body.get("issued_at")),
            "postingDate": lookup.date(body.get("issued_at")),
            "dueDate": lookup.date(body.get("due_on")),
            "vendorId": vendor_id,
            "vendorNumber": number,
            "vendorName": name,
            "payToName": name,
            "payToVendorId": vendor_id,
            "payToVendorNumber": number,
            "shipToName": lookup.company.name,
            "shipToContact": "",
            **_address("buyFrom", address),
            **_address("payTo", address),
            "currencyId": _ZERO,
            "currencyCode": body.get("currency"),
            "pricesIncludeTax": False,
            "paymentTermsId": _ZERO,
            "shipmentMethodId": _ZERO,
            "purchaser": "",
            "requestedReceiptDate": lookup.date(body.get("due_on")),
            **_totals(body),
            "fullyReceived": status == "Released",
            "status": status,
            "lastModifiedDateTime": _timestamp(record.updated_at),
        }

    def _customer_payment(self, lookup: _Lookup, record: Record) -> dict[str, Any]:
        body = record.body
        customer_id, invoice_id = body.get("party_id"), body.get("invoice_id")
        return {
            "id": record.record_id,
            "journalId": str(uuid.uuid5(_NAMESPACE, f"journal/{record.company_id}")),
            "journalDisplayName": "CASH RCPT",
            "lineNumber": _sequence(record.record_id) * 10_000,
            "customerId": customer_id,
            "customerNumber": _number("C", customer_id) if isinstance(customer_id, str) else None,
            "contactId": "",
            "postingDate": lookup.date(body.get("paid_at")),
            "documentNumber": _number("PAY", record.record_id),
            "externalDocumentNumber": "",
            "amount": body.get("amount"),
            "appliesToInvoiceId": invoice_id or _ZERO,
            "appliesToInvoiceNumber": lookup.field("invoice", invoice_id, "number") or "",
            "description": body.get("method", ""),
            "comment": "",
            "lastModifiedDateTime": _timestamp(record.updated_at),
        }


class _Lookup:
    """One request's view of a company: local dates, and referenced records looked up once each."""

    def __init__(self, emulator: BusinessCentral, company: Company) -> None:
        self.emulator = emulator
        self.company = company
        self.tz = zone(company.timezone)
        self._bodies: dict[tuple[str, str], dict[str, Any]] = {}

    def date(self, value: Any) -> Any:
        return local_date(value, self.tz) if value is not None else "0001-01-01"

    def field(self, entity: str, record_id: Any, name: str) -> Any:
        if not isinstance(record_id, str):
            return None
        key = (entity, record_id)
        if key not in self._bodies:
            found = self.emulator.store.get(
                self.emulator.system, self.company.company_id, entity, record_id, as_of=self.emulator.now
            )
            self._bodies[key] = found.body if found else {}
        return self._bodies[key].get(name)

    def customer(self, customer_id: Any) -> dict[str, Any]:
        """The sell-to / bill-to / ship-to block every sales document carries."""
        name = self.field("customer", customer_id, "name")
        number = _number("C", customer_id) if isinstance(customer_id, str) else None
        address = self.field("customer", customer_id, "address")
        return {
            "customerId": customer_id,
            "customerNumber": number,
            "customerName": name,
            "billToName": name,
            "billToCustomerId": customer_id,
            "billToCustomerNumber": number,
            "shipToName": name,
            "shipToContact": "",
            **_address("sellTo", address),
            **_address("billTo", address),
            **_address("shipTo", address),
        }

    def contact_details(self, customer_id: Any) -> dict[str, Any]:
        return {
            "phoneNumber": self.field("customer", customer_id, "phone") or "",
            "email": self.field("customer", customer_id, "email") or "",
        }

    def lines(self, record: Record, document: dict[str, Any]) -> list[dict[str, Any]]:
        shipped = next(
            (document[key] for key in ("invoiceDate", "orderDate", "creditMemoDate") if key in document), None
        )
        rendered = []
        for line in record.body.get("lines", []):
            amount, tax = line.get("amount"), line.get("tax_amount")
            gross = _sum(amount, tax)
            rendered.append(
                {
                    "id": str(uuid.uuid5(_NAMESPACE, f"{record.record_id}/line/{line.get('line_no')}")),
                    "documentId": record.record_id,
                    "sequence": line.get("line_no", 0) * 10_000 if isinstance(line.get("line_no"), int) else None,
                    "itemId": line.get("product_id"),
                    "accountId": _ZERO,
                    "lineType": "Item",
                    "lineObjectNumber": line.get("sku"),
                    "description": line.get("description"),
                    "unitOfMeasureId": _ZERO,
                    "unitOfMeasureCode": "PCS",
                    "unitPrice": line.get("unit_price"),
                    "quantity": line.get("quantity"),
                    "discountAmount": 0,
                    "discountPercent": 0,
                    "discountAppliedBeforeTax": False,
                    "amountExcludingTax": amount,
                    "taxCode": "TAXABLE" if tax else "NONTAXABLE",
                    "taxPercent": _percent(tax, amount),
                    "totalTaxAmount": tax,
                    "amountIncludingTax": gross,
                    "invoiceDiscountAllocation": 0,
                    "netAmount": amount,
                    "netTaxAmount": tax,
                    "netAmountIncludingTax": gross,
                    "shipmentDate": shipped or self.date(record.created_at),
                    "itemVariantId": _ZERO,
                }
            )
        return rendered


# -- helpers -------------------------------------------------------------------------------------------------


def _absent(record: Record) -> bool:
    """BC keeps no tombstones, and a cancelled order is deleted there."""
    return record.deleted or (
        record.entity in ("sales_order", "purchase_order") and record.body.get("status") == "cancelled"
    )


def _address(prefix: str, address: Any) -> dict[str, Any]:
    address = address if isinstance(address, dict) else {}
    return {
        f"{prefix}AddressLine1": address.get("line1", ""),
        f"{prefix}AddressLine2": "",
        f"{prefix}City": address.get("city", ""),
        f"{prefix}Country": address.get("country", ""),
        f"{prefix}State": address.get("region", ""),
        f"{prefix}PostCode": address.get("postal_code", ""),
    }


def _totals(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "discountAmount": 0,
        "discountAppliedBeforeTax": True,
        "totalAmountExcludingTax": body.get("subtotal"),
        "totalTaxAmount": body.get("tax_total"),
        "totalAmountIncludingTax": body.get("total"),
    }


def _numbers(*values: Any) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _sum(amount: Any, tax: Any) -> Any:
    return round(amount + tax, 2) if _numbers(amount, tax) else amount


def _percent(tax: Any, amount: Any) -> Any:
    return round(tax / amount * 100, 2) if _numbers(tax, amount) and amount else 0


def _timestamp(instant: datetime) -> str:
    """'2020-08-21T07:38:44.293Z': UTC with milliseconds, trailing zeros dropped as BC does."""
    utc = instant.astimezone(timezone.utc)
    fraction = f"{utc.microsecond // 1000:03d}".rstrip("0")
    return f"{utc:%Y-%m-%dT%H:%M:%S}{'.' + fraction if fraction else ''}Z"


def _etag(record: Record) -> str:
    """W/"JzE5OzE1NjE4...OzAwOyc=": BC's weak etag, base64 of a row-version string; it changes with every version."""
    digits = str(int(hashlib.sha256(f"{record.record_id}/{record.version}".encode()).hexdigest()[:16], 16))
    return 'W/"' + base64.b64encode(f"'{len(digits)};{digits};00;'".encode()).decode() + '"'


def _sequence(record_id: str) -> int:
    return int(hashlib.sha256(record_id.encode()).hexdigest()[:8], 16) % 100_000


def _number(prefix: str, record_id: str) -> str:
    """A record's No. ('C04217'): BC numbers records, the sandbox derives one from the record's GUID."""
    return f"{prefix}{_sequence(record_id):05d}"


def _preferred_page_size(prefer: str | None) -> int:
    matched = re.search(r"odata\.maxpagesize\s*=\s*(\d+)", prefer or "", re.IGNORECASE)
    return min(int(matched[1]), _MAX_PAGE_SIZE) if matched and int(matched[1]) > 0 else _MAX_PAGE_SIZE


def _next_link(request: Request, last: Record, top: int | None) -> str:
    """The request again from after `last`: other options kept, $skip spent, $top reduced to what is left."""
    token = (
        base64.urlsafe_b64encode(orjson.dumps({"after": last.updated_at.isoformat(), "id": last.record_id}))
        .decode()
        .rstrip("=")
    )
    query = {name: value for name, value in request.query_params.items() if name not in ("$skip", "$skiptoken", "$top")}
    if top is not None:
        query["$top"] = str(top)
    query["$skiptoken"] = token
    return str(request.url.replace(query=urlencode(query, safe="$'(),:", quote_via=quote)))


def _api_root(request: Request) -> str:
    """'https://<host>/v2.0/<tenant>/<environment>/api/v2.0': where @odata.context points."""
    path = request.url.path
    return str(request.url.replace(path=path[: path.index("/companies")], query=""))


def _tenant_id(company: Company) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"tenant/{company.company_id}"))


def _company_id(company: Company) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"company/{company.company_id}"))
