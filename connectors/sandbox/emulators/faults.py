"""Injected faults: each request draws, from a seeded RNG of its own system and tenant, whether it fails.

One RNG per (system, tenant), seeded from the fault seed, so a tenant's sequence of faults is the same on
every run whatever other tenants do concurrently. error, throttle, timeout and truncate exclude each other
(each fires at exactly its configured rate); slow is drawn independently and can delay any of them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from connectors.sandbox.config import FaultConfig

FaultKind = Literal["error", "throttle", "timeout", "truncate"]
_EXCLUSIVE: tuple[FaultKind, ...] = ("error", "throttle", "timeout", "truncate")
_ERROR_STATUSES = (500, 502, 503)


@dataclass(frozen=True)
class FaultDraw:
    kind: FaultKind | None
    slow: bool
    status: int  # the 5xx an "error" answers with
    cut: float  # the fraction of the body a "truncate" keeps, in (0.1, 0.9)


class FaultInjector:
    def __init__(self, seed: int, configs: dict[str, FaultConfig]) -> None:
        self._seed = seed
        self._configs: dict[str, FaultConfig] = {}
        self._rngs: dict[tuple[str, str], random.Random] = {}
        for system, config in configs.items():
            self.replace(system, config)

    def config(self, system: str) -> FaultConfig:
        return self._configs.get(system) or FaultConfig()

    def replace(self, system: str, config: FaultConfig) -> None:
        total = sum(getattr(config, f"{kind}_rate") for kind in _EXCLUSIVE)
        if total > 1:
            raise ValueError(
                f"faults for {system}: error_rate + throttle_rate + timeout_rate + truncate_rate = {total:g} > 1; "
                "lower them so one request draws at most one of these faults"
            )
        self._configs[system] = config

    def draw(self, system: str, tenant: str) -> FaultDraw:
        rng = self._rngs.setdefault((system, tenant), random.Random(f"{self._seed}/{system}/{tenant}"))
        config = self.config(system)
        pick, slow, status, cut = rng.random(), rng.random(), rng.choice(_ERROR_STATUSES), rng.uniform(0.1, 0.9)
        kind: FaultKind | None = None
        edge = 0.0
        for candidate in _EXCLUSIVE:
            edge += getattr(config, f"{candidate}_rate")
            if pick < edge:
                kind = candidate
                break
        return FaultDraw(kind=kind, slow=slow < config.slow_rate, status=status, cut=cut)


def truncate(body: bytes, keep: float) -> bytes:
    """The body cut mid-way (always strictly shorter, never empty unless it was)."""
    if len(body) < 2:
        return body[:0]
    return body[: min(len(body) - 1, max(1, int(len(body) * keep)))]
