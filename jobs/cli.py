"""`groundswell`: the operator's command line. Each command is a thin shell over a function of jobs/."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from jobs import pipeline
from jobs.settings import ConfigError, Settings, load_settings

app = typer.Typer(
    name="groundswell",
    help="Groundswell: ERP and commerce extracts -> Delta lakehouse -> cross-company trend indices.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
services_app = typer.Typer(help="Start, stop and check the local servers (Elasticsearch, S3).", no_args_is_help=True)
app.add_typer(services_app, name="services")
sandbox_app = typer.Typer(help="The synthetic economy and the emulated source systems that serve it.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")

console = Console(log_path=False)


@app.callback()
def _logging(
    log_level: Annotated[str, typer.Option(help="debug shows every retry; info, warning, error show less.", envvar="GROUNDSWELL_LOG_LEVEL")] = "info",
) -> None:
    """Groundswell: ERP and commerce extracts -> Delta lakehouse -> cross-company trend indices."""
    import logging

    import structlog

    level = logging.getLevelName(log_level.upper())
    if not isinstance(level, int):
        raise _fail(f"--log-level {log_level!r}: use debug, info, warning or error", 2)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(level))
err = Console(stderr=True)

ProfileOption = Annotated[
    Optional[str],
    typer.Option("--profile", "-p", help="Settings profile of conf/groundswell.toml (local, s3, cluster).", envvar="GROUNDSWELL_PROFILE", show_default="local"),
]
WarehouseOption = Annotated[
    Optional[str],
    typer.Option("--warehouse", "-w", help="Warehouse root URI (a folder or s3a://bucket/prefix); overrides the profile's."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _fail(message: str, code: int) -> typer.Exit:
    err.print(message, style="red", markup=False, highlight=False)
    return typer.Exit(code)


def _utc(moment: datetime) -> datetime:
    """Command-line instants without an offset are UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _settings(profile: str | None, warehouse: str | None = None) -> Settings:
    try:
        return load_settings(profile, warehouse=warehouse)
    except ConfigError as exc:
        raise _fail(f"configuration error: {exc}", 2) from None


@app.command()
def run(
    profile: ProfileOption = None,
    warehouse: WarehouseOption = None,
    sandbox: Annotated[Path, typer.Option(help="Sandbox folder to extract from when no --registry is given (generated if missing).")] = pipeline.SANDBOX_DIR,
    sandbox_config: Annotated[Optional[Path], typer.Option(help="Economy to generate the sandbox from (default conf/sandbox.toml).", exists=True, dir_okay=False)] = None,
    registry: Annotated[Optional[Path], typer.Option(help="Connection registry of real tenants (default: the sandbox's).", exists=True, dir_okay=False)] = None,
    first: Annotated[Optional[str], typer.Option("--from", help=f"First stage: {', '.join(pipeline.STAGE_NAMES)}.")] = None,
    last: Annotated[Optional[str], typer.Option("--to", help="Last stage (inclusive).")] = None,
) -> None:
    """Run the pipeline's stages in order (all of them by default)."""
    settings = _settings(profile, warehouse)
    try:
        stages = pipeline.select(first, last)
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    context = pipeline.RunContext(settings, sandbox_dir=sandbox, sandbox_config=sandbox_config, registry=registry)
    table = Table("stage", "state", "seconds", "summary", title=f"run {context.run_id} -> {settings.warehouse}")
    try:
        for outcome in pipeline.run(context, stages):
            table.add_row(outcome.stage, outcome.state, f"{outcome.seconds:.1f}", outcome.summary)
            console.log(f"{outcome.stage}: {outcome.state} - {outcome.summary}", markup=False, highlight=False)
    except pipeline.StageFailed as failure:
        table.add_row(failure.outcome.stage, "[red]failed[/red]", f"{failure.outcome.seconds:.1f}", failure.outcome.summary)
        console.print(table)
        raise typer.Exit(1) from None
    console.print(table)


@app.command()
def stages(as_json: JsonOption = False) -> None:
    """List the pipeline's stages in order, and which are built."""
    rows = [{"stage": s.name, "does": s.does, "built": s.task is not None} for s in pipeline.STAGES]
    if as_json:
        print(json.dumps({"stages": rows}))
        return
    table = Table("stage", "does", "built")
    for row in rows:
        table.add_row(row["stage"], row["does"], "yes" if row["built"] else "pending")
    console.print(table)


@app.command("settings")
def show_settings(profile: ProfileOption = None, warehouse: WarehouseOption = None) -> None:
    """Print the resolved settings of a profile (secrets shown as their references, never their values)."""
    print(_settings(profile, warehouse).model_dump_json(indent=2))


def _print_services(statuses, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"services": [s.as_json() for s in statuses]}))
        return
    table = Table("service", "url", "healthy", "state")
    for s in statuses:
        table.add_row(s.name, s.url, "yes" if s.healthy else "no", s.state)
    console.print(table)


def _services_call(function, profile: str | None, names: list[str] | None = None):
    from jobs import services

    settings = _settings(profile)
    try:
        return function(settings, names) if names is not None else function(settings)
    except services.ServiceError as exc:
        raise _fail(str(exc), 1) from None


ServiceNames = Annotated[Optional[list[str]], typer.Argument(help="elasticsearch and/or s3 (default: both).", show_default=False)]


@services_app.command("up")
def services_up(names: ServiceNames = None, profile: ProfileOption = None, as_json: JsonOption = False) -> None:
    """Start the local servers that are not running and wait until they are healthy."""
    from jobs import services

    _print_services(_services_call(services.up, profile, names or []), as_json)


@services_app.command("down")
def services_down(names: ServiceNames = None, profile: ProfileOption = None, as_json: JsonOption = False) -> None:
    """Stop the local servers this project started (never one it did not start)."""
    from jobs import services

    _print_services(_services_call(services.down, profile, names or []), as_json)


@services_app.command("status")
def services_status(profile: ProfileOption = None, as_json: JsonOption = False) -> None:
    """Show each local server's URL and health."""
    from jobs import services

    _print_services(_services_call(services.status, profile), as_json)


@app.command()
def extract(
    registry: Annotated[Path, typer.Option(help="Connection registry (`sandbox serve` writes .sandbox/connections.toml).")] = pipeline.SANDBOX_DIR / "connections.toml",
    system: Annotated[Optional[list[str]], typer.Option(help="Only these systems (repeatable).")] = None,
    company: Annotated[Optional[list[str]], typer.Option(help="Only these companies (repeatable).")] = None,
    all_connections: Annotated[bool, typer.Option("--all", help="Every connection of the registry.")] = False,
    since: Annotated[Optional[datetime], typer.Option(help="Backfill from this instant (UTC) instead of each cursor.")] = None,
    until: Annotated[Optional[datetime], typer.Option(help="Read updates before this instant (UTC; default now).")] = None,
    concurrency: Annotated[int, typer.Option(help="Connections extracted at once.", min=1)] = 32,
    profile: ProfileOption = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Extract new records of the selected connections into landing files (cursors advance after manifests)."""
    import asyncio

    from rich.progress import Progress

    from connectors.extract import ExtractPlan, new_run_id
    from connectors.extract import extract as run_extract
    from connectors.registry import RegistryError, load_registry
    from jobs.storage import warehouse_filesystem

    if not (all_connections or system or company):
        raise _fail("say which connections: --system, --company, or --all", 2)
    settings = _settings(profile, warehouse)
    try:
        connections = load_registry(registry).select(systems=system, companies=company)
    except RegistryError as exc:
        raise _fail(str(exc), 2) from None
    filesystem, root = warehouse_filesystem(settings)
    plan = ExtractPlan(
        filesystem, root, new_run_id(), until=_utc(until) if until else datetime.now(timezone.utc),
        since=_utc(since) if since else None, concurrency=concurrency,
    )
    streams = sum(len(c.entities) for c in connections)
    with Progress(console=console) as progress:
        task = progress.add_task(f"extracting {len(connections)} connections", total=streams)
        summary = asyncio.run(run_extract(plan, connections, on_done=lambda result: progress.advance(task)))
    table = Table("system", "streams", "records", "duplicates dropped", "failed", title=f"extract run {summary.run_id} -> {settings.warehouse}")
    for name in sorted({r.connection.split("/")[0] for r in summary.results}):
        rows = [r for r in summary.results if r.connection.startswith(name + "/")]
        table.add_row(name, str(len(rows)), str(sum(r.records for r in rows)), str(sum(r.duplicates for r in rows)), str(sum(1 for r in rows if r.error)))
    console.print(table)
    for failure in summary.failed:
        console.print(f"failed: {failure.connection} {failure.stream}: {failure.error}", style="red", markup=False, highlight=False)
    if summary.failed:
        raise typer.Exit(1)


SandboxDir = Annotated[Path, typer.Option("--out", help="The sandbox folder (sandbox.db, truth/, drops/, connections.toml).")]


def _open_sandbox(folder: Path):
    from connectors.sandbox.store import SandboxStore

    try:
        return SandboxStore(folder / "sandbox.db")
    except FileNotFoundError as exc:
        raise _fail(str(exc), 2) from None


@sandbox_app.command("generate")
def sandbox_generate(
    config: Annotated[Optional[Path], typer.Option(help="Economy config (default conf/sandbox.toml).", exists=True, dir_okay=False)] = None,
    seed: Annotated[Optional[int], typer.Option(help="Random seed (overrides the config's).")] = None,
    companies: Annotated[Optional[int], typer.Option(help="Number of companies (overrides the config's).", min=1)] = None,
    start: Annotated[Optional[datetime], typer.Option(formats=["%Y-%m-%d"], help="First day of activity.")] = None,
    end: Annotated[Optional[datetime], typer.Option(formats=["%Y-%m-%d"], help="Last day of activity.")] = None,
    out: SandboxDir = pipeline.SANDBOX_DIR,
) -> None:
    """Generate the synthetic economy into OUT/sandbox.db (same seed, same bytes)."""
    from connectors.sandbox.config import SandboxConfigError, load_config
    from connectors.sandbox.generate import generate

    try:
        path = generate(
            load_config(config), out, seed=seed, companies=companies,
            start=start.date() if start else None, end=end.date() if end else None,
        )
    except SandboxConfigError as exc:
        raise _fail(f"configuration error: {exc}", 2) from None
    store = _open_sandbox(out)
    print(f"{path}: {store.meta('companies')} companies, {store.meta('records')} record versions, {store.meta('start')} .. {store.meta('end')}")


@sandbox_app.command("truth")
def sandbox_truth(out: SandboxDir = pipeline.SANDBOX_DIR) -> None:
    """Export the sandbox's truth (latent indices, company-week totals, every served record) to OUT/truth/."""
    from connectors.sandbox.truth import export_truth

    _open_sandbox(out).close()
    for path in export_truth(out / "sandbox.db", out / "truth"):
        print(path)


@sandbox_app.command("drops")
def sandbox_drops(
    out: SandboxDir = pipeline.SANDBOX_DIR,
    since: Annotated[Optional[datetime], typer.Option(help="Only records updated from this instant (UTC).")] = None,
    as_of: Annotated[Optional[datetime], typer.Option(help="The drop's 'now' (UTC; default: the sandbox's end).")] = None,
) -> None:
    """Write the CSV and EDI X12 files the file-drop companies would send, into OUT/drops/."""
    from connectors.sandbox.drops import write_drops
    from connectors.sandbox.emulators.runtime import store_end

    store = _open_sandbox(out)
    files = write_drops(store, out / "drops", as_of=_utc(as_of) if as_of else store_end(store), since=_utc(since) if since else None)
    print(f"{len(files)} files under {out / 'drops'}")


@sandbox_app.command("serve")
def sandbox_serve(
    out: SandboxDir = pipeline.SANDBOX_DIR,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8700,
    clock: Annotated[Optional[str], typer.Option(help="The emulators' 'now' (ISO date or instant; default: the sandbox's end).")] = None,
) -> None:
    """Serve every emulated system on 127.0.0.1:PORT/<system> and write OUT/connections.toml for the connectors."""
    import uvicorn

    from connectors.registry import write_registry
    from connectors.sandbox.emulators import build_sandbox_app
    from connectors.sandbox.emulators.runtime import parse_clock
    from connectors.sandbox.serve import build_registry, emulator_settings

    store = _open_sandbox(out)
    settings = emulator_settings(store, clock=parse_clock(clock) if clock else None)
    base_url = f"http://127.0.0.1:{port}"
    registry = build_registry(store, base_url, out, settings)
    write_registry(registry, out / "connections.toml")
    table = Table("connection", "base url / drop folder", "identifiers", "credentials (references)")
    for c in registry.connections:
        table.add_row(c.id, c.base_url or c.drop_dir, " ".join(f"{k}={v}" for k, v in c.settings.items()), " ".join(c.credentials.values()))
    console.print(table)
    print(f"serving {len(registry.connections)} connections at {base_url}; registry: {out / 'connections.toml'}", flush=True)
    uvicorn.run(build_sandbox_app(store, settings), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    app()
