"""Per-account request budgets: a steady rate with a bounded burst, a cap on requests in flight, and a
pause whenever the server says "not before" (429 + Retry-After) — shared by every request of the account.

The bucket is a small hand-written GCRA (generic cell rate algorithm) rather than aiolimiter because it must
*learn*: our requests reach the server a little later and less evenly than we send them, so a client
bucket set exactly to the server's limit still overflows the server's once in a while. After a 429 the
account's bucket counts itself full, gives up its burst and slows by a few percent — so after the first
429 no request exceeds the limit again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


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
    slowdown = 0.95  # the rate kept after a 429

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._interval = 1.0 / limit.rate
        self._tolerance = (limit.burst - 1) * self._interval  # how far ahead of schedule a request may go
        self._next_due = 0.0  # GCRA's theoretical arrival time
        self._in_flight = asyncio.Semaphore(limit.concurrency)
        self._resume_at = 0.0

    def pause(self, seconds: float) -> None:
        """Hold every request of this account for `seconds` (the server's Retry-After)."""
        self._resume_at = max(self._resume_at, time.monotonic() + seconds)

    def throttled(self) -> None:
        """The server refused us for rate: its bucket is full whatever ours says, so count ours full, send no
        bursts from now on, and go a little slower."""
        self._interval /= self.slowdown
        self._tolerance = 0.0
        self._next_due = max(self._next_due, time.monotonic()) + self._interval

    async def _admit(self) -> None:
        while True:
            now = time.monotonic()
            due = max(self._next_due, now)
            wait = max(due - self._tolerance - now, self._resume_at - now)
            if wait <= 0:
                self._next_due = due + self._interval
                return
            await asyncio.sleep(wait)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._in_flight:
            await self._admit()
            yield
