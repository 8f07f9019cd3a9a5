"""Pipeline stage `extract`: every connection's new records into landing.

With no registry given, the connections are the sandbox's: it is generated if missing, its file drops are
written and its emulators served on loopback for the length of the run, and the run reads up to the
sandbox's clock. With a registry (real tenants), it reads up to now.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from connectors.extract import ExtractPlan, ExtractSummary, extract, new_run_id
from connectors.landing import write_atomically
from connectors.registry import Connection, Registry, load_registry, write_registry
from jobs.pipeline import RunContext
from jobs.silver import companies, fx
from jobs.storage import warehouse_filesystem
from schemas.canonical.entities import Company

if TYPE_CHECKING:
    from connectors.sandbox.store import SandboxStore


class ExtractFailed(Exception):
    """Some streams could not be read; their manifests hold the errors."""


def _run(context: RunContext, connections: list[Connection], until: datetime) -> ExtractSummary:
    filesystem, root = warehouse_filesystem(context.settings)
    plan = ExtractPlan(filesystem, root, new_run_id(), until=until)
    return asyncio.run(extract(plan, connections))


def _land_reference(context: RunContext, folder: str, name: str, text: str) -> None:
    """A reference file beside the extracts, as a real deployment drops its own: FX rates in the ECB's
    format (silver converts amounts with them) and the company directory (gold's sectors and regions)."""
    filesystem, root = warehouse_filesystem(context.settings)
    filesystem.create_dir(f"{root}/{folder}", recursive=True)
    write_atomically(filesystem, f"{root}/{folder}/{name}", text.encode())


def _directory(store: SandboxStore) -> str:
    return companies.write_csv([
        Company(company_id=c.company_id, name=c.name, sector=c.sector, region=c.region, country=c.country, reporting_currency=c.currency,
                systems=list(c.systems), onboarded_on=c.onboarded_on, churned_on=c.churned_on)
        for c in store.companies()])


def land_sandbox(context: RunContext) -> tuple[SandboxStore, datetime]:
    """Generate the sandbox if missing, write its file drops and land its reference files; returns the store
    and the instant to read up to: the start of the day after its clock (the last day's drops are complete)."""
    from connectors.sandbox.config import load_config
    from connectors.sandbox.drops import write_drops
    from connectors.sandbox.emulators.runtime import store_end
    from connectors.sandbox.generate import generate
    from connectors.sandbox.store import SandboxStore

    folder = context.sandbox_dir
    if not (folder / "sandbox.db").exists():
        generate(load_config(context.sandbox_config), folder)
    store = SandboxStore(folder / "sandbox.db")
    clock = store_end(store)
    write_drops(store, folder / "drops", as_of=clock)
    _land_reference(context, fx.REFERENCE_DIR, f"sandbox-{clock:%Y%m%d}.csv", fx.write_ecb_csv(store.fx_rates()))
    _land_reference(context, companies.REFERENCE_DIR, "sandbox.csv", _directory(store))
    return store, datetime.combine(clock.date() + timedelta(days=1), time(), timezone.utc)


def sandbox_registry(store: SandboxStore, base_url: str, folder: Path) -> Registry:
    """The registry of the sandbox served at `base_url`, written to `folder`/connections.toml."""
    from connectors.sandbox.serve import build_registry, emulator_settings

    registry = build_registry(store, base_url, folder, emulator_settings(store))
    write_registry(registry, folder / "connections.toml")
    return registry


def _from_sandbox(context: RunContext) -> ExtractSummary:
    from connectors.sandbox.serve import serving_process

    store, until = land_sandbox(context)
    with serving_process(context.sandbox_dir) as base_url:
        return _run(context, list(sandbox_registry(store, base_url, context.sandbox_dir).connections), until)


def _outcome(summary: ExtractSummary) -> str:
    records = sum(r.records for r in summary.results)
    connections = len({r.connection for r in summary.results})
    if summary.failed:
        failures = "; ".join(f"{r.connection} {r.stream}: {r.error}" for r in summary.failed[:5])
        raise ExtractFailed(f"{len(summary.failed)} of {len(summary.results)} streams failed ({failures})")
    return f"{records} records from {connections} connections (run {summary.run_id})"


def extract_connections(context: RunContext, ids: list[str], until: datetime) -> str:
    """Extract the registry's connections `ids` (system/company) up to `until`: one Airflow task's share."""
    wanted = set(ids)
    connections = [c for c in load_registry(context.registry).connections if c.id in wanted]
    if len(connections) != len(wanted):
        missing = wanted - {c.id for c in connections}
        raise ExtractFailed(f"connections {', '.join(sorted(missing))} are not in the registry {context.registry}")
    return _outcome(_run(context, connections, until))


def stage(context: RunContext) -> str:
    if context.registry is None:
        return _outcome(_from_sandbox(context))
    return _outcome(_run(context, list(load_registry(context.registry).connections), datetime.now(timezone.utc)))
