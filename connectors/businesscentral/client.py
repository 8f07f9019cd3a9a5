"""Business Central's wire: Entra ID client credentials, the tenant/environment/company path, OData paging.

Real tenants: API at https://api.businesscentral.dynamics.com, tokens at
https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token. Anywhere else (the sandbox) the token endpoint
lives under the connection's base_url. Limits per user and environment: 6000 requests in 5 minutes, 5 run
at once (more are queued, then refused). Pages are server-driven: we ask for `odata.maxpagesize` and follow
`@odata.nextLink` as given.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx

from connectors.base import Window
from connectors.businesscentral.streams import BusinessCentralStream
from connectors.http.auth import OAuth2Auth
from connectors.http.client import ApiClient
from connectors.http.limits import RateLimit
from connectors.http.paginators import PageRequest
from connectors.http.settings import rate_limit_setting, required_secret, required_setting
from connectors.registry import Connection

REAL_API_HOST = "api.businesscentral.dynamics.com"
REAL_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
SCOPE = "https://api.businesscentral.dynamics.com/.default"
PAGE_SIZE = 1000
RATE_LIMIT = RateLimit.within_window(6000, 300.0, concurrency=5)


def token_url(base_url: str, tenant: str) -> str:
    if urlsplit(base_url).hostname == REAL_API_HOST:
        return REAL_TOKEN_URL.format(tenant=tenant)
    return f"{base_url.rstrip('/')}/{tenant}/oauth2/v2.0/token"


def api_client(
    connection: Connection, *, transport: httpx.AsyncBaseTransport | None, timeout: httpx.Timeout | None,
) -> ApiClient:
    base_url = connection.base_url or ""
    auth = OAuth2Auth(
        token_url(base_url, required_setting(connection, "tenant_id")), required_setting(connection, "client_id"),
        required_secret(connection, "client_secret"), label=connection.id, scope=SCOPE, client_secret_in_body=True,
    )
    headers = {"Accept": "application/json", "Prefer": f"odata.maxpagesize={PAGE_SIZE}"}
    options: dict[str, Any] = {"timeout": timeout} if timeout is not None else {}
    return ApiClient(
        base_url, label=connection.id, auth=auth, limit=rate_limit_setting(connection, RATE_LIMIT), headers=headers,
        transport=transport, **options,
    )


def company_path(connection: Connection) -> str:
    tenant, environment = required_setting(connection, "tenant_id"), required_setting(connection, "environment")
    return f"/v2.0/{tenant}/{environment}/api/v2.0/companies({required_setting(connection, 'company_id')})"


def _odata_instant(instant: datetime) -> str:
    """An OData DateTimeOffset literal in UTC with milliseconds, as BC stamps lastModifiedDateTime."""
    utc = instant.astimezone(timezone.utc)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def update_filter(window: Window) -> str:
    """`$filter` of the window [since, until) on lastModifiedDateTime; since is truncated to the millisecond
    BC stores, so a record at the boundary is read."""
    terms = [f"lastModifiedDateTime lt {_odata_instant(window.until)}"]
    if window.since is not None:
        terms.insert(0, f"lastModifiedDateTime ge {_odata_instant(window.since)}")
    return " and ".join(terms)


def first_page(connection: Connection, stream: BusinessCentralStream, window: Window) -> PageRequest:
    params = {"$filter": update_filter(window)}
    if stream.lines is not None:
        params["$expand"] = stream.lines
    return PageRequest(f"{company_path(connection)}/{stream.name}", params=params)
