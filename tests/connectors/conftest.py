"""A small generated sandbox served over real HTTP (uvicorn on loopback) for the connector tests, with its
connection registry and a way to switch each system's faults on and off."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest

from connectors.registry import Registry
from connectors.sandbox.config import FaultConfig, load_config
from connectors.sandbox.generate import generate
from connectors.sandbox.serve import build_registry, emulator_settings, serving
from connectors.sandbox.store import SandboxStore


@dataclass(frozen=True)
class ServedSandbox:
    base_url: str
    folder: Path
    store: SandboxStore
    registry: Registry

    @contextmanager
    def faults(self, system: str, **rates: float) -> Iterator[None]:
        """Switch `system`'s injected faults on for the block (FaultConfig fields), off after it."""
        httpx.put(f"{self.base_url}/_sandbox/faults/{system}", json=FaultConfig(**rates).model_dump(mode="json")).raise_for_status()
        try:
            yield
        finally:
            httpx.put(f"{self.base_url}/_sandbox/faults/{system}", json=FaultConfig().model_dump(mode="json")).raise_for_status()


@pytest.fixture(scope="session")
def served_sandbox(tmp_path_factory) -> Iterator[ServedSandbox]:
    folder = tmp_path_factory.mktemp("sandbox")
    generate(load_config(), folder, companies=40, start=date(2026, 1, 5), end=date(2026, 2, 22), progress=False)
    store = SandboxStore(folder / "sandbox.db")
    settings = emulator_settings(store)
    with serving(store, settings) as base_url:
        yield ServedSandbox(base_url, folder, store, build_registry(store, base_url, folder, settings))
