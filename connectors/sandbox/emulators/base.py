"""What every emulated system is built on: tenants, the request pipeline, rendering with drift.

A system subclasses `Emulator`, declares its `system` name, `limits` and `limit_headers`, and fills in
five hooks: `credentials` (what a tenant is given), `routes`, `authenticate`, `error_response` (its 5xx
body) and `throttled_response` (its 429 body). Its data routes are wrapped by `api`, which runs the
shared pipeline: authenticate → rate limit → injected faults → handler → limit headers → counters.
Handlers list records with `records` (the latest versions visible at the clock, resumable by cursor
or offset, one page at a time) and pass each payload they build through `render`, which applies drift.
Systems whose tenants connect through one OAuth2 app (QuickBooks, Xero, Business Central) subclass
`OAuth2Emulator`, which holds their `OAuth2Server` and hands out the app client in `credentials`.

The other shared pieces: auth.py (`derive` credentials, `OAuth2Server` with rotating refresh tokens and
client credentials, `OAuth1Verifier` for NetSuite TBA), limits.py (a system's limits as configuration,
with Xero/NetSuite/Business Central examples), wire.py (local times with offsets, money). shopify.py and
quickbooks.py are the worked examples; a new system is registered with one line in `_REGISTRY`
(emulators/__init__.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import Any, ClassVar

import anyio
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from connectors.sandbox.config import DriftRule
from connectors.sandbox.emulators.auth import OAuth2Server
from connectors.sandbox.emulators.drift import apply_drift
from connectors.sandbox.emulators.faults import truncate
from connectors.sandbox.emulators.limits import LimitHeaders, LimitPolicy, RateLimiter
from connectors.sandbox.emulators.runtime import Runtime
from connectors.sandbox.model import Company, Record
from connectors.sandbox.store import SandboxStore

Handler = Callable[[Request, Company], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]

UNAUTHENTICATED = "-"  # the tenant requests are counted under before (or without) authentication


class ApiError(Exception):
    """Raised by a hook or a handler to answer with `response`, the system's own error."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(content), status_code=status, headers=headers, media_type="application/json")


class Emulator:
    system: ClassVar[str]
    limits: ClassVar[LimitPolicy] = LimitPolicy()
    limit_headers: ClassVar[LimitHeaders] = LimitHeaders()

    def __init__(self, store: SandboxStore, runtime: Runtime) -> None:
        self.store = store
        self.runtime = runtime
        self.secret = runtime.settings.secret.get_secret_value()
        policy = self.limits.overridden_by(runtime.settings.limits.get(self.system))
        self.limiter = RateLimiter(policy, self.limit_headers, runtime.timer)
        self.tenants: dict[str, Company] = {c.company_id: c for c in store.tenants(self.system)}
        self._drift: dict[str, list[DriftRule]] = {}
        for rule in runtime.settings.drift:
            if rule.system == self.system:
                self._drift.setdefault(rule.entity, []).append(rule)

    # -- hooks a system fills in ----------------------------------------------------------------------

    @classmethod
    def credentials(cls, company: Company, secret: str) -> dict[str, str]:
        """What a tenant's connection is given to reach this system (derived, never stored)."""
        raise NotImplementedError

    def routes(self) -> list[BaseRoute]:
        raise NotImplementedError

    async def authenticate(self, request: Request) -> Company:
        """The tenant a request acts for; raise ApiError with the system's 401/403/404 otherwise."""
        raise NotImplementedError

    def error_response(self, status: int) -> Response:
        """The system's answer to a server-side failure (500, 502, 503; 504 after a stall)."""
        raise NotImplementedError

    def throttled_response(self) -> Response:
        """The system's 429 body (the limiter adds the headers)."""
        raise NotImplementedError

    # -- helpers for handlers -------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.runtime.clock

    def records(self, company: Company, entity: str, **filters: Any) -> Iterator[Record]:
        """Latest versions visible at the clock, in (updated_at, record_id) order; filters (`after`,
        `updated_since`, `offset`, `limit`, ...) as in SandboxStore.records."""
        return self.store.records(self.system, company.company_id, entity, as_of=self.now, **filters)

    def render(self, record: Record, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload a handler built for `record`, with the drift that reaches its version."""
        return apply_drift(payload, self._drift.get(record.entity, ()), record.updated_at)

    # -- the request pipeline ---------------------------------------------------------------------------

    def api(self, handler: Handler) -> Endpoint:
        """A data endpoint: authenticated, rate limited, exposed to injected faults, counted."""

        async def endpoint(request: Request) -> Response:
            try:
                company = await self.authenticate(request)
            except ApiError as refused:
                return self._counted(UNAUTHENTICATED, refused.response)
            tenant = company.company_id
            decision = self.limiter.acquire(tenant)
            if not decision.allowed:
                refused_response = self.throttled_response()
                refused_response.headers.update(decision.headers)
                return self._counted(tenant, refused_response)
            try:
                response = await self._serve(request, company, handler)
            finally:
                self.limiter.release(tenant)
            response.headers.update(decision.headers)
            return self._counted(tenant, response)

        return endpoint

    def counted(self, handler: Callable[[Request], Awaitable[Response]]) -> Endpoint:
        """An endpoint outside the API's limits and faults (token endpoints), still counted."""

        async def endpoint(request: Request) -> Response:
            try:
                response = await handler(request)
            except ApiError as refused:
                response = refused.response
            return self._counted(UNAUTHENTICATED, response)

        return endpoint

    async def _serve(self, request: Request, company: Company, handler: Handler) -> Response:
        tenant = company.company_id
        config = self.runtime.faults.config(self.system)
        draw = self.runtime.faults.draw(self.system, tenant)
        if draw.slow:
            self.runtime.stats.fault(self.system, tenant, "slow")
            await anyio.sleep(config.slow_seconds)
        if draw.kind is not None:
            self.runtime.stats.fault(self.system, tenant, draw.kind)
        if draw.kind == "error":
            return self.error_response(draw.status)
        if draw.kind == "throttle":
            storm = self.throttled_response()
            storm.headers.update(self.limiter.refusal_headers())
            return storm
        if draw.kind == "timeout":
            await anyio.sleep(config.timeout_seconds)
            return self.error_response(504)
        try:
            response = await handler(request, company)
        except ApiError as refused:
            response = refused.response
        if draw.kind == "truncate" and response.status_code == 200:
            response.body = truncate(bytes(response.body), draw.cut)
            response.headers["content-length"] = str(len(response.body))
        return response

    def _counted(self, tenant: str, response: Response) -> Response:
        self.runtime.stats.request(self.system, tenant)
        self.runtime.stats.response(self.system, tenant, response.status_code)
        return response


class OAuth2Emulator(Emulator):
    """A system whose tenants all connect through the sandbox's one registered OAuth2 app (QuickBooks, Xero,
    Business Central): it declares `access_ttl_seconds` and the format of its `app_client`."""

    access_ttl_seconds: ClassVar[int]

    def __init__(self, store: SandboxStore, runtime: Runtime) -> None:
        super().__init__(store, runtime)
        self.oauth = OAuth2Server(
            self.system,
            self.secret,
            timer=runtime.timer,
            access_ttl=lambda: runtime.token_ttl(self.system, self.access_ttl_seconds),
        )

    @classmethod
    def app_client(cls, secret: str) -> tuple[str, str]:
        """The app's (client_id, client_secret), derived from the server secret in the system's own format."""
        raise NotImplementedError

    @classmethod
    def client_credentials(cls, company: Company, secret: str, *, refresh_token: bool = True) -> dict[str, str]:
        """The app client a tenant is given, with the refresh token its connection starts from if it rotates."""
        client_id, client_secret = cls.app_client(secret)
        keys = {"client_id": client_id, "client_secret": client_secret}
        if refresh_token:
            keys["refresh_token"] = OAuth2Server(cls.system, secret).initial_refresh_token(company.company_id)
        return keys
