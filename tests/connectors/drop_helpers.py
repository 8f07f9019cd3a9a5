"""Shared by the file-drop connector tests: drops written from the served sandbox, and a full read."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.base import Connector, Stream, Window, is_error
from connectors.registry import Connection
from connectors.sandbox.drops import write_drops
from connectors.sandbox.emulators.runtime import store_end
from connectors.sandbox.model import Company
from connectors.sandbox.store import SandboxStore


def drops_of(store: SandboxStore, out: Path) -> datetime:
    """Write every drop of the store into `out` as of its end; returns that instant."""
    as_of = store_end(store)
    write_drops(store, out, as_of=as_of)
    return as_of


def system_drops(store: SandboxStore, out: Path, system: str) -> tuple[Path, datetime, list[Company]]:
    """The store's drops written into `out`, their as-of instant, and the companies whose files are `system`'s;
    fails when the sandbox holds no such company, since every test of that connector would then pass vacuously."""
    as_of = drops_of(store, out)
    companies = [c for c in store.companies() if c.accounting_system == system]
    assert companies, f"the test sandbox has no {system} company"
    return out, as_of, companies


def read_all(connector: Connector, stream: Stream, window: Window) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(records, error records) of one stream over `window`."""

    async def collect() -> list[dict[str, Any]]:
        return [record async for page in connector.read(stream, window) for record in page]

    everything = asyncio.run(collect())
    return [r for r in everything if not is_error(r)], [r for r in everything if is_error(r)]


def full_window(as_of: datetime) -> Window:
    return Window(since=None, until=as_of + timedelta(days=2))


def connection(system: str, company_id: str, drop_dir: Path, entities: tuple[str, ...]) -> Connection:
    return Connection(system=system, company_id=company_id, drop_dir=str(drop_dir), entities=entities)
