"""QuickBooks Online's wire: where a realm's API and the token endpoint live, its limits, the query
language's paging and change data capture.

Quirks this module owns:
- Real tenants: API at https://quickbooks.api.intuit.com/v3/company/{realm_id}, tokens at Intuit's OAuth
  host. Anywhere else (the sandbox) the token endpoint lives under the connection's base_url.
- Access tokens last an hour; the refresh token rotates on every use (the used one dies), so it must be a
  file: reference, rewritten before the new access token is used (connectors.http.auth.OAuth2Auth).
- 500 requests a minute and 10 at once per realm; beyond that QBO answers 429 (ThrottleExceeded, 3001).
- The query language pages by STARTPOSITION (1-based) / MAXRESULTS (at most 1000), ordered here by
  MetaData.LastUpdatedTime so positions hold still across a walk; its dateTime literals are read to the
  second, so a window's start is floored and its end ceiled (reading a little more, never less).
- CDC (`/cdc?entities=...&changedSince=...`) is the only place deleted transactions appear. It has no
  paging: it answers at most 1000 objects, oldest first, and reaches back 30 days at most (an older
  changedSince is refused). A full answer is continued from the newest change it reached. The server's now
  comes from the `time` every QBO answer carries (a COUNT query costs one request); a window starting earlier
  than 30 days before it is clamped, and deletions older than that are lost to every client.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog

from connectors.base import Window
from connectors.dates import parse_instant
from connectors.http.auth import OAuth2Auth
from connectors.http.client import ApiClient
from connectors.http.limits import RateLimit
from connectors.http.paginators import OffsetPaginator, PageRequest, Paginator
from connectors.http.settings import rate_limit_setting, required_secret, required_secret_ref, required_setting
from connectors.quickbooks.streams import QuickBooksStream, last_updated
from connectors.registry import Connection

log = structlog.get_logger("connectors.quickbooks")

REAL_API_DOMAIN = ".api.intuit.com"  # quickbooks.api.intuit.com and Intuit's sandbox-quickbooks.api.intuit.com
REAL_TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
MINOR_VERSION = "75"
MAX_RESULTS = 1000  # the most one query page answers
CDC_MAX_OBJECTS = 1000  # the most one CDC answer holds
CDC_LOOKBACK = timedelta(days=30)
CDC_MARGIN = timedelta(hours=1)  # keeps changedSince inside the 30 days whatever the clocks' skew
REALM_LIMIT = RateLimit.within_window(500, 60.0, concurrency=8)


def token_url(base_url: str) -> str:
    if (urlsplit(base_url).hostname or "").endswith(REAL_API_DOMAIN):
        return REAL_TOKEN_URL
    return f"{base_url.rstrip('/')}/oauth2/v1/tokens/bearer"


def api_client(
    connection: Connection, *, transport: httpx.AsyncBaseTransport | None, timeout: httpx.Timeout | None,
) -> ApiClient:
    base_url = (connection.base_url or "").rstrip("/")
    auth = OAuth2Auth(
        token_url(base_url), required_setting(connection, "client_id"), required_secret(connection, "client_secret"),
        label=connection.id, refresh_token_ref=required_secret_ref(connection, "refresh_token"),
    )
    options: dict[str, Any] = {"timeout": timeout} if timeout is not None else {}
    return ApiClient(
        f"{base_url}/v3/company/{required_setting(connection, 'realm_id')}", label=connection.id, auth=auth,
        limit=rate_limit_setting(connection, REALM_LIMIT), headers={"Accept": "application/json"}, transport=transport, **options,
    )


def _literal(moment: datetime, *, ceil: bool = False) -> str:
    """A QBO dateTime literal, whole seconds in UTC: floored, or ceiled for an exclusive upper bound."""
    second = moment.astimezone(timezone.utc).replace(microsecond=0)
    if ceil and second < moment:
        second += timedelta(seconds=1)
    return second.isoformat()


def query_text(stream: QuickBooksStream, window: Window, *, start_position: int, max_results: int) -> str:
    conditions = ["Active IN (true, false)"] if stream.names_list else []
    if window.since is not None:
        conditions.append(f"MetaData.LastUpdatedTime >= '{_literal(window.since)}'")
    conditions.append(f"MetaData.LastUpdatedTime < '{_literal(window.until, ceil=True)}'")
    return (
        f"SELECT * FROM {stream.resource} WHERE {' AND '.join(conditions)} ORDERBY MetaData.LastUpdatedTime"
        f" STARTPOSITION {start_position} MAXRESULTS {max_results}"
    )


def query_pages(stream: QuickBooksStream, window: Window, *, max_results: int) -> OffsetPaginator:
    def build(offset: int) -> PageRequest:
        text = query_text(stream, window, start_position=offset + 1, max_results=max_results)
        return PageRequest("query", params={"query": text, "minorversion": MINOR_VERSION})

    return OffsetPaginator(build, max_results)


def query_records(stream: QuickBooksStream, payload: Any) -> list[dict[str, Any]]:
    return payload.get("QueryResponse", {}).get(stream.resource, [])


def server_clock_page(stream: QuickBooksStream) -> PageRequest:
    """The cheapest request whose answer carries the server's `time`."""
    return PageRequest("query", params={"query": f"SELECT COUNT(*) FROM {stream.resource}", "minorversion": MINOR_VERSION})


def server_time(payload: Any) -> datetime:
    moment = parse_instant(payload.get("time"))
    if moment is None:
        raise ValueError(f"a QuickBooks answer without its 'time' ({str(payload)[:200]}): is base_url a QuickBooks API?")
    return moment


def cdc_first_page(stream: QuickBooksStream, window: Window, *, server_now: datetime, label: str) -> PageRequest | None:
    """The CDC request for `window`, clamped to what CDC still reaches; None when the window is out of reach."""
    earliest = server_now - CDC_LOOKBACK + CDC_MARGIN
    if window.until <= earliest:
        log.warning("cdc_window_out_of_reach", connection=label, stream=stream.name, until=window.until.isoformat(),
                    reason="QuickBooks CDC reaches back 30 days only: these deletions cannot be read")
        return None
    since = window.since
    if since is None or since < earliest:
        log.warning("cdc_window_clamped", connection=label, stream=stream.name, changed_since=earliest.isoformat(),
                    reason="QuickBooks CDC reaches back 30 days only")
        since = earliest
    params = {"entities": stream.resource, "changedSince": _literal(since), "minorversion": MINOR_VERSION}
    return PageRequest("cdc", params=params)


def cdc_objects(stream: QuickBooksStream, payload: Any) -> list[dict[str, Any]]:
    """Every object (changed or deleted) of `stream`'s entity in a CDC answer."""
    answers = [answer for cdc in payload.get("CDCResponse", []) for answer in cdc.get("QueryResponse", [])]
    return [obj for answer in answers for obj in answer.get(stream.resource, [])]


def deleted_stubs(stream: QuickBooksStream, payload: Any) -> list[dict[str, Any]]:
    return [obj for obj in cdc_objects(stream, payload) if obj.get("status") == "Deleted"]


class ChangedSincePaginator(Paginator):
    """Continues a full CDC answer from the newest change it reached (inclusive: changes sharing that instant
    are read again, never skipped); an answer short of the cap is the last."""

    def __init__(self, stream: QuickBooksStream) -> None:
        self._stream = stream

    def next_page(self, page, response, payload, records):
        objects = cdc_objects(self._stream, payload)
        if len(objects) < CDC_MAX_OBJECTS:
            return None
        newest = max(moment for obj in objects if (moment := last_updated(obj)) is not None)
        return PageRequest(page.url, params={**page.params, "changedSince": newest.isoformat()}, headers=page.headers)
