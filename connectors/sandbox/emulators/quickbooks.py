"""QuickBooks Online Accounting API v3: query, change data capture, read, and the OAuth2 token endpoint.

Wire facts emulated (shapes from shared/fixtures/quickbooks/): OAuth2 bearer tokens that expire (3600 s)
and refresh tokens that rotate (a used one answers invalid_grant); the query language with STARTPOSITION
/ MAXRESULTS (at most 1000) in a QueryResponse envelope; CDC reporting deleted transactions as
status="Deleted" stubs, at most 1000 objects and 30 days back; 500 requests a minute and 10 at once per
realm, refused with the ThrottleExceeded fault (3001); voided invoices zeroed with PrivateNote "Voided".
Names (customers, vendors, items) are never deleted in QBO: a deleted one turns Active=false, and queries
list active names only unless they ask `Active IN (true, false)`. TxnDate is the company's local date;
MetaData times carry the US Pacific offset the QBO servers stamp. Answers are always JSON (the connector
asks for it); minorversion is accepted and ignored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from connectors.sandbox.emulators.auth import AccessDenied, OAuthError, derive
from connectors.sandbox.emulators.base import ApiError, OAuth2Emulator, json_response
from connectors.sandbox.emulators.limits import LimitHeaders, LimitPolicy, Window
from connectors.sandbox.emulators.quickbooks_query import Query, QueryError, parse_query
from connectors.sandbox.emulators.runtime import Runtime
from connectors.sandbox.emulators.wire import local_date, local_time, parse_instant, zone
from connectors.sandbox.model import Company, Record
from connectors.sandbox.store import SandboxStore

PACIFIC = zone("America/Los_Angeles")
ACCESS_TTL_SECONDS = 3600
REFRESH_TTL_SECONDS = 8_726_400
_ENTITIES = {
    "Invoice": "invoice",
    "Customer": "customer",
    "Vendor": "vendor",
    "Item": "product",
    "Payment": "payment",
    "CreditMemo": "credit_note",
    "PurchaseOrder": "purchase_order",
}
_NAME_LISTS = frozenset({"Customer", "Vendor", "Item"})
_CDC_LOOKBACK = timedelta(days=30)
_CDC_MAX_OBJECTS = 1000


class QuickBooks(OAuth2Emulator):
    system = "quickbooks"
    limits = LimitPolicy(windows={"minute": Window(limit=500, seconds=60)}, concurrent=10)
    limit_headers = LimitHeaders()
    access_ttl_seconds = ACCESS_TTL_SECONDS

    def __init__(self, store: SandboxStore, runtime: Runtime) -> None:
        super().__init__(store, runtime)
        self._realms = {_realm_id(company): company for company in self.tenants.values()}
        self._renderers: dict[str, Callable[[Company, Record], dict[str, Any]]] = {
            "Invoice": self._invoice,
            "CreditMemo": self._credit_memo,
            "PurchaseOrder": self._purchase_order,
            "Payment": self._payment,
            "Customer": self._party,
            "Vendor": self._party,
            "Item": self._item,
        }

    @classmethod
    def credentials(cls, company: Company, secret: str) -> dict[str, str]:
        return {"realm_id": _realm_id(company), **cls.client_credentials(company, secret)}

    @classmethod
    def app_client(cls, secret: str) -> tuple[str, str]:
        """The sandbox's one QuickBooks app: every realm is connected through the same client id and secret."""
        return "AB" + derive(secret, "quickbooks", "app", "client_id", length=48), derive(
            secret, "quickbooks", "app", "client_secret", length=40
        )

    def routes(self) -> list[BaseRoute]:
        company = "/v3/company/{realm}"
        return [
            Route("/oauth2/v1/tokens/bearer", self.counted(self._token), methods=["POST"]),
            Route(f"{company}/query", self.api(self._query), methods=["GET", "POST"]),
            Route(f"{company}/cdc", self.api(self._cdc), methods=["GET"]),
            Route(company + "/{entity}/{id}", self.api(self._read), methods=["GET"]),
        ]

    # -- auth --------------------------------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        if not _basic_auth_is(request.headers.get("Authorization"), *self.app_client(self.secret)):
            return json_response({"error": "invalid_client"}, 401)
        form = {key: values[0] for key, values in parse_qs((await request.body()).decode()).items()}
        if "grant_type" not in form or "refresh_token" not in form:
            return json_response({"error": "invalid_request"}, 400)
        if form["grant_type"] != "refresh_token":
            return json_response({"error": "unsupported_grant_type"}, 400)
        try:
            grant = self.oauth.refresh(form["refresh_token"])
        except OAuthError as refused:
            return json_response({"error": refused.error}, refused.status)
        return json_response(
            {
                "token_type": "bearer",
                "access_token": grant.access_token,
                "expires_in": grant.expires_in,
                "refresh_token": grant.refresh_token,
                "x_refresh_token_expires_in": REFRESH_TTL_SECONDS,
            }
        )

    async def authenticate(self, request: Request) -> Company:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise self._gateway_fault(401, "AuthenticationFailed", "003200", "Authorization header missing")
        try:
            tenant = self.oauth.verify(token.strip())
        except AccessDenied as denied:
            detail = f"Token expired: {token[:24]}..." if denied.reason == "expired" else "Token revoked"
            raise self._gateway_fault(401, "AuthenticationFailed", "003200", detail) from None
        company = self._realms.get(request.path_params["realm"])
        if company is None or company.company_id != tenant:
            raise self._gateway_fault(403, "AuthorizationFailed", "003100", None)
        return company

    def _gateway_fault(self, status: int, message: str, code: str, detail: str | None) -> ApiError:
        """The intuit gateway's own error shape (lower-case keys), used for 401 and 403."""
        body = {
            "warnings": None,
            "intuitObject": None,
            "fault": {
                "error": [
                    {
                        "message": f"message={message}; errorCode={code}; statusCode={status}",
                        "detail": detail,
                        "code": code.lstrip("0"),
                        "element": None,
                    }
                ],
                "type": "AUTHENTICATION" if status == 401 else "SERVICE",
            },
            "report": None,
            "queryResponse": None,
            "batchItemResponse": [],
            "attachableResponse": [],
            "syncErrorResponse": None,
            "requestId": None,
            "time": int(self.now.timestamp() * 1000),
            "status": None,
            "cdcresponse": [],
        }
        headers = {"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'} if status == 401 else None
        return ApiError(json_response(body, status, headers))

    # -- faults ------------------------------------------------------------------------------------------

    def _fault(self, status: int, kind: str, code: str, message: str, detail: str) -> Response:
        error = {"Message": message, "Detail": detail, "code": code}
        return json_response({"Fault": {"Error": [error], "type": kind}, "time": self._time()}, status)

    def _validation(self, code: str, message: str, detail: str) -> ApiError:
        return ApiError(self._fault(400, "ValidationFault", code, message, detail))

    def error_response(self, status: int) -> Response:
        return self._fault(
            status,
            "SystemFault",
            "10000",
            "An application error has occurred while processing your request",
            f"System Failure Error: the service answered {status}",
        )

    def throttled_response(self) -> Response:
        return self._fault(
            429,
            "SERVICE",
            "3001",
            "message=ThrottleExceeded; errorCode=003001; statusCode=429",
            "The request limit was reached.  Try again later",
        )

    # -- endpoints ---------------------------------------------------------------------------------------

    async def _query(self, request: Request, company: Company) -> Response:
        text = request.query_params.get("query") if request.method == "GET" else (await request.body()).decode()
        try:
            query = parse_query(text or "", _ENTITIES, default_tz=PACIFIC)
        except QueryError as error:
            raise self._validation(error.code, error.message, error.detail) from None
        entity = _ENTITIES[query.entity]
        window = {"updated_since": query.updated_since, "updated_before": query.updated_before, "deleted": _deleted_filter(query)}
        if query.count:
            total = self.store.count(self.system, company.company_id, entity, as_of=self.now, **window)
            return json_response({"QueryResponse": {"totalCount": total}, "time": self._time()})
        page = list(self.records(company, entity, offset=query.start_position - 1, limit=query.max_results, **window))
        found: dict[str, Any] = {}
        if page:
            found = {
                query.entity: [self._payload(company, query.entity, record) for record in page],
                "startPosition": query.start_position,
                "maxResults": len(page),
            }
        return json_response({"QueryResponse": found, "time": self._time()})

    async def _cdc(self, request: Request, company: Company) -> Response:
        requested = [name.strip() for name in request.query_params.get("entities", "").split(",") if name.strip()]
        names = [next((known for known in _ENTITIES if known.lower() == name.lower()), name) for name in requested]
        unknown = [name for name in names if name not in _ENTITIES]
        if not names or unknown:
            raise self._validation(
                "4001", "Invalid query", f"entities must list some of {', '.join(_ENTITIES)}; got {unknown or 'none'}"
            )
        since = parse_instant(request.query_params.get("changedSince"))
        if since is None:
            raise self._validation(
                "4001", "Invalid query", "changedSince must be a dateTime such as 2024-01-01T00:00:00-08:00"
            )
        if since < self.now - _CDC_LOOKBACK:
            raise self._validation("4001", "Invalid query", "changedSince must be within the last 30 days")
        room = _CDC_MAX_OBJECTS
        answers = []
        for name in names:
            changed, deleted = [], []
            for record in self.records(company, _ENTITIES[name], updated_since=since):
                if room == 0:
                    break
                room -= 1
                if record.deleted and name not in _NAME_LISTS:
                    deleted.append(_deleted_stub(record))
                else:
                    changed.append(self._payload(company, name, record))
            objects = changed + deleted  # QBO lists deleted objects after the active ones
            answers.append(
                {name: objects, "startPosition": 1, "maxResults": len(objects), "totalCount": len(objects)}
                if objects
                else {}
            )
        return json_response({"CDCResponse": [{"QueryResponse": answers}], "time": self._time()})

    async def _read(self, request: Request, company: Company) -> Response:
        name = next((known for known in _ENTITIES if known.lower() == request.path_params["entity"].lower()), None)
        record = None
        if name is not None:
            record = self.store.get(
                self.system, company.company_id, _ENTITIES[name], request.path_params["id"], as_of=self.now
            )
        if name is None or record is None or (record.deleted and name not in _NAME_LISTS):
            raise self._validation(
                "610",
                "Object Not Found",
                "Object Not Found : Something you're trying to use has been made inactive or deleted "
                f"({request.url.path})",
            )
        return json_response({name: self._payload(company, name, record), "time": self._time()})

    # -- rendering ---------------------------------------------------------------------------------------

    def _time(self) -> str:
        return local_time(self.now, PACIFIC, timespec="milliseconds")

    def _payload(self, company: Company, name: str, record: Record) -> dict[str, Any]:
        return self.render(record, self._renderers[name](company, record))

    def _invoice(self, company: Company, record: Record) -> dict[str, Any]:
        doc = self._sales_document(company, record)
        doc.update(_present(record.body, DueDate="due_on"))
        doc["Deposit"] = 0
        doc["LinkedTxn"] = []
        return doc

    def _credit_memo(self, company: Company, record: Record) -> dict[str, Any]:
        doc = self._sales_document(company, record)
        doc["RemainingCredit"] = doc.pop("Balance")
        applies_to = record.body.get("applies_to")
        doc["LinkedTxn"] = [{"TxnId": applies_to, "TxnType": "Invoice"}] if applies_to else []
        return doc

    def _sales_document(self, company: Company, record: Record) -> dict[str, Any]:
        body = record.body
        void = body.get("status") == "void"

        def amount(value: Any) -> Any:
            return 0 if void else value  # QBO zeroes every amount of a voided transaction

        doc = {
            **_entity_base(record),
            "DocNumber": body.get("number"),
            "TxnDate": local_date(body.get("issued_at"), zone(company.timezone)),
            "CurrencyRef": {"value": body.get("currency")},
            "CustomerRef": {"value": body.get("party_id")},
            "Line": [_line(line, "SalesItemLineDetail", void) for line in body.get("lines", [])]
            + [{"DetailType": "SubTotalLineDetail", "Amount": amount(body.get("subtotal")), "SubTotalLineDetail": {}}],
            "TxnTaxDetail": {"TotalTax": amount(body.get("tax_total"))},
            "TotalAmt": amount(body.get("total")),
            "Balance": amount(body.get("balance", body.get("total"))),
            "ApplyTaxAfterDiscount": False,
            "PrintStatus": "NeedToPrint",
            "EmailStatus": "NotSet",
        }
        if void:
            doc["PrivateNote"] = "Voided"
        if "reference" in body:
            doc["CustomField"] = [
                {"DefinitionId": "1", "Name": "Sales Order", "Type": "StringType", "StringValue": body["reference"]}
            ]
        return doc

    def _purchase_order(self, company: Company, record: Record) -> dict[str, Any]:
        body = record.body
        status = body.get("status")
        doc = {
            **_entity_base(record),
            "DocNumber": body.get("number"),
            "TxnDate": local_date(body.get("issued_at"), zone(company.timezone)),
            **_present(body, DueDate="due_on"),
            "CurrencyRef": {"value": body.get("currency")},
            "VendorRef": {"value": body.get("party_id")},
            "Line": [_line(line, "ItemBasedExpenseLineDetail", False) for line in body.get("lines", [])],
            "TotalAmt": body.get("total"),
            "POStatus": "Open" if status == "open" else "Closed",
        }
        if status == "cancelled":
            doc["PrivateNote"] = "Cancelled"
        return doc

    def _payment(self, company: Company, record: Record) -> dict[str, Any]:
        body = record.body
        return {
            **_entity_base(record),
            "TxnDate": local_date(body.get("paid_at"), zone(company.timezone)),
            "CustomerRef": {"value": body.get("party_id")},
            "CurrencyRef": {"value": body.get("currency")},
            **({"PaymentMethodRef": {"value": body["method"]}} if "method" in body else {}),
            "TotalAmt": body.get("amount"),
            "UnappliedAmt": 0,
            "Line": [
                {"Amount": body.get("amount"), "LinkedTxn": [{"TxnId": body.get("invoice_id"), "TxnType": "Invoice"}]}
            ],
        }

    def _party(self, company: Company, record: Record) -> dict[str, Any]:
        body = record.body
        party = {
            **_entity_base(record),
            "DisplayName": body.get("name"),
            "CompanyName": body.get("name"),
            "PrintOnCheckName": body.get("name"),
            "Active": not record.deleted,
            "CurrencyRef": {"value": body.get("currency")},
        }
        if "email" in body:
            party["PrimaryEmailAddr"] = {"Address": body["email"]}
        if "phone" in body:
            party["PrimaryPhone"] = {"FreeFormNumber": body["phone"]}
        address = body.get("address")
        if isinstance(address, dict):
            party["BillAddr"] = {
                "Line1": address.get("line1"),
                "City": address.get("city"),
                "CountrySubDivisionCode": address.get("region"),
                "PostalCode": address.get("postal_code"),
                "Country": address.get("country"),
            }
        return party

    def _item(self, company: Company, record: Record) -> dict[str, Any]:
        body = record.body
        return {
            **_entity_base(record),
            "Name": body.get("name"),
            "FullyQualifiedName": body.get("name"),
            "Sku": body.get("sku"),
            "Description": body.get("category"),
            "Type": "Inventory",
            "TrackQtyOnHand": True,
            "UnitPrice": body.get("unit_price"),
            "PurchaseCost": body.get("unit_cost"),
            "Taxable": body.get("taxable"),
            "Active": not record.deleted,
        }


def _deleted_filter(query: Query) -> bool | None:
    """Deleted transactions are gone; deleted names are inactive, listed only when the query asks for them
    (None: both active and inactive)."""
    if query.entity not in _NAME_LISTS:
        return False
    wanted = query.active if query.active is not None else frozenset({True})
    return None if len(wanted) == 2 else not next(iter(wanted))


def _present(body: dict[str, Any], **fields: str) -> dict[str, Any]:
    """QBO leaves out attributes without a value: map wire name -> body key for those the body has."""
    return {wire: body[key] for wire, key in fields.items() if key in body}


def _entity_base(record: Record) -> dict[str, Any]:
    return {
        "Id": record.record_id,
        "SyncToken": str(record.version - 1),
        "domain": "QBO",
        "sparse": False,
        "MetaData": {
            "CreateTime": local_time(record.created_at, PACIFIC),
            "LastUpdatedTime": local_time(record.updated_at, PACIFIC),
        },
    }


def _deleted_stub(record: Record) -> dict[str, Any]:
    return {
        "domain": "QBO",
        "status": "Deleted",
        "Id": record.record_id,
        "MetaData": {"LastUpdatedTime": local_time(record.updated_at, PACIFIC)},
    }


def _line(line: dict[str, Any], detail_type: str, void: bool) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "ItemRef": {"value": line.get("product_id"), "name": line.get("sku")},
        "Qty": 0 if void else line.get("quantity"),
        "TaxCodeRef": {"value": "TAX" if line.get("tax_amount") else "NON"},
    }
    if not void:
        detail["UnitPrice"] = line.get("unit_price")
    return {
        "Id": str(line.get("line_no")),
        "LineNum": line.get("line_no"),
        "Description": line.get("description"),
        "Amount": 0 if void else line.get("amount"),
        "DetailType": detail_type,
        detail_type: detail,
    }


def _realm_id(company: Company) -> str:
    """A 16-digit company id like QBO's, stable per company."""
    return str(9130_0000_0000_0000 + int(hashlib.sha256(company.company_id.encode()).hexdigest()[:12], 16) % 10**15)


def _basic_auth_is(header: str | None, user: str, password: str) -> bool:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(given, f"{user}:{password}")
