"""One connection's HTTP client: auth, the account's rate budget, retries with backoff, and counters.

Every connector sends through `ApiClient.json()`; no connector writes its own retry loop. What is retried:
transport errors and timeouts, 429 (after the server's Retry-After, which also pauses the whole account),
5xx, and bodies that are not whole JSON (a page cut short). What is not: any other 4xx — a request the
source will never accept. Retries draw on a per-run budget so a sick source fails the run instead of
spinning forever.
"""

from __future__ import annotations

import email.utils
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from connectors.http.auth import Authenticator
from connectors.http.limits import RateBudget, RateLimit

log = structlog.get_logger("connectors.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# One TLS context for every client: httpx builds one per client otherwise (~0.8 MB each), which made the
# memory of a run grow with the number of connections open at once.
_TLS = httpx.create_ssl_context()


class SourceError(Exception):
    """The source answered with an error we must not retry; carries the connection, request and body."""

    def __init__(self, label: str, response: httpx.Response) -> None:
        request = response.request
        super().__init__(
            f"{label}: {request.method} {request.url.copy_with(query=None)} answered {response.status_code}: {response.text[:500]}"
        )
        self.status = response.status_code


class RetryBudgetExhausted(Exception):
    """A connection used up its retries for this run: the source is failing, not flaking."""


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


@dataclass
class HttpStats:
    """What a run's manifest reports about the HTTP side."""

    requests: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    bytes_received: int = 0
    seconds_waiting: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests, "retries": dict(sorted(self.retries.items())),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "bytes_received": self.bytes_received, "seconds_waiting": round(self.seconds_waiting, 3),
        }


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After as seconds (it may be a number or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8  # per request
    budget: int = 500  # per connection and run
    initial_wait: float = 0.5
    max_wait: float = 30.0


class ApiClient:
    """Wraps one httpx.AsyncClient for one connection (`label` names it in errors and logs)."""

    def __init__(
        self, base_url: str, *, label: str, auth: Authenticator | None, limit: RateLimit,
        retry: RetryPolicy = RetryPolicy(), timeout: httpx.Timeout = httpx.Timeout(30.0, connect=5.0),
        headers: dict[str, str] | None = None, transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.label = label
        self.stats = HttpStats()
        self.budget = RateBudget(limit)
        self._auth = auth
        self._retry = retry
        self._retries_left = retry.budget
        self._backoff = wait_exponential_jitter(multiplier=retry.initial_wait, max=retry.max_wait, jitter=retry.initial_wait)
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, headers=headers, transport=transport, verify=_TLS)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def json(self, method: str, url: str, *, params: dict[str, Any] | None = None, json: Any = None,
                   headers: dict[str, str] | None = None) -> tuple[httpx.Response, Any]:
        """Send until the source answers a whole JSON document (or a non-retryable error, raised)."""

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, _Retryable) and error.retry_after is not None:
                return error.retry_after
            return self._backoff(state)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._retry.attempts), wait=wait,
            retry=retry_if_exception_type((_Retryable, httpx.TransportError)),
            before_sleep=self._before_retry, reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._once(method, url, params=params, json=json, headers=headers)
        raise AssertionError("unreachable: tenacity reraises")

    def _before_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        reason = error.reason if isinstance(error, _Retryable) else type(error).__name__
        self.stats.retries[reason] += 1
        self._retries_left -= 1
        if self._retries_left < 0:
            raise RetryBudgetExhausted(f"{self.label}: retry budget of {self._retry.budget} used up (last: {reason})")
        log.debug("retrying", connection=self.label, reason=reason, attempt=state.attempt_number)  # counted in the manifest

    async def _once(self, method: str, url: str, **options: Any) -> tuple[httpx.Response, Any]:
        request = self._http.build_request(method, url, **options)
        started = time.monotonic()
        async with self.budget.slot():
            self.stats.seconds_waiting += time.monotonic() - started
            response = await self._send(request)
            if response.status_code == 401 and self._auth is not None and await self._auth.renew(request, self._http):
                response = await self._send(request)
        if response.status_code in RETRY_STATUSES:
            delay = retry_after_seconds(response)
            if response.status_code == 429:
                self.budget.throttled()
                self.budget.pause(delay if delay is not None else self._retry.initial_wait * 4)
            raise _Retryable(str(response.status_code), delay)
        if response.status_code >= 400:
            raise SourceError(self.label, response)
        try:
            return response, orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise _Retryable("truncated") from None

    async def _send(self, request: httpx.Request) -> httpx.Response:
        if self._auth is not None:
            await self._auth.sign(request, self._http)
        self.stats.requests += 1
        response = await self._http.send(request)
        self.stats.statuses[response.status_code] += 1
        self.stats.bytes_received += len(response.content)
        return response
