"""Request, response and fault counters per system and tenant, served by GET /_sandbox/stats."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Counts:
    requests: int = 0
    responses: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "responses": dict(sorted(self.responses.items())),
            "faults": dict(sorted(self.faults.items())),
        }


class Stats:
    def __init__(self) -> None:
        self._systems: dict[str, _Counts] = {}
        self._tenants: dict[str, dict[str, _Counts]] = {}

    def _both(self, system: str, tenant: str) -> tuple[_Counts, _Counts]:
        tenants = self._tenants.setdefault(system, {})
        return self._systems.setdefault(system, _Counts()), tenants.setdefault(tenant, _Counts())

    def request(self, system: str, tenant: str) -> None:
        for counts in self._both(system, tenant):
            counts.requests += 1

    def response(self, system: str, tenant: str, status: int) -> None:
        for counts in self._both(system, tenant):
            counts.responses[str(status)] += 1

    def fault(self, system: str, tenant: str, kind: str) -> None:
        for counts in self._both(system, tenant):
            counts.faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            system: {
                **totals.as_dict(),
                "tenants": {tenant: c.as_dict() for tenant, c in sorted(self._tenants[system].items())},
            }
            for system, totals in sorted(self._systems.items())
        }
