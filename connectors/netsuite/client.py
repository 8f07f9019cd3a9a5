"""How a NetSuite account is reached: SuiteTalk REST (record API and SuiteQL) behind token-based auth.

Quirks this module owns:
- The REST root is the account's own host (`https://<account>.suitetalk.api.netsuite.com/services/rest`).
  The sandbox serves every account on one host, under `/accounts/<account>/services/rest`; any base URL
  that is not the account's own host is addressed that way.
- Limits: NetSuite governs REST by concurrency per account (5 on the shared tier without SuiteCloud Plus;
  more per tier and licence) and refuses the request beyond it with 429 and no Retry-After. We keep to
  the smallest account's 5 in flight; the rate only smooths bursts.
- Record collections list ids only (`{"items": [{"id", "links"}], "hasMore", ...}`), paged by offset up to
  1000; `q=lastModifiedDate ON_OR_AFTER "..." AND lastModifiedDate BEFORE "..."` narrows them.
- SuiteQL is a POST with `Prefer: transient`, paged by limit/offset (offset a multiple of limit); datetime
  literals and the values it answers are in the account's time zone (setting `timezone`, default UTC).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx

from connectors.http.auth import NetSuiteTokenAuth
from connectors.http.client import ApiClient, RetryPolicy
from connectors.http.limits import RateLimit
from connectors.http.paginators import OffsetPaginator, PageRequest, paginate
from connectors.http.settings import rate_limit_setting, required_secret, required_setting
from connectors.registry import Connection

NETSUITE_LIMIT = RateLimit(rate=50.0, burst=10, concurrency=5)
# A 429 says "too many in flight" and clears as soon as one request ends (NetSuite sends no Retry-After): retry soon.
NETSUITE_RETRY = RetryPolicy(initial_wait=0.2)
MAX_PAGE_SIZE = 1000  # the most a record collection or a SuiteQL page holds
SUITEQL_TIMESTAMP = "YYYY-MM-DD HH24:MI:SS"
_SECRETS = ("consumer_key", "consumer_secret", "token_id", "token_secret")

Pages = AsyncIterator[list[dict[str, Any]]]


def account_host(account_id: str) -> str:
    """The account's REST host: '1234567_SB1' is reached at 1234567-sb1.suitetalk.api.netsuite.com."""
    return f"{account_id.lower().replace('_', '-')}.suitetalk.api.netsuite.com"


def rest_root(base_url: str, account_id: str) -> str:
    base = base_url.rstrip("/")
    if urlsplit(base).hostname == account_host(account_id):
        return f"{base}/services/rest"
    return f"{base}/accounts/{account_id}/services/rest"


def record_filter(since: datetime | None, until: datetime) -> str:
    """The record API's `q` for [since, until), to the second (the API's precision; a chained next window
    starts at the same floored second, so nothing between two windows is lost)."""
    bound = f'lastModifiedDate BEFORE "{_iso_second(until)}"'
    return bound if since is None else f'lastModifiedDate ON_OR_AFTER "{_iso_second(since)}" AND {bound}'


def suiteql_window(column: str, since: datetime | None, until: datetime, tz: ZoneInfo) -> list[str]:
    """SuiteQL conditions bounding `column` to [since, until), written in the account's time zone."""

    def literal(moment: datetime) -> str:
        return f"TO_TIMESTAMP('{moment.astimezone(tz):%Y-%m-%d %H:%M:%S}', '{SUITEQL_TIMESTAMP}')"

    bounds = [f"{column} < {literal(until)}"]
    return bounds if since is None else [f"{column} >= {literal(since)}", *bounds]


def _iso_second(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def api_client(
    connection: Connection, *, transport: httpx.AsyncBaseTransport | None, timeout: httpx.Timeout | None,
) -> ApiClient:
    account_id = required_setting(connection, "account_id")
    auth = NetSuiteTokenAuth(account_id, *(required_secret(connection, name) for name in _SECRETS))
    options: dict[str, Any] = {"timeout": timeout} if timeout is not None else {}
    return ApiClient(
        rest_root(connection.base_url or "", account_id), label=connection.id, auth=auth,
        limit=rate_limit_setting(connection, NETSUITE_LIMIT), retry=NETSUITE_RETRY, headers={"Accept": "application/json"},
        transport=transport, **options,
    )


def account_timezone(connection: Connection) -> ZoneInfo:
    """The account's time zone (setting `timezone`), which SuiteQL reads and writes datetimes in."""
    return ZoneInfo(connection.settings.get("timezone", "UTC"))


def _offset_pages(client: ApiClient, page_at: Callable[[int], PageRequest], page_size: int) -> Pages:
    paginator = OffsetPaginator(page_at, page_size, has_more=lambda payload: bool(payload.get("hasMore")))
    return paginate(client, paginator.first(), paginator, lambda payload: payload.get("items", []))


def record_ids(
    client: ApiClient, record_type: str, since: datetime | None, until: datetime, *, page_size: int
) -> Pages:
    """Pages of a record collection's items ({"id", "links"}) modified in [since, until)."""
    q = record_filter(since, until)
    return _offset_pages(
        client,
        lambda offset: PageRequest(f"record/v1/{record_type}", params={"q": q, "limit": page_size, "offset": offset}),
        page_size,
    )


async def record(client: ApiClient, record_type: str, record_id: str) -> dict[str, Any]:
    """One record with its sublists (item, apply) expanded in place."""
    _, payload = await client.json("GET", f"record/v1/{record_type}/{record_id}", params={"expandSubResources": "true"})
    return payload


def suiteql(client: ApiClient, query: str, *, page_size: int) -> Pages:
    """Pages of a SuiteQL query's rows."""
    return _offset_pages(
        client,
        lambda offset: PageRequest("query/v1/suiteql", params={"limit": page_size, "offset": offset},
                                   json={"q": query}, method="POST", headers={"Prefer": "transient"}),
        page_size,
    )
