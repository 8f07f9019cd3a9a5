"""Xero's wire: where its API and token endpoint live, how a request names its organisation, its limits, and
how a listing pages.

Real tenants: API at https://api.xero.com, tokens at https://identity.xero.com/connect/token. Anywhere else
(the sandbox) both live under the connection's base_url. Access tokens last 30 minutes and the refresh token
rotates on every use, so it must be a file: reference. Each organisation (the `Xero-tenant-id` header) may
send 60 requests a minute and 5 at once; JSON comes back only when asked for with Accept.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx

from connectors.http.auth import OAuth2Auth
from connectors.http.client import ApiClient
from connectors.http.limits import RateLimit
from connectors.http.paginators import OffsetPaginator, PageRequest, Paginator, SinglePage
from connectors.http.settings import rate_limit_setting, required_secret, required_secret_ref, required_setting
from connectors.registry import Connection
from connectors.xero.streams import XeroStream

API_PREFIX = "/api.xro/2.0"
REAL_API_HOST = "api.xero.com"
REAL_TOKEN_URL = "https://identity.xero.com/connect/token"
PAGE_SIZE = 1000  # Xero's largest pageSize
RATE_LIMIT = RateLimit.within_window(60, 60.0, concurrency=5)
ORDER = "UpdatedDateUTC ASC"  # a stable order, so pages do not shift under a walk


def token_url(base_url: str) -> str:
    if urlsplit(base_url).hostname == REAL_API_HOST:
        return REAL_TOKEN_URL
    return f"{base_url.rstrip('/')}/connect/token"


def api_client(
    connection: Connection, *, transport: httpx.AsyncBaseTransport | None, timeout: httpx.Timeout | None,
) -> ApiClient:
    base_url = connection.base_url or ""
    auth = OAuth2Auth(
        token_url(base_url), required_setting(connection, "client_id"), required_secret(connection, "client_secret"),
        label=connection.id, refresh_token_ref=required_secret_ref(connection, "refresh_token"),
    )
    headers = {"Accept": "application/json", "Xero-tenant-id": required_setting(connection, "tenant_id")}
    options: dict[str, Any] = {"timeout": timeout} if timeout is not None else {}
    return ApiClient(
        base_url, label=connection.id, auth=auth, limit=rate_limit_setting(connection, RATE_LIMIT), headers=headers, transport=transport, **options,
    )


def if_modified_since(since: datetime | None) -> dict[str, str]:
    """Xero's updated-since header (UTC, whole seconds, inclusive): truncating reads a little more, never less."""
    if since is None:
        return {}
    return {"If-Modified-Since": since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")}


def first_page_and_paginator(stream: XeroStream, since: datetime | None) -> tuple[PageRequest, Paginator]:
    """The first request of `stream`'s listing and what finds the rest (page numbers from 1, or none at all)."""
    url = f"{API_PREFIX}/{stream.resource}"
    headers = if_modified_since(since)
    params = {**stream.params, "order": ORDER}
    if not stream.paged:
        return PageRequest(url, params=params, headers=headers), SinglePage()

    def build(offset: int) -> PageRequest:
        page = {"page": str(offset // PAGE_SIZE + 1), "pageSize": str(PAGE_SIZE)}
        return PageRequest(url, params=params | page, headers=headers)

    def more_pages(payload: dict[str, Any]) -> bool:
        pagination = payload.get("pagination")
        if pagination is None:  # an older API version: a full page means there may be another
            return len(payload.get(stream.resource, [])) >= PAGE_SIZE
        return pagination["page"] < pagination["pageCount"]

    paginator = OffsetPaginator(build, PAGE_SIZE, has_more=more_pages)
    return paginator.first(), paginator
