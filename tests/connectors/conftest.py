"""A small generated sandbox served over real HTTP (uvicorn on loopback) for the connector tests, with its
connection registry, a way to switch each system's faults on and off, and the reads every API connector's
tests share: every stream of a connection, or of several connections at once, for a window."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from connectors.base import Stream, Window
from connectors.catalog import connector_class
from connectors.http.client import HttpStats
from connectors.registry import Connection, Registry
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


#: Each stream with its records, in the connector's stream order (a stream may hold unhashable settings).
Found = list[tuple[Stream, list[dict[str, Any]]]]
Read = TypeVar("Read")


async def read_records(connection: Connection, window: Window, **connector_options: Any) -> tuple[Found, HttpStats]:
    """Every stream's records in `window`, as the source sent them, and the run's HTTP counters."""
    connector = connector_class(connection.system)(connection, **connector_options)
    try:
        found: Found = []
        for stream in connector.streams():
            found.append((stream, [record async for page in connector.read(stream, window) for record in page]))
        return found, connector.stats
    finally:
        await connector.aclose()


async def read_keys(
    connection: Connection, window: Window, **connector_options: Any,
) -> tuple[dict[str, set[str]], HttpStats]:
    """Every stream's record keys in `window`, by stream name (an empty stream too), and the HTTP counters."""
    found, stats = await read_records(connection, window, **connector_options)
    return {stream.name: {stream.key(record) for record in records} for stream, records in found}, stats


def read_tenants(
    connections: Sequence[Connection],
    window: Window,
    read: Callable[..., Awaitable[tuple[Read, HttpStats]]] = read_keys,
    **connector_options: Any,
) -> list[tuple[Read, HttpStats]]:
    """`read` of every connection at once (tenants share the emulator, as in a run), in the order given."""
    async def every_tenant() -> list[tuple[Read, HttpStats]]:
        return await asyncio.gather(*(read(connection, window, **connector_options) for connection in connections))

    return asyncio.run(every_tenant())
