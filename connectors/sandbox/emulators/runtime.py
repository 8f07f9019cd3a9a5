"""The state every emulated system of one server shares: the clock, fault rates, counters, the timer."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timezone

from connectors.sandbox.emulators.faults import FaultInjector
from connectors.sandbox.emulators.settings import EmulatorSettings
from connectors.sandbox.emulators.stats import Stats
from connectors.sandbox.store import SandboxStore


class Runtime:
    """`clock` is the sandbox's 'now' for data (records updated after it are not visible yet);
    `timer` is wall time in seconds for what really elapses: token expiry, rate-limit windows."""

    def __init__(self, store: SandboxStore, settings: EmulatorSettings, timer: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.timer = timer
        self.clock = as_utc(settings.clock) if settings.clock else store_end(store)
        self.stats = Stats()
        self.faults = FaultInjector(settings.fault_seed, dict(settings.faults))

    def token_ttl(self, system: str, default: int) -> int:
        """Access-token lifetime: a runtime fault override, else settings, else the system's own."""
        override = self.faults.config(system).token_ttl_seconds
        return override or self.settings.token_ttl_seconds.get(system, default)


def as_utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)


def parse_clock(text: str) -> datetime:
    """An ISO instant (naive = UTC), or a date meaning the end of that day (its records all visible)."""
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.max.time(), timezone.utc)
    return as_utc(datetime.fromisoformat(text))


def store_end(store: SandboxStore) -> datetime:
    end = store.meta("end")
    if end is None:
        raise ValueError(
            f"sandbox {store.path} has no 'end' meta to start the emulator clock from: "
            "regenerate it or set EmulatorSettings.clock"
        )
    return parse_clock(end)
