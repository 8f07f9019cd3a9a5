"""Odoo 17's external API: JSON-RPC at /jsonrpc, XML-RPC at /xmlrpc/2/common and /xmlrpc/2/object.

Wire facts emulated:
- One tenant = one database, named by its company id. The API user is uid 2 and signs every object
  call with its API key: execute_kw(db, uid, key, model, method, args, kwargs) (or execute(...)).
- common: version(); login(db, login, key) and authenticate(db, login, key, env) answer the uid, or
  False for wrong credentials, as Odoo does; after 10 failed logins from one address, logins from it
  answer False for 60 s even with the right key (Odoo's login cooldown).
- object: search_read, search, search_count, read and fields_get on the models of odoo_models.py, with
  domains and orders per odoo_domain.py, offset / limit paging (no limit = every row); `context` is
  accepted and ignored. Writes (create, write, unlink, copy) are refused: the API user only reads.
- Errors: JSON-RPC answers HTTP 200 with {"error": {"code": 200, "message": "Odoo Server Error", "data":
  {"name", "debug", "message", "arguments", "context"}}}; XML-RPC answers faults with Odoo's codes (1
  application error carrying the traceback, 2 UserError and MissingError, 3 AccessDenied, 4
  AccessError). An unknown database is psycopg2.OperationalError, a bad key odoo.exceptions.AccessDenied,
  an unknown model a UserError, an unknown method an AttributeError, an invalid field, domain or order
  a ValueError, ids that do not exist a MissingError.
- Deleted records are gone (Odoo unlinks them); voids and states as odoo_models.py shows them.
- Limits: Odoo itself has no request rate limit; one configured for the sandbox (settings `limits`)
  answers the fronting proxy's 429 page with Retry-After. Injected 5xx are the HTML pages a crashed
  worker or an overloaded front answers, not JSON.
"""

from __future__ import annotations

import hmac
import inspect
import sys
import xmlrpc.client
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from xml.parsers.expat import ExpatError

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from connectors.sandbox.emulators.auth import derive
from connectors.sandbox.emulators.base import ApiError, Emulator, json_response
from connectors.sandbox.emulators.limits import LimitHeaders, LimitPolicy
from connectors.sandbox.emulators.listings import Positions, key, merged_records
from connectors.sandbox.emulators.odoo_domain import Domain, DomainError, check_order
from connectors.sandbox.emulators.odoo_models import MODELS, Model, Renderer, document_id
from connectors.sandbox.emulators.runtime import Runtime
from connectors.sandbox.model import Company, Record, RecordKey
from connectors.sandbox.store import SandboxStore

UID = 2
_VERSION = {
    "server_version": "17.0",
    "server_version_info": [17, 0, 0, "final", 0, ""],
    "server_serie": "17.0",
    "protocol_version": 1,
}
_COOLDOWN_AFTER, _COOLDOWN_SECONDS = 10, 60.0
_WRITES = {"create": "create", "write": "modify", "unlink": "delete", "copy": "create"}
_PAGES = {
    400: ("Bad Request", "The browser (or proxy) sent a request that this server could not understand."),
    429: ("Too Many Requests", "This user has exceeded an allotted request count. Try again later."),
    500: ("Internal Server Error", "The server encountered an internal error and was unable to complete your "
          "request. Either the server is overloaded or there is an error in the application."),
    502: ("Bad Gateway", "The proxy server received an invalid response from an upstream server."),
    503: ("Service Unavailable", "The server is temporarily unable to service your request due to maintenance "
          "downtime or capacity problems. Please try again later."),
    504: ("Gateway Timeout", "The connection to an upstream server timed out."),
}


class OdooError(Exception):
    """An exception Odoo raises inside a call; each protocol serializes it its own way."""

    def __init__(self, name: str, message: str, fault_code: int = 1) -> None:
        super().__init__(message)
        self.name = name  # 'odoo.exceptions.AccessDenied', 'builtins.ValueError'
        self.message = message
        self.fault_code = fault_code  # the XML-RPC faultCode Odoo gives its class

    @property
    def debug(self) -> str:
        short = self.name.removeprefix("builtins.")
        return (
            "Traceback (most recent call last):\n"
            '  File "/opt/odoo/odoo/service/model.py", line 178, in execute_kw\n'
            f"{short}: {self.message}\n"
        )


def _access_denied() -> OdooError:
    return OdooError("odoo.exceptions.AccessDenied", "Access Denied", 3)


def _no_database(db: Any) -> OdooError:
    return OdooError(
        "psycopg2.OperationalError",
        f'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: FATAL:  database "{db}" '
        "does not exist\n",
    )


def _value_error(error: Exception) -> OdooError:
    return OdooError("builtins.ValueError", str(error))


@dataclass(frozen=True)
class _Call:
    protocol: _Protocol
    id: Any  # the JSON-RPC request id (None over XML-RPC)
    service: str
    method: str
    args: tuple[Any, ...]

    def answer(self, result: Any) -> Response:
        return self.protocol.answer(self, result)

    def fail(self, error: OdooError) -> Response:
        return self.protocol.fail(self, error)


class _Protocol(Protocol):
    def parse(self, body: bytes, path: str) -> _Call: ...

    def answer(self, call: _Call, result: Any) -> Response: ...

    def fail(self, call: _Call, error: OdooError) -> Response: ...


class _BadRequest(Exception):
    """A body that is not a JSON-RPC or XML-RPC call: Odoo answers werkzeug's 400 page."""


class _JsonRpc:
    def parse(self, body: bytes, path: str) -> _Call:
        try:
            request = orjson.loads(body)
            params = request["params"]
            return _Call(self, request.get("id"), params["service"], params["method"], tuple(params.get("args", ())))
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            raise _BadRequest from None

    def answer(self, call: _Call, result: Any) -> Response:
        return json_response({"jsonrpc": "2.0", "id": call.id, "result": result})

    def fail(self, call: _Call, error: OdooError) -> Response:
        data = {"name": error.name, "debug": error.debug, "message": error.message, "arguments": [error.message],
                "context": {}}
        return json_response(
            {"jsonrpc": "2.0", "id": call.id, "error": {"code": 200, "message": "Odoo Server Error", "data": data}}
        )


class _XmlRpc:
    def parse(self, body: bytes, path: str) -> _Call:
        try:
            params, method = xmlrpc.client.loads(body)
        except (ExpatError, xmlrpc.client.ResponseError, ValueError):
            raise _BadRequest from None
        return _Call(self, None, path.rstrip("/").rsplit("/", 1)[-1], method or "", params)

    def answer(self, call: _Call, result: Any) -> Response:
        return Response(xmlrpc.client.dumps((result,), methodresponse=True, allow_none=False), media_type="text/xml")

    def fail(self, call: _Call, error: OdooError) -> Response:
        text = error.debug if error.fault_code == 1 else error.message
        return Response(xmlrpc.client.dumps(xmlrpc.client.Fault(error.fault_code, text)), media_type="text/xml")


_JSONRPC, _XMLRPC = _JsonRpc(), _XmlRpc()


def _page(status: int) -> Response:
    title, text = _PAGES.get(status, _PAGES[500])
    html = f"<!doctype html>\n<html lang=en>\n<title>{status} {title}</title>\n<h1>{title}</h1>\n<p>{text}</p>\n"
    return Response(html, status_code=status, media_type="text/html")


class Odoo(Emulator):
    system = "odoo"
    limits = LimitPolicy()
    limit_headers = LimitHeaders()

    def __init__(self, store: SandboxStore, runtime: Runtime) -> None:
        super().__init__(store, runtime)
        self.positions: Positions[tuple[Record, dict[str, Any]]] = Positions()
        self._login_failures: dict[str, tuple[int, float]] = {}  # client address -> (failures, last at)
        self._object_endpoint = self.api(self._execute)
        self._public_endpoint = self.counted(self._public)

    @classmethod
    def credentials(cls, company: Company, secret: str) -> dict[str, str]:
        return {"db": company.company_id, "login": _login(company), "password": _api_key(secret, company)}

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/jsonrpc", self._dispatch, methods=["POST"]),
            Route("/xmlrpc/2/common", self._dispatch, methods=["POST"]),
            Route("/xmlrpc/2/object", self._dispatch, methods=["POST"]),
        ]

    async def _dispatch(self, request: Request) -> Response:
        """Object calls run the full pipeline (auth, limits, faults); common calls and garbage do not."""
        protocol = _JSONRPC if request.url.path.endswith("/jsonrpc") else _XMLRPC
        try:
            request.state.odoo_call = protocol.parse(await request.body(), request.url.path)
        except _BadRequest as error:
            request.state.odoo_call = error
        call = request.state.odoo_call
        if isinstance(call, _Call) and call.service == "object":
            return await self._object_endpoint(request)
        return await self._public_endpoint(request)

    # -- auth, limits, failures ------------------------------------------------------------------------

    async def authenticate(self, request: Request) -> Company:
        call: _Call = request.state.odoo_call
        db, uid, password = (tuple(call.args[:3]) + (None, None, None))[:3]
        company = self.tenants.get(db) if isinstance(db, str) else None
        if company is None:
            raise ApiError(call.fail(_no_database(db)))
        if uid != UID or not _is_key(password, self.secret, company):
            raise ApiError(call.fail(_access_denied()))
        return company

    def error_response(self, status: int) -> Response:
        return _page(status)

    def throttled_response(self) -> Response:
        return _page(429)

    # -- common ----------------------------------------------------------------------------------------------

    async def _public(self, request: Request) -> Response:
        call = request.state.odoo_call
        if not isinstance(call, _Call):
            raise ApiError(_page(400))
        try:
            result = self._common(call, request.client.host if request.client else "-")
        except OdooError as error:
            return call.fail(error)
        return call.answer(result)

    def _common(self, call: _Call, address: str) -> Any:
        if call.service == "common" and call.method == "version":
            return _VERSION
        if call.service == "common" and call.method in ("login", "authenticate"):
            db, login, password = (tuple(call.args[:3]) + (None, None, None))[:3]
            return self._login(db, login, password, address)
        if call.service == "db" and call.method == "server_version":
            return _VERSION["server_version"]
        if call.service == "db" and call.method == "list":
            raise _access_denied()  # hosted databases do not list themselves
        raise OdooError("builtins.KeyError", f"'exp_{call.method}'")

    def _login(self, db: Any, login: Any, password: Any, address: str) -> int | bool:
        """The uid, or False: wrong credentials and the login cooldown both answer False."""
        company = self.tenants.get(db) if isinstance(db, str) else None
        if company is None:
            raise _no_database(db)
        now = self.runtime.timer()
        failures, last = self._login_failures.get(address, (0, 0.0))
        if failures >= _COOLDOWN_AFTER and now - last < _COOLDOWN_SECONDS:
            return False
        if login == _login(company) and _is_key(password, self.secret, company):
            self._login_failures.pop(address, None)
            return UID
        self._login_failures[address] = (failures + 1, now)
        return False

    # -- object ----------------------------------------------------------------------------------------------

    async def _execute(self, request: Request, company: Company) -> Response:
        call: _Call = request.state.odoo_call
        try:
            result = self._object(company, call)
        except OdooError as error:
            return call.fail(error)
        return call.answer(result)

    def _object(self, company: Company, call: _Call) -> Any:
        rest = call.args[3:]
        if call.method == "execute_kw" and len(rest) >= 2:
            model, method = rest[0], rest[1]
            args, kwargs = (rest[2] if len(rest) > 2 else []), (rest[3] if len(rest) > 3 else {})
        elif call.method == "execute" and len(rest) >= 2:
            model, method, args, kwargs = rest[0], rest[1], list(rest[2:]), {}
        else:
            raise OdooError("builtins.NameError", f"Method not available {call.method}")
        if not isinstance(args, (list, tuple)) or not isinstance(kwargs, dict):
            raise OdooError("builtins.TypeError", "execute_kw() takes a list of arguments and a dict of keywords")
        spec = MODELS.get(model) if isinstance(model, str) else None
        if spec is None:
            raise OdooError("odoo.exceptions.UserError", f"Object {model} doesn't exist", 2)
        if method in _WRITES:
            raise OdooError(
                "odoo.exceptions.AccessError",
                f"You are not allowed to {_WRITES[method]} '{spec.description}' ({model}) records.\n\n"
                "This operation is allowed for the following groups:\n\t- Administration/Settings\n\n"
                "Contact your administrator to request access if necessary.",
                4,
            )
        session = _ModelCall(self, company, spec)
        handler = getattr(session, method, None) if method in _ModelCall.METHODS else None
        if handler is None:
            raise OdooError("builtins.AttributeError", f"The method '{method}' does not exist on the model '{model}'")
        kwargs = {name: value for name, value in kwargs.items() if name != "context"}
        try:
            bound = inspect.signature(handler).bind(*args, **kwargs)
        except TypeError as error:
            raise OdooError("builtins.TypeError", f"{spec.name}.{method}() {error}") from None
        try:
            return handler(*bound.args, **bound.kwargs)
        except DomainError as error:
            raise _value_error(error) from None


class _ModelCall:
    """One object call on one model of one company: the ORM methods an extracting client uses."""

    METHODS = frozenset({"search_read", "search", "search_count", "read", "fields_get"})

    def __init__(self, odoo: Odoo, company: Company, spec: Model) -> None:
        self.odoo = odoo
        self.company = company
        self.spec = spec
        self.view = Renderer(odoo.store, odoo.system, company, odoo.now)

    def search_read(
        self, domain: Any = None, fields: Any = None, offset: int = 0, limit: Any = None, order: Any = None
    ) -> list[dict[str, Any]]:
        return [self._shown(record, row, fields) for record, row in self._search(domain, offset, limit, order)]

    def search(
        self, domain: Any = None, offset: int = 0, limit: Any = None, order: Any = None, count: bool = False
    ) -> list[int] | int:
        if count:
            return self.search_count(domain)
        return [row["id"] for _, row in self._search(domain, offset, limit, order)]

    def search_count(self, domain: Any = None, limit: Any = None) -> int:
        parsed = Domain(domain, self.spec.types, self.spec.name)
        total = self.odoo.positions.total(self._listing(domain), lambda: sum(1 for _ in self._rows(parsed, None)))
        return min(total, limit) if isinstance(limit, int) and limit > 0 else total

    def read(self, ids: Any, fields: Any = None, load: Any = "_classic_read") -> list[dict[str, Any]]:
        wanted = [ids] if isinstance(ids, int) else list(ids or [])
        documents = {document_id(i) if self.spec.parent else i for i in wanted if isinstance(i, int)}
        rows = {
            row["id"]: (record, row)
            for record in merged_records(
                self.odoo, self.company, self.spec.entities, after=None, ids=[str(i) for i in sorted(documents)]
            )
            for row in self.spec.rows(self.view, record)
        }
        missing = [i for i in wanted if i not in rows]
        if missing:
            raise OdooError(
                "odoo.exceptions.MissingError",
                f"Record does not exist or has been deleted.\n(Record: {self.spec.name}({missing[0]},), User: {UID})",
                2,
            )
        return [self._shown(*rows[i], fields) for i in dict.fromkeys(wanted)]

    def fields_get(self, allfields: Any = None, attributes: Any = None) -> dict[str, dict[str, Any]]:
        names = [name for name in self.spec.fields if not allfields or name in allfields]
        described = {}
        for name in names:
            kind, label, relation = self.spec.fields[name]
            field = {"type": kind, "string": label, "readonly": True, "required": name == "id", "store": True,
                     "searchable": True, "sortable": True}
            if relation:
                field["relation"] = relation
            described[name] = {k: v for k, v in field.items() if not attributes or k in attributes}
        return described

    # -- listing ----------------------------------------------------------------------------------------------

    def _listing(self, domain: Any) -> tuple[Any, ...]:
        return ("search", self.company.company_id, self.spec.name, orjson.dumps(domain), self.odoo.now)

    def _search(self, domain: Any, offset: Any, limit: Any, order: Any) -> list[tuple[Record, dict[str, Any]]]:
        parsed = Domain(domain, self.spec.types, self.spec.name)
        check_order(order, list(self.spec.fields), self.spec.name)
        if not isinstance(offset, int) or offset < 0:
            raise OdooError("builtins.ValueError", f"Invalid offset {offset!r}: use a non-negative integer")
        size = limit if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 else sys.maxsize
        page, _ = self.odoo.positions.page(self._listing(domain), lambda after: self._rows(parsed, after), offset, size)
        return page

    def _rows(
        self, domain: Domain, after: RecordKey | None
    ) -> Iterator[tuple[RecordKey, tuple[Record, dict[str, Any]]]]:
        since, before = domain.bounds()
        ids = domain.ids(self.spec.parent) if self.spec.parent else None
        if ids is None:
            line_ids = domain.ids("id")
            ids = sorted({document_id(i) for i in line_ids}) if self.spec.parent and line_ids is not None else line_ids
        records = merged_records(
            self.odoo, self.company, self.spec.entities, after=after,
            ids=None if ids is None else [str(i) for i in ids], updated_since=since, updated_before=before,
        )
        for record in records:
            for row in self.spec.rows(self.view, record):
                if domain.matches(row):
                    yield key(record), (record, row)

    def _shown(self, record: Record, row: dict[str, Any], fields: Any) -> dict[str, Any]:
        """The row as Odoo answers it: the fields asked for (all by default, id always), drift applied."""
        if fields:
            unknown = [name for name in fields if name not in self.spec.fields]
            if unknown:
                raise OdooError("builtins.ValueError", f"Invalid field {unknown[0]!r} on model {self.spec.name!r}")
            row = {"id": row["id"], **{name: row.get(name, False) for name in fields}}
        shown = {name: False if value is None else value for name, value in row.items()}
        return self.odoo.render(record, shown)


def _login(company: Company) -> str:
    return f"api@{company.company_id}.sandbox.example"


def _api_key(secret: str, company: Company) -> str:
    """Odoo API keys are 40 hex characters."""
    return derive(secret, "odoo", company.company_id, "api_key", length=40)


def _is_key(password: Any, secret: str, company: Company) -> bool:
    return isinstance(password, str) and hmac.compare_digest(password, _api_key(secret, company))
