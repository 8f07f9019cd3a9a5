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
from jobs.settings import ROOT, ConfigError, Settings, load_settings

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
review_app = typer.Typer(help="The review queue: schema drifts, uncertain entity matches and quarantined records waiting for a person.",
                         no_args_is_help=True)
app.add_typer(review_app, name="review")
search_app = typer.Typer(help="Ask the published indices (Elasticsearch): a series' trend, top movers, names.", no_args_is_help=True)
app.add_typer(search_app, name="search")

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


def _spark(settings: Settings):
    from jobs.spark import spark_session

    return spark_session(settings)


SystemOption = Annotated[Optional[list[str]], typer.Option("--system", help="Only this source system (repeatable).")]


NoGateOption = Annotated[bool, typer.Option("--no-gate", help="Skip the layer's gate (Great Expectations) after the job.")]


def _gate(spark, settings: Settings, layer: str) -> None:
    """Validate the layer's new rows; a failed critical rule exits 1 (its rows are quarantined)."""
    from jobs.gates.gate import docs_path, gate

    outcome = gate(spark, settings, layer)
    console.print(outcome.line(), markup=False, highlight=False)
    if outcome.rows:
        console.print(f"Data Docs: {docs_path(settings, layer)}", markup=False, highlight=False)
    if not outcome.passed:
        raise _fail(f"gate {layer} failed: its offending rows are in the quarantine (`groundswell review list`); nothing downstream should run", 1)


@app.command()
def gate(
    layer: Annotated[str, typer.Argument(help="bronze, silver or gold.")],
    profile: ProfileOption = None, warehouse: WarehouseOption = None,
) -> None:
    """Validate the layer's rows added or changed since its last gate with Great Expectations (rules: generated
    from the canonical models, plus conf/gates.toml). Results go to ops/validation_result and Data Docs; a failed
    critical rule quarantines the offending rows and exits 1. Warnings are recorded and pass."""
    from jobs.gates.suites import LAYERS

    if layer not in LAYERS:
        raise _fail(f"unknown layer {layer!r}: use {', '.join(LAYERS)}", 2)
    settings = _settings(profile, warehouse)
    _gate(_spark(settings), settings, layer)


@app.command()
def ingest(system: SystemOption = None, no_gate: NoGateOption = False, profile: ProfileOption = None, warehouse: WarehouseOption = None) -> None:
    """Ingest complete landing runs not ingested yet into bronze (contracts checked, PII tokenized, rejects quarantined),
    then gate bronze."""
    from jobs.bronze.ingest import ingest as run_ingest

    settings = _settings(profile, warehouse)
    spark = _spark(settings)
    console.print(run_ingest(spark, settings, system).line(), markup=False, highlight=False)
    if not no_gate:
        _gate(spark, settings, "bronze")


@app.command()
def normalize(system: SystemOption = None, no_gate: NoGateOption = False, profile: ProfileOption = None, warehouse: WarehouseOption = None) -> None:
    """Map bronze rows added since the last run to the canonical entities in silver (USD at the document date),
    then resolve master data (same customer/vendor/product under several ids) and reconcile shop orders with invoices;
    then gate silver."""
    from jobs.silver.build import build

    settings = _settings(profile, warehouse)
    spark = _spark(settings)
    console.print(build(spark, settings, system).line(), markup=False, highlight=False)
    if not no_gate:
        _gate(spark, settings, "silver")


@app.command("build-gold")
def build_gold(
    full: Annotated[bool, typer.Option("--full", help="Recompute every period, not only those silver changed since the last build.")] = False,
    no_gate: NoGateOption = False, profile: ProfileOption = None, warehouse: WarehouseOption = None,
) -> None:
    """Aggregate silver into company-period facts (private) and publish the trend cells by sector × region × week
    and month: constant-panel indices and growth, disclosure control, a new vintage for whatever changed.
    Recomputes only the periods from the earliest day silver changed since the last build; then gates gold."""
    from jobs.gold.build import build

    settings = _settings(profile, warehouse)
    spark = _spark(settings)
    console.print(build(spark, settings, full=full).line(), markup=False, highlight=False)
    if not no_gate:
        _gate(spark, settings, "gold")


@app.command()
def evaluate(
    truth: Annotated[Path, typer.Option(help="The sandbox's truth export (`groundswell sandbox truth`).")] = pipeline.SANDBOX_DIR / "truth",
    key: Annotated[str, typer.Option(help="Answer key: latent (the economy drawn from) or census (every company's true books).")] = "latent",
    profile: ProfileOption = None, warehouse: WarehouseOption = None, as_json: JsonOption = False,
) -> None:
    """Compare the published weekly indices with the sandbox's answer key per sector × region, beside a naive
    sum of everyone's revenue: growth correlations and index level error (0.01 = 1%)."""
    from jobs.gold import evaluate as scoring

    if key not in scoring.KEYS:
        raise _fail(f"--key {key}: use one of {', '.join(scoring.KEYS)}", 2)
    if not (truth / "latent_index.csv.gz").exists():
        raise _fail(f"no truth export in {truth}: run `groundswell sandbox truth` first", 2)
    settings = _settings(profile, warehouse)
    cells = scoring.score(_spark(settings), settings, truth, key)
    if as_json:
        print(json.dumps({"key": key, "cells": cells}))
        return
    table = Table("sector", "region", "contributors", "yoy corr", "wow corr", "level err", "naive yoy corr", "naive level err",
                  title=f"published weekly indices vs the {key} answer key")
    for cell in cells:
        table.add_row(cell["sector"], cell["region"], str(cell["contributors"]),
                      *[f"{cell[k]:.3f}" for k in ("yoy_corr", "wow_corr")], f"{cell['level_err']:.2%}",
                      f"{cell['naive_yoy_corr']:.3f}", f"{cell['naive_level_err']:.2%}")
    console.print(table)


@app.command()
def summary(
    truth: Annotated[Path, typer.Option(help="The sandbox's truth export, for the evaluate figures (skipped when missing).")] = pipeline.SANDBOX_DIR / "truth",
    chart: Annotated[Path, typer.Option(help="Where to write the PNG of the headline indices.")] = ROOT / ".reports" / "headline_indices.png",
    profile: ProfileOption = None, warehouse: WarehouseOption = None, as_json: JsonOption = False,
) -> None:
    """What the warehouse holds after a run: records per layer, open quarantine, published and suppressed cells,
    evaluate figures, Elasticsearch documents, the Data Docs, and a chart of the headline indices (PNG)."""
    from jobs.summary import summarize

    settings = _settings(profile, warehouse)
    found = summarize(_spark(settings), settings, truth, chart)
    if as_json:
        print(json.dumps(found.as_json(), default=str))
        return
    layers = Table("layer", "table", "rows", title=f"records per layer in {settings.warehouse}")
    for layer, counts in (("bronze", found.bronze), ("silver", found.silver)):
        for name, rows in sorted(counts.items()):
            layers.add_row(layer, name, str(rows))
    for grain, counted in found.gold.items():
        layers.add_row("gold", f"trend_sector_region_{grain}", f"{counted['published']} cells published, {counted['suppressed']} suppressed")
    for layer, waiting in sorted(found.quarantined.items()):
        layers.add_row("quarantine", layer, f"{waiting} open")
    console.print(layers)
    if found.evaluate:
        figures = Table("sector", "region", "contributors", "yoy corr", "level err", "naive level err", "latent yoy corr", "latent level err",
                        title="evaluate: published weekly indices vs the census answer key (every company's true books) and the latent economy")
        latent = {(c["sector"], c["region"]): c for c in found.evaluate["latent"]}
        for cell in found.evaluate["census"]:
            drawn = latent[(cell["sector"], cell["region"])]
            figures.add_row(cell["sector"], cell["region"], str(cell["contributors"]), f"{cell['yoy_corr']:.3f}", f"{cell['level_err']:.2%}",
                            f"{cell['naive_level_err']:.2%}", f"{drawn['yoy_corr']:.3f}", f"{drawn['level_err']:.2%}")
        console.print(figures)
    documents = ", ".join(f"{k} {n}" for k, n in found.documents.items()) if found.documents is not None else "Elasticsearch not reachable"
    console.print(f"Elasticsearch documents: {documents}", markup=False, highlight=False)
    console.print("Data Docs: " + ", ".join(f"{layer} {path}" for layer, path in found.data_docs.items()), markup=False, highlight=False)
    console.print(f"chart: {found.chart or 'no published weekly cells to draw'}", markup=False, highlight=False)


@app.command()
def lineage(
    table: Annotated[str, typer.Argument(help="trend_sector_region_week or trend_sector_region_month.")],
    sector: Annotated[str, typer.Option(help="The cell's sector.")],
    region: Annotated[str, typer.Option(help="The cell's region.")],
    period: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="The cell's period: its first day (a Monday, or the 1st).")],
    vintage: Annotated[Optional[str], typer.Option(help="A vintage of the cell (default: the current one).")] = None,
    sample: Annotated[int, typer.Option(help="Source record keys to show.")] = 10,
    profile: ProfileOption = None, warehouse: WarehouseOption = None,
) -> None:
    """What one published number rests on: its vintage and the table versions it read, the companies (tokenized),
    the documents, extraction runs and bronze versions behind it, and a sample of source record keys (JSON)."""
    from jobs.gold.lineage import LineageError
    from jobs.gold.lineage import lineage as trace

    grains = {"trend_sector_region_week": "week", "trend_sector_region_month": "month"}
    if table not in grains:
        raise _fail(f"table {table}: lineage is kept for {', '.join(grains)}", 2)
    settings = _settings(profile, warehouse)
    try:
        found = trace(_spark(settings), settings, grains[table], sector, region, period.date(), vintage, sample)
    except LineageError as exc:
        raise _fail(str(exc), 1) from None
    print(json.dumps(found, default=str, indent=2))


@app.command("index")
def index(
    rollback: Annotated[bool, typer.Option("--rollback", help="Move the aliases back to the publication before the live one.")] = False,
    profile: ProfileOption = None, warehouse: WarehouseOption = None,
) -> None:
    """Publish gold's disclosed trend cells, data health and quarantine counts into Elasticsearch as a new
    publication (new indices, aliases moved atomically, earlier ones kept); unchanged gold changes nothing."""
    from jobs.search import publish as search

    settings = _settings(profile, warehouse)
    try:
        summary = search.rollback(settings) if rollback else search.publish(_spark(settings), settings)
    except search.PublishError as exc:
        raise _fail(str(exc), 1) from None
    console.print(summary.line(), markup=False, highlight=False)


GrainOption = Annotated[str, typer.Option(help="week or month.")]
DateOption = Annotated[Optional[datetime], typer.Option(formats=["%Y-%m-%d"])]


def _search_index(profile: str | None, kind: str = "trends"):
    from jobs.search.publish import alias, client

    settings = _settings(profile)
    return client(settings), alias(settings, kind)


def _print_rows(rows: list[dict], columns: tuple[str, ...], title: str) -> None:
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*["" if row.get(c) is None else str(row[c]) for c in columns])
    console.print(table)


@search_app.command("trend")
def search_trend(
    sector: Annotated[str, typer.Argument(help="Sector code, e.g. retail.")],
    region: Annotated[str, typer.Argument(help="Region code, e.g. EU.")],
    grain: GrainOption = "week", start: Annotated[Optional[datetime], typer.Option("--from", formats=["%Y-%m-%d"], help="First period.")] = None,
    end: Annotated[Optional[datetime], typer.Option("--to", formats=["%Y-%m-%d"], help="Last period.")] = None,
    profile: ProfileOption = None, as_json: JsonOption = False,
) -> None:
    """The published cells of one sector × region series over a range of periods (withheld cells are gaps)."""
    from jobs.search.query import TREND_FIELDS, trend

    rows = trend(*_search_index(profile), sector, region, grain, start and start.date(), end and end.date())
    if as_json:
        print(json.dumps({"sector": sector, "region": region, "grain": grain, "cells": rows}))
        return
    _print_rows(rows, TREND_FIELDS, f"{sector} × {region} by {grain}")


@search_app.command("movers")
def search_movers(
    grain: GrainOption = "week", period: DateOption = None,
    top: Annotated[int, typer.Option(help="Series each way.")] = 5,
    by: Annotated[str, typer.Option(help="The growth to rank by: growth_usd, growth_cc, yoy_usd, yoy_cc, price_growth.")] = "growth_usd",
    profile: ProfileOption = None, as_json: JsonOption = False,
) -> None:
    """The series that rose and fell most in a period (default: the latest published)."""
    from jobs.search.query import movers

    found = movers(*_search_index(profile), grain, period and period.date(), top, by)
    if as_json:
        print(json.dumps(found))
        return
    for side in ("risers", "fallers"):
        _print_rows(found[side], ("sector", "region", by, "contributors"), f"{side} of {found['period']} by {by}")


@search_app.command("text")
def search_text(
    words: Annotated[list[str], typer.Argument(help="Words to look for in sector, region and product-category names.")],
    grain: GrainOption = "week", size: Annotated[int, typer.Option(help="Series to show.")] = 10,
    profile: ProfileOption = None, as_json: JsonOption = False,
) -> None:
    """Series whose sector, region or product-category names match the words, each with its latest cell."""
    from jobs.search.query import text

    found = text(*_search_index(profile), " ".join(words), grain, size)
    if as_json:
        print(json.dumps({"series": found}))
        return
    rows = [{**s, **{k: s["latest"].get(k) for k in ("period", "revenue_index_usd", "yoy_usd")}, "score": f"{s['score']:.2f}"} for s in found]
    _print_rows(rows, ("sector_name", "region_name", "period", "revenue_index_usd", "yoy_usd", "score"), f"series matching {' '.join(words)!r}")


@app.command("normalize-file")
def normalize_file(
    payload: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A raw API response or export (JSON), envelope and all.")],
    system: Annotated[str, typer.Option(help="The source system the file came from (shopify, ...).")],
    entity: Annotated[str, typer.Option(help="The canonical entity to map it to (sales_order, customer, ...).")],
    profile: ProfileOption = None, warehouse: WarehouseOption = None,
) -> None:
    """Print the canonical records (JSON lines) one raw file becomes, with the problems that would quarantine them."""
    from jobs.pii import pii_key
    from jobs.silver import fx
    from jobs.silver.files import FileError, mapping_for
    from jobs.silver.files import normalize_file as run_normalize_file

    settings = _settings(profile, warehouse)
    try:
        mapping_for(system, entity)
        records = run_normalize_file(_spark(settings), fx.uri(settings), system, entity, payload, pii_key(settings))
    except FileError as exc:
        raise _fail(str(exc), 2) from None
    for record in records:
        typer.echo(json.dumps(record, sort_keys=True))


def _selection(kind: str | None, rule: str | None, system: str | None, since: datetime | None, statuses: tuple[str, ...]):
    from jobs.ops.quarantine import KINDS, Selection

    if kind is not None and kind not in KINDS:
        raise _fail(f"--kind {kind!r}: use one of {', '.join(KINDS)}", 2)
    return Selection(kind=kind, rule=rule, system=system, since=_utc(since) if since else None, statuses=statuses)


KindOption = Annotated[Optional[str], typer.Option(help="parse, contract, drift, mapping or expectation.")]
RuleOption = Annotated[Optional[str], typer.Option(help="A rule ('type:TotalAmt') or its prefix ('type').")]
OneSystemOption = Annotated[Optional[str], typer.Option(help="Only this source system.")]
SinceOption = Annotated[Optional[datetime], typer.Option(help="Only rows first seen at or after this instant (UTC).")]


@app.command()
def replay(
    kind: KindOption = None, rule: RuleOption = None, system: OneSystemOption = None, since: SinceOption = None,
    profile: ProfileOption = None, warehouse: WarehouseOption = None,
) -> None:
    """Re-process quarantined records (open, or approved by a reviewer) after a fix; replaying twice changes nothing.

    Bronze rejections are decided again with today's contracts; silver rejections are mapped again with today's
    mappings and FX rates (records bronze admits now reach silver at the next normalize)."""
    from jobs.bronze.ingest import replay as replay_bronze
    from jobs.ops.review import mark
    from jobs.silver.build import replay_and_derive

    settings = _settings(profile, warehouse)
    selection = _selection(kind, rule, system, since, ("open", "approved"))
    spark = _spark(settings)
    if not (kind or rule or system or since):
        mark(settings, "replayed", datetime.now(timezone.utc))  # everything decided before now is applied by this run
    console.print(f"bronze: {replay_bronze(spark, settings, selection).line()}", markup=False, highlight=False)
    console.print(f"silver: {replay_and_derive(spark, settings, selection).line()}", markup=False, highlight=False)


@review_app.command("list")
def review_list(
    status: Annotated[str, typer.Option(help="open, approved, rejected or all.")] = "open",
    profile: ProfileOption = None, warehouse: WarehouseOption = None, as_json: JsonOption = False,
) -> None:
    """Review items (drifts, uncertain entity matches), and quarantined records grouped by layer, kind, system and rule."""
    from pyspark.sql import functions as F

    from jobs.ops import quarantine, review

    settings = _settings(profile, warehouse)
    spark = _spark(settings)
    items = review.items(spark, settings).toDF()
    rows = quarantine.table(spark, settings).toDF()
    if status != "all":
        items, rows = items.where(F.col("status") == status), rows.where(F.col("status") == status)
    drift = [r.asDict() for r in items.orderBy("opened_at", "review_id").collect()]
    groups = [r.asDict() for r in rows.groupBy("layer", "kind", "system", "rule", "status")
              .agg(F.count(F.lit(1)).alias("records"), F.min("first_seen").alias("oldest")).orderBy("layer", "kind", "system", "rule").collect()]
    if as_json:
        print(json.dumps({"items": drift, "quarantine": groups}, default=str))
        return
    table = Table("review id", "kind", "system/stream", "change", "contract", "status", "opened", title="review items")
    for i in drift:
        table.add_row(i["review_id"], i["kind"], f"{i['system']}/{i['stream']}", i["subject"], f"v{i['contract_version']}" if i["contract_version"] else "", i["status"], str(i["opened_at"]))
    console.print(table)
    table = Table("layer", "kind", "system", "rule", "status", "records", "oldest", title="quarantine")
    for g in groups:
        table.add_row(g["layer"], g["kind"], g["system"], g["rule"], g["status"], str(g["records"]), str(g["oldest"]))
    console.print(table)


@review_app.command("show")
def review_show(
    target: Annotated[str, typer.Argument(help="A review item id (r-...) or a quarantine id.")],
    profile: ProfileOption = None, warehouse: WarehouseOption = None,
) -> None:
    """One review item or quarantined record, with its payload (PII tokenized) and its decisions."""
    from pyspark.sql import functions as F

    from jobs.ops import quarantine, review

    settings = _settings(profile, warehouse)
    spark = _spark(settings)
    found = [r.asDict() for r in review.items(spark, settings).toDF().where(F.col("review_id") == target).collect()]
    if not found:
        found = [r.asDict() for r in quarantine.table(spark, settings).toDF().where(F.col("quarantine_id") == target).collect()]
    if not found:
        raise _fail(f"no review item or quarantined record {target}: `groundswell review list` shows them", 1)
    shown = found[0]
    if shown.get("kind") == review.MATCH_KIND:
        from jobs.silver.master import pair_records

        shown["records"] = pair_records(spark, settings, shown["stream"], shown["subject"])
    elif "review_id" in shown:
        waiting = quarantine.table(spark, settings).toDF().where(
            (F.col("kind") == "drift") & (F.col("rule") == shown["subject"]) & (F.col("system") == shown["system"]) & (F.col("stream") == shown["stream"]))
        shown["records"] = waiting.count()
        example = waiting.select("payload_ref").orderBy("payload_ref").first()
        shown["example"] = review.show_payload(settings, example["payload_ref"]) if example else None
    elif shown["layer"] == "bronze" and shown["payload_ref"].startswith("landing/"):
        shown["payload"] = review.show_payload(settings, shown["payload_ref"])
    decisions = review.decisions(spark, settings).toDF().where(F.col("target_id") == target).orderBy("decided_at")
    shown["decisions"] = [r.asDict() for r in decisions.collect()]
    print(json.dumps(shown, default=str, indent=2))


ReasonOption = Annotated[str, typer.Option(help="Why (recorded in the audit table).")]
ByOption = Annotated[Optional[str], typer.Option(help="Who decides (default: the login name).")]


def _decide(decision: str, targets: list[str] | None, reason: str, by: str | None, kind: str | None, rule: str | None,
            system: str | None, profile: str | None, warehouse: str | None) -> None:
    from jobs.ops import quarantine, review

    settings = _settings(profile, warehouse)
    spark = _spark(settings)
    try:
        choice = review.Decision(decision, reason, by or "")
        chosen = list(targets or [])
        if kind or rule or system:
            selected = quarantine.select(spark, settings, _selection(kind, rule, system, None, ("open",)))
            chosen += [r["quarantine_id"] for r in selected.select("quarantine_id").collect()]
        outcomes = review.decide(spark, settings, chosen, choice)
    except review.ReviewError as exc:
        raise _fail(str(exc), 1) from None
    for outcome in outcomes:
        console.print(f"{outcome.decision_id}: {'; '.join(outcome.effects)}", markup=False, highlight=False)
    console.print("run `groundswell replay` to bring approved records in, `groundswell normalize` to apply match decisions",
                  markup=False, highlight=False)


TargetsArgument = Annotated[Optional[list[str]], typer.Argument(help="Review item ids (r-...) and/or quarantine ids.")]


@review_app.command("approve")
def review_approve(
    targets: TargetsArgument = None, reason: ReasonOption = ..., by: ByOption = None,
    kind: KindOption = None, rule: RuleOption = None, system: OneSystemOption = None,
    profile: ProfileOption = None, warehouse: WarehouseOption = None,
) -> None:
    """Approve: a drift writes the contract's next version; a match pair is linked from the next normalize on;
    quarantined records are admitted as they are by the next replay."""
    _decide("approve", targets, reason, by, kind, rule, system, profile, warehouse)


@review_app.command("reject")
def review_reject(
    targets: TargetsArgument = None, reason: ReasonOption = ..., by: ByOption = None,
    kind: KindOption = None, rule: RuleOption = None, system: OneSystemOption = None,
    profile: ProfileOption = None, warehouse: WarehouseOption = None,
) -> None:
    """Reject: a drift's records, or the quarantined records, are discarded for good (never replayed); a match pair
    is kept apart from the next normalize on."""
    _decide("reject", targets, reason, by, kind, rule, system, profile, warehouse)


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
