"""NetSuite SuiteTalk REST web services: the record API and SuiteQL, behind token-based authentication.

Wire facts emulated (record shape from shared/fixtures/netsuite/salesOrder_rest.json):
- Routes under /accounts/{accountId}/services/rest/ (the account's own host on NetSuite).
- Token-based authentication: OAuth 1.0a HMAC-SHA256 with realm = account id, one integration
  (consumer key) for the sandbox and one token per account. A bad signature, a reused nonce, a
  timestamp more than 5 minutes off, an unknown token or another account's token all answer the same
  401 INVALID_LOGIN body, as NetSuite does (the reason is only in its Login Audit Trail).
- Record collections list ids and links only: {"links", "count", "hasMore", "items": [{"links", "id"}],
  "offset", "totalResults"}; limit 1..1000 (default 1000) and offset; `q=lastModifiedDate AFTER "..."`
  narrows them. Items are listed in lastModifiedDate, id order. A record is read at
  /record/v1/{type}/{id}; its sublists (item, apply) are links, expanded with expandSubResources=true
  or read at /record/v1/{type}/{id}/{sublist}.
- SuiteQL: POST /query/v1/suiteql?limit=&offset= with `Prefer: transient` and {"q": "..."}, answering
  the same envelope with rows (see netsuite_suiteql.py for the subset); offset must be a multiple of
  limit. Tables: transaction, transactionline (NetSuite's ledger signs: item lines of sales
  transactions carry negative quantities and amounts), customer, vendor, item and deletedrecord.
- Deleted records vanish from the record API (404 NONEXISTENT_ID) and appear in SuiteQL's
  deletedrecord table; a voided invoice keeps its lines with zero amounts, memo VOID, status V.
- Limits: concurrent requests per account (5, an account without SuiteCloud Plus), refused with 429
  CONCURRENCY_LIMIT_EXCEEDED and no Retry-After (NetSuite's body really titles it "Bad Request").
- Errors are NetSuite's RFC 7807-style bodies ("type", "title", "status", "o:errorDetails") with the
  application/vnd.oracle.resource+json media types.
- The record API failing for some record types (`faults.netsuite.failing_resources`, e.g.
  ["customerPayment"]): real accounts hit record types the REST record service cannot serve (beta or
  unsupported types, records whose customizations break the read), which answer 400 USER_ERROR
  "Error while accessing a resource..."; SuiteQL keeps serving those records, so a connector must
  fall back to it.
"""

from __future__ import annotations

import hashlib
import hmac
import zlib
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from connectors.sandbox.emulators.auth import OAuth1Error, OAuth1Verifier, derive
from connectors.sandbox.emulators.base import ApiError, Emulator
from connectors.sandbox.emulators.limits import LimitHeaders, LimitPolicy
from connectors.sandbox.emulators.listings import Positions, key, merged_records
from connectors.sandbox.emulators.netsuite_records import (
    ID_COLUMNS,
    RECORD_TYPES,
    SUBLISTS,
    TABLE_ENTITIES,
    TABLES,
    TRANSACTION_TYPES,
    Links,
    SuiteRow,
    View,
)
from connectors.sandbox.emulators.netsuite_suiteql import QueryError, SuiteQL, parse_record_filter, parse_suiteql
from connectors.sandbox.emulators.runtime import Runtime
from connectors.sandbox.emulators.wire import zone
from connectors.sandbox.model import Company, Record, RecordKey
from connectors.sandbox.store import SandboxStore

_MAX_LIMIT = 1000
_RFC = "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html"
_TITLES = {
    400: ("Bad Request", "#sec10.4.1"),
    401: ("Unauthorized", ""),
    404: ("Not Found", "#sec10.4.5"),
    429: ("Bad Request", ""),
    500: ("Internal Server Error", "#sec10.5.1"),
    502: ("Bad Gateway", "#sec10.5.3"),
    503: ("Service Unavailable", "#sec10.5.4"),
    504: ("Gateway Timeout", "#sec10.5.5"),
}
_INVALID_LOGIN = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)
_SEARCH_ERROR = "Invalid search query. Detailed unprocessed description follows. Search error occurred: "


class NetSuite(Emulator):
    system = "netsuite"
    limits = LimitPolicy(concurrent=5)
    limit_headers = LimitHeaders(sends_retry_after=False)

    def __init__(self, store: SandboxStore, runtime: Runtime) -> None:
        super().__init__(store, runtime)
        self._accounts = {account_id(company): company for company in self.tenants.values()}
        self._tokens = {_token(self.secret, company)[0]: company for company in self.tenants.values()}
        self._consumer = _consumer(self.secret)
        self.verifier = OAuth1Verifier(self._token_secrets, timer=runtime.timer)
        self.positions: Positions[Any] = Positions()

    @classmethod
    def credentials(cls, company: Company, secret: str) -> dict[str, str]:
        consumer_key, consumer_secret = _consumer(secret)
        token_id, token_secret = _token(secret, company)
        return {
            "account_id": account_id(company),
            "consumer_key": consumer_key,
            "consumer_secret": consumer_secret,
            "token_id": token_id,
            "token_secret": token_secret,
        }

    def routes(self) -> list[BaseRoute]:
        base = "/accounts/{account}/services/rest"
        return [
            Route(base + "/record/v1/{record_type}", self.api(self._list), methods=["GET"]),
            Route(base + "/record/v1/{record_type}/{id}", self.api(self._get), methods=["GET"]),
            Route(base + "/record/v1/{record_type}/{id}/{sublist}", self.api(self._sublist), methods=["GET"]),
            Route(base + "/query/v1/suiteql", self.api(self._suiteql), methods=["POST"]),
        ]

    # -- auth, limits, failures ------------------------------------------------------------------------

    def _token_secrets(self, consumer_key: str, token_id: str) -> tuple[str, str] | None:
        company = self._tokens.get(token_id)
        if company is None or not hmac.compare_digest(consumer_key, self._consumer[0]):
            return None
        return self._consumer[1], _token(self.secret, company)[1]

    async def authenticate(self, request: Request) -> Company:
        company = self._accounts.get(_canonical_account(request.path_params["account"]))
        try:
            identity = self.verifier.verify(request.method, str(request.url), request.headers.get("Authorization"))
        except OAuth1Error:
            raise ApiError(_error(401, "INVALID_LOGIN", _INVALID_LOGIN)) from None
        if (
            company is None
            or self._tokens.get(identity.token) is not company
            or _canonical_account(identity.realm) != account_id(company)
        ):
            raise ApiError(_error(401, "INVALID_LOGIN", _INVALID_LOGIN))
        return company

    def error_response(self, status: int) -> Response:
        detail = f"An unexpected error occurred. Error ID: {_error_id(self.now, status)}"
        return _error(status, "UNEXPECTED_ERROR", detail)

    def throttled_response(self) -> Response:
        return _error(429, "CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded. Request blocked.")

    def _record_type(self, request: Request) -> str:
        """The record type a path names (case-insensitive, as on NetSuite), refused when it fails on purpose."""
        named = request.path_params["record_type"]
        record_type = next((known for known in RECORD_TYPES if known.lower() == named.lower()), None)
        if record_type is None:
            raise ApiError(_error(404, "NONEXISTENT_ID", f"Record type '{named}' does not exist."))
        failing = {name.lower() for name in self.runtime.faults.config(self.system).failing_resources}
        if record_type.lower() in failing:
            raise ApiError(
                _error(
                    400,
                    "USER_ERROR",
                    f"Error while accessing a resource. An unexpected error occurred while reading {record_type} "
                    "records through the REST record service.",
                )
            )
        return record_type

    # -- record API --------------------------------------------------------------------------------------

    async def _list(self, request: Request, company: Company) -> Response:
        record_type = self._record_type(request)
        entity = RECORD_TYPES[record_type]
        limit, offset = _paging(request)
        since = before = None
        if "q" in request.query_params:
            try:
                since, before = parse_record_filter(request.query_params["q"], zone(company.timezone))
            except QueryError as error:
                raise ApiError(_error(400, "INVALID_PARAMETER", _SEARCH_ERROR + str(error))) from None
        window = {"updated_since": since, "updated_before": before, "deleted": False}
        listing = ("record", company.company_id, entity, since, before, self.now)

        def stream(after: RecordKey | None) -> Iterator[tuple[RecordKey, Record]]:
            return ((key(record), record) for record in self.records(company, entity, after=after, **window))

        page, more = self.positions.page(listing, stream, offset, limit)
        total = self.positions.total(
            listing, lambda: self.store.count(self.system, company.company_id, entity, as_of=self.now, **window)
        )
        links = Links(request)
        items = [{"links": [links.self(links.record(record_type, r.record_id))], "id": r.record_id} for r in page]
        return _collection(request, items, offset=offset, limit=limit, total=total, more=more)

    async def _get(self, request: Request, company: Company) -> Response:
        record_type = self._record_type(request)
        record = self._live(company, record_type, request.path_params["id"])
        expand = request.query_params.get("expandSubResources", "").lower() == "true"
        view = View(self, request, company)
        return _resource(self.render(record, view.record(record_type, record, expand=expand)), "singular")

    async def _sublist(self, request: Request, company: Company) -> Response:
        record_type = self._record_type(request)
        record = self._live(company, record_type, request.path_params["id"])
        sublist = request.path_params["sublist"].lower()
        if record.entity not in SUBLISTS.get(sublist, ()):
            raise ApiError(_error(404, "NONEXISTENT_ID", f"Sublist '{request.path_params['sublist']}' does not exist."))
        view = View(self, request, company)
        return _resource(self.render(record, view.sublist(record_type, record, sublist)), "collection")

    def _live(self, company: Company, record_type: str, record_id: str) -> Record:
        record = self.store.get(self.system, company.company_id, RECORD_TYPES[record_type], record_id, as_of=self.now)
        if record is None or record.deleted:
            raise ApiError(
                _error(404, "NONEXISTENT_ID", "The record instance does not exist. Provide a valid record instance ID.")
            )
        return record

    # -- SuiteQL -------------------------------------------------------------------------------------------

    async def _suiteql(self, request: Request, company: Company) -> Response:
        if request.headers.get("Prefer", "").strip().lower() != "transient":
            raise ApiError(_error(400, "INVALID_HEADER", "SuiteQL requests must carry the header 'Prefer: transient'."))
        try:
            text = orjson.loads(await request.body())["q"]
            if not isinstance(text, str):
                raise TypeError(text)
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise ApiError(
                _error(400, "INVALID_CONTENT", "The request body must be a JSON object with the query in 'q'.")
            ) from None
        limit, offset = _paging(request)
        if offset % limit:
            raise ApiError(
                _error(400, "INVALID_PARAMETER", f"The offset {offset} is not a multiple of the limit {limit}.")
            )
        tz = zone(company.timezone)
        try:
            query = parse_suiteql(text, TABLES, tz)
        except QueryError as error:
            raise ApiError(_error(400, "INVALID_PARAMETER", _SEARCH_ERROR + str(error))) from None
        view = View(self, request, company)
        listing = ("suiteql", company.company_id, query, self.now)
        stream = partial(self._suiteql_rows, view, query)
        page, more = self.positions.page(listing, stream, offset, limit)
        total = self.positions.total(listing, lambda: sum(1 for _ in stream(None)))
        columns = TABLES[query.table].columns
        items = [{"links": [], **query.answer(row, columns, tz, display)} for row, display in page]
        return _collection(request, items, offset=offset, limit=limit, total=total, more=more)

    def _suiteql_rows(
        self, view: View, query: SuiteQL, after: RecordKey | None
    ) -> Iterator[tuple[RecordKey, SuiteRow]]:
        entities = TABLE_ENTITIES[query.table]
        if query.table == "transaction":
            entities = _wanted_types(query) or entities
        records = merged_records(
            self, view.company, entities, after=after, ids=_wanted_ids(query, ID_COLUMNS.get(query.table)),
            updated_since=query.updated_since, updated_before=query.updated_before,
            deleted=query.table == "deletedrecord",
        )
        for record in records:
            for row in view.suiteql_rows(query.table, record):
                if query.matches(row[0]):
                    yield key(record), row


def account_id(company: Company) -> str:
    """A 7-digit NetSuite account id, stable per company."""
    digest = hashlib.sha256(f"netsuite/{company.company_id}".encode()).hexdigest()
    return str(1_000_000 + int(digest[:12], 16) % 9_000_000)


def _canonical_account(text: str) -> str:
    """Account ids as realms and paths spell them: '1234567_SB1', '1234567-sb1', '1234567'."""
    return text.strip().upper().replace("-", "_")


def _consumer(secret: str) -> tuple[str, str]:
    """The sandbox's one integration record: every account is reached through the same consumer key."""
    return derive(secret, "netsuite", "integration", "consumer_key", length=64), derive(
        secret, "netsuite", "integration", "consumer_secret", length=64
    )


def _token(secret: str, company: Company) -> tuple[str, str]:
    return derive(secret, "netsuite", company.company_id, "token_id", length=64), derive(
        secret, "netsuite", company.company_id, "token_secret", length=64
    )


def _error_id(now: datetime, status: int) -> str:
    return f"{zlib.crc32(f'{now.isoformat()}/{status}'.encode()):08x}-netsuite-sandbox"


def _resource(content: Any, kind: str, status: int = 200) -> Response:
    return Response(
        orjson.dumps(content), status_code=status, media_type=f"application/vnd.oracle.resource+json; type={kind}"
    )


def _error(status: int, code: str, detail: str) -> Response:
    title, section = _TITLES.get(status, ("Error", ""))
    body = {"type": _RFC + section, "title": title, "status": status,
            "o:errorDetails": [{"detail": detail, "o:errorCode": code}]}
    return _resource(body, "error", status)


def _paging(request: Request) -> tuple[int, int]:
    params = request.query_params
    limit, offset = params.get("limit", str(_MAX_LIMIT)), params.get("offset", "0")
    if not limit.isdigit() or not 1 <= int(limit) <= _MAX_LIMIT:
        raise ApiError(
            _error(400, "INVALID_PARAMETER", f"Invalid value '{limit}' for the parameter limit: use 1 to {_MAX_LIMIT}.")
        )
    if not offset.isdigit():
        raise ApiError(_error(400, "INVALID_PARAMETER", f"Invalid value '{offset}' for the parameter offset."))
    return int(limit), int(offset)


def _collection(request: Request, items: list[Any], *, offset: int, limit: int, total: int, more: bool) -> Response:
    def at(position: int) -> str:
        query = {**request.query_params, "limit": str(limit), "offset": str(position)}
        return str(request.url.replace(query=urlencode(query)))

    links = []
    if offset > 0:
        links += [{"rel": "previous", "href": at(max(0, offset - limit))}, {"rel": "first", "href": at(0)}]
    if more:
        links.append({"rel": "next", "href": at(offset + limit)})
    links += [{"rel": "last", "href": at(max(0, total - 1) // limit * limit)}, {"rel": "self", "href": at(offset)}]
    body = {"links": links, "count": len(items), "hasMore": more, "items": items, "offset": offset,
            "totalResults": total}
    return _resource(body, "collection")


def _wanted_types(query: SuiteQL) -> tuple[str, ...] | None:
    """The transaction entities a `type = / IN` condition keeps (others are never read)."""
    for condition in query.conditions:
        if condition.column == "type" and condition.op in ("=", "in"):
            return tuple(TRANSACTION_TYPES[v] for v in condition.values if v in TRANSACTION_TYPES)
    return None


def _wanted_ids(query: SuiteQL, column: str | None) -> list[str] | None:
    for condition in query.conditions:
        if column and condition.column == column and condition.op in ("=", "in"):
            return sorted({str(value) for value in condition.values})
    return None
