"""Per-account request budgets: a steady rate with a bounded burst, a cap on requests in flight, and a
pause whenever the server says "not before" (429 + Retry-After) — shared by every request of the account."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiolimiter import AsyncLimiter


@dataclass(frozen=True)
class RateLimit:
    """What an account may send: `rate` requests per second on average, `burst` at once, `concurrency` in flight.

    Any `per`-second window then sees at most burst + rate × per requests: `within_window` picks a rate and
    burst that keep a fixed or sliding window's limit (QuickBooks' 500 a minute) with a margin."""

    rate: float
    burst: int
    concurrency: int = 10

    @classmethod
    def within_window(cls, limit: int, per: float, *, concurrency: int = 10, headroom: float = 0.9) -> RateLimit:
        burst = max(1, int(limit * (1 - headroom)))
        if limit * headroom <= burst:
            raise ValueError(f"a limit of {limit} per {per:g} s leaves no room for a burst: budget it with RateLimit(rate, burst=1)")
        return cls(rate=(limit * headroom - burst) / per, burst=burst, concurrency=concurrency)


class RateBudget:
    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._bucket = AsyncLimiter(limit.burst, limit.burst / limit.rate)
        self._in_flight = asyncio.Semaphore(limit.concurrency)
        self._resume_at = 0.0

    def pause(self, seconds: float) -> None:
        """Hold every request of this account for `seconds` (the server's Retry-After)."""
        self._resume_at = max(self._resume_at, time.monotonic() + seconds)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._in_flight:
            while (wait := self._resume_at - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            await self._bucket.acquire()
            yield
