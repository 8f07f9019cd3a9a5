"""How an Odoo database is reached: JSON-RPC at /jsonrpc, the API key as password.

Quirks this module owns:
- Authentication is a call, not a header: common.authenticate(db, login, key, {}) answers the user's uid
  (or False for wrong credentials); every object call then carries (db, uid, key) in its arguments.
- Errors come back as HTTP 200 with an "error" member ({"data": {"name", "message"}}), so they are read
  from the body; HTTP 5xx and 429 come from the fronting proxy as HTML and are retried by the ApiClient.
- search_read pages by offset/limit in a stable order (write_date, id); datetimes are UTC text
  "YYYY-MM-DD HH:MM:SS", so the window is written in that form.
- Odoo publishes no request rate limit (hosted databases sit behind a proxy that may answer 429); the
  budget here is a polite pace for one database's workers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import httpx
from pydantic import SecretStr

from connectors.http.auth import AuthError
from connectors.http.client import ApiClient
from connectors.http.limits import RateLimit
from connectors.http.paginators import OffsetPaginator, PageRequest, paginate
from connectors.http.settings import rate_limit_setting, required_secret, required_setting
from connectors.registry import Connection

ODOO_LIMIT = RateLimit(rate=20.0, burst=10, concurrency=4)
PAGE_SIZE = 500  # Odoo sets no maximum; this keeps one call's work bounded
ORDER = "write_date asc, id asc"  # stable, so offset pages neither skip nor repeat rows
ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"
_ACCESS_DENIED = "odoo.exceptions.AccessDenied"

Domain = list[Any]


class OdooRpcError(Exception):
    """Odoo answered a call with an exception; names the model, the method and Odoo's exception."""


def write_date_domain(since: datetime | None, until: datetime) -> Domain:
    """[since, until) on write_date, to the second (Odoo's precision; a chained next window starts at the same
    floored second, so nothing between two windows is lost)."""
    bounds: Domain = [("write_date", "<", _odoo_datetime(until))]
    return bounds if since is None else [("write_date", ">=", _odoo_datetime(since)), *bounds]


def _odoo_datetime(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(ODOO_DATETIME)


def _rpc(service: str, method: str, args: list[Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "call", "params": {"service": service, "method": method, "args": args}, "id": 1}


def api_client(
    connection: Connection, *, transport: httpx.AsyncBaseTransport | None, timeout: httpx.Timeout | None,
) -> ApiClient:
    options: dict[str, Any] = {"timeout": timeout} if timeout is not None else {}
    return ApiClient(connection.base_url or "", label=connection.id, auth=None,
                     limit=rate_limit_setting(connection, ODOO_LIMIT), transport=transport, **options)


class OdooSession:
    """One database's calls: the uid is authenticated once, then every object call carries (db, uid, key)."""

    def __init__(self, client: ApiClient, connection: Connection, *, page_size: int) -> None:
        self._client, self._label, self._page_size = client, connection.id, page_size
        self._db, self._login = required_setting(connection, "db"), required_setting(connection, "login")
        self._key = SecretStr(required_secret(connection, "password"))
        self._uid: int | None = None
        self._uid_lock = asyncio.Lock()

    async def uid(self) -> int:
        async with self._uid_lock:
            if self._uid is None:
                call = _rpc("common", "authenticate", [self._db, self._login, self._key.get_secret_value(), {}])
                _, payload = await self._client.json("POST", "jsonrpc", json=call)
                uid = self._result(payload, "common", "authenticate")
                if not isinstance(uid, int) or isinstance(uid, bool):
                    raise AuthError(f"{self._label}: Odoo refused the login {self._login!r} on database {self._db!r}: "
                                    "check the login and re-issue its API key")
                self._uid = uid
        return self._uid

    async def search_read(self, model: str, domain: Domain) -> AsyncIterator[list[dict[str, Any]]]:
        """Pages of `model`'s rows matching `domain`, every field, in write_date, id order."""
        uid = await self.uid()

        def page_at(offset: int) -> PageRequest:
            options = {"offset": offset, "limit": self._page_size, "order": ORDER}
            args = [self._db, uid, self._key.get_secret_value(), model, "search_read", [domain], options]
            return PageRequest("jsonrpc", method="POST", json=_rpc("object", "execute_kw", args))

        paginator = OffsetPaginator(page_at, self._page_size)
        pages = paginate(self._client, paginator.first(), paginator,
                         lambda payload: self._result(payload, model, "search_read"))
        async for rows in pages:
            yield rows

    def _result(self, payload: Any, model: str, method: str) -> Any:
        error = payload.get("error") if isinstance(payload, dict) else None
        if error is None:
            return payload["result"]
        data = error.get("data") or {}
        name, message = data.get("name", "unknown"), data.get("message") or error.get("message", "")
        if name == _ACCESS_DENIED:
            raise AuthError(
                f"{self._label}: Odoo denied {model}.{method} on database {self._db!r}: re-issue the API key"
            )
        raise OdooRpcError(f"{self._label}: {model}.{method} on database {self._db!r} failed with {name}: {message}")
