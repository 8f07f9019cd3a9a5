"""Per-tenant rate limits, declared as data so every system plugs in by configuration.

A system declares its numbers (`LimitPolicy`: a leaky bucket, counting windows, a concurrency cap) and
how it reports them (`LimitHeaders`: header names, the Retry-After it sends). Examples:
- Shopify REST: bucket 40 leaking 2/s, `X-Shopify-Shop-Api-Call-Limit: n/40`, `Retry-After: 2.0`.
- QuickBooks: window minute=500/60 s and 10 concurrent per realm.
- Xero: windows minute=60/60 s and day=5000/86400 s, 5 concurrent; remaining={"minute":
  "X-MinLimit-Remaining", "day": "X-DayLimit-Remaining"}, problem="X-Rate-Limit-Problem".
- NetSuite: concurrent only. Business Central: one window (e.g. 6000 per 300 s) and Retry-After.
Windows are fixed: a window opens on its first request and resets `seconds` later.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: int = Field(ge=1, description="requests allowed per window")
    seconds: float = Field(gt=0, description="window length")


class LimitPolicy(BaseModel):
    """The numbers of one system's per-tenant limits (None/empty = that kind of limit is off)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bucket_size: int | None = Field(None, ge=1, description="leaky bucket capacity (Shopify REST: 40)")
    leak_per_second: float = Field(0.0, ge=0, description="leaky bucket drain rate (Shopify REST: 2)")
    windows: dict[str, Window] = Field(
        default_factory=dict, description="named counting windows; the name is what X-Rate-Limit-Problem says"
    )
    concurrent: int | None = Field(None, ge=1, description="requests in flight at once")

    def overridden_by(self, override: LimitPolicy | None) -> LimitPolicy:
        """This policy with the fields `override` sets explicitly (settings scale limits this way)."""
        if override is None:
            return self
        return self.model_copy(update={name: getattr(override, name) for name in override.model_fields_set})


@dataclass(frozen=True)
class LimitHeaders:
    """How a system reports its limits on every answer and on a 429."""

    usage: str | None = None  # bucket fill as "<used>/<size>" (X-Shopify-Shop-Api-Call-Limit)
    remaining: Mapping[str, str] = field(default_factory=dict)  # window name -> header with what is left
    problem: str | None = None  # header naming the limit hit: a window name or "concurrent"
    retry_after: str | None = None  # fixed Retry-After text; None = whole seconds until there is room
    sends_retry_after: bool = True  # False for systems whose 429 carries no Retry-After (NetSuite)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    headers: dict[str, str]
    problem: str | None = None  # "bucket", "concurrent" or a window name when refused


@dataclass
class _TenantState:
    level: float = 0.0
    leaked_at: float = 0.0
    windows: dict[str, tuple[float, int]] = field(default_factory=dict)  # name -> (opened at, count)
    in_flight: int = 0


class RateLimiter:
    """Admits or refuses each request of a tenant; `release` after every admitted request ends."""

    def __init__(self, policy: LimitPolicy, headers: LimitHeaders, timer: Callable[[], float]) -> None:
        self.policy = policy
        self._headers = headers
        self._timer = timer
        self._tenants: dict[str, _TenantState] = {}

    def acquire(self, tenant: str) -> Decision:
        now = self._timer()
        state = self._tenants.setdefault(tenant, _TenantState(leaked_at=now))
        policy = self.policy
        if policy.bucket_size is not None:
            state.level = max(0.0, state.level - (now - state.leaked_at) * policy.leak_per_second)
            state.leaked_at = now
        windows = {name: self._window(state, name, window, now) for name, window in policy.windows.items()}

        problem, wait = None, 1.0
        if policy.concurrent is not None and state.in_flight >= policy.concurrent:
            problem = "concurrent"
        for name, (opened, count) in windows.items():
            window = policy.windows[name]
            if count >= window.limit:
                problem, wait = name, opened + window.seconds - now
        if policy.bucket_size is not None and state.level + 1 > policy.bucket_size:
            problem = "bucket"
            if policy.leak_per_second > 0:
                wait = (state.level + 1 - policy.bucket_size) / policy.leak_per_second
        if problem is not None:
            return Decision(False, self._report(state, windows, problem, wait), problem)

        state.level += 1
        state.in_flight += 1
        for name, (opened, count) in windows.items():
            state.windows[name] = (opened, count + 1)
            windows[name] = (opened, count + 1)
        return Decision(True, self._report(state, windows, None, 0.0))

    def release(self, tenant: str) -> None:
        self._tenants[tenant].in_flight -= 1

    @staticmethod
    def _window(state: _TenantState, name: str, window: Window, now: float) -> tuple[float, int]:
        opened, count = state.windows.get(name, (now, 0))
        return (now, 0) if now - opened >= window.seconds else (opened, count)

    def _report(
        self, state: _TenantState, windows: dict[str, tuple[float, int]], problem: str | None, wait: float
    ) -> dict[str, str]:
        spec, policy = self._headers, self.policy
        headers: dict[str, str] = {}
        if spec.usage and policy.bucket_size is not None:
            used = policy.bucket_size if problem == "bucket" else min(policy.bucket_size, math.ceil(state.level))
            headers[spec.usage] = f"{used}/{policy.bucket_size}"
        for name, header in spec.remaining.items():
            if name in windows:
                headers[header] = str(max(0, policy.windows[name].limit - windows[name][1]))
        if problem is not None:
            headers.update(self.refusal_headers(wait))
            if spec.problem:
                headers[spec.problem] = problem
        return headers

    def refusal_headers(self, wait: float = 1.0) -> dict[str, str]:
        """Retry-After as this system sends it (also used by injected 429 storms)."""
        if not self._headers.sends_retry_after:
            return {}
        return {"Retry-After": self._headers.retry_after or str(max(1, math.ceil(wait)))}
