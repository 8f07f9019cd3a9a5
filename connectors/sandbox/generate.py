"""Generate a sandbox: the economy of conf/sandbox.toml, company by company, into one SQLite store.

Each company draws from its own random stream (seed, company index), so the records of a company do
not depend on which others are generated or in which process; generation holds one company's records
at a time.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from multiprocessing.pool import AsyncResult
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from connectors.sandbox.books import simulate
from connectors.sandbox.config import SandboxConfig, parse_config
from connectors.sandbox.economy import STREAM_COMPANY, Economy, build_companies, build_economy, rng_for
from connectors.sandbox.model import Company, Record
from connectors.sandbox.render import company_flow, render
from connectors.sandbox.store import SandboxStore, encode_record

STORE_NAME = "sandbox.db"
_IN_FLIGHT_PER_WORKER = 4


def with_overrides(config: SandboxConfig, *, seed: int | None = None, companies: int | None = None,
                   start: date | None = None, end: date | None = None) -> SandboxConfig:
    """The config with command-line overrides applied, validated again as a whole."""
    overrides = {"seed": seed, "companies": companies, "start": start, "end": end}
    raw = config.model_dump() | {k: v for k, v in overrides.items() if v is not None}
    return parse_config(raw, source="sandbox config with overrides")


def company_records(company: Company, economy: Economy, config: SandboxConfig) -> list[Record]:
    """Every record version of one company, in every system it runs."""
    rng = rng_for(config.seed, STREAM_COMPANY, int(company.company_id[1:]))
    books = simulate(company, economy, config, company_flow(company), rng)
    return render(company, books, config, rng)


class _CompanyGenerator:
    """What a process needs to generate any company of a config: rebuilt, not shipped, in workers."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.economy = build_economy(config)
        self.panel = build_companies(config)

    def rows(self, index: int) -> list[tuple]:
        """One company's records, encoded for the store."""
        # Records are acyclic: the cyclic collector would only burn time rescanning them.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return [encode_record(r) for r in company_records(self.panel[index], self.economy, self.config)]
        finally:
            if collecting:
                gc.enable()


_worker: _CompanyGenerator | None = None  # inherited by forked workers


def _worker_rows(index: int) -> list[tuple]:
    assert _worker is not None, "generator worker forked without an economy"
    return _worker.rows(index)


@contextmanager
def _company_rows(generator: _CompanyGenerator, workers: int) -> Iterator[Iterator[list[tuple]]]:
    """Each company's encoded rows, in company order, from `workers` forked processes (forked before
    the store is opened or a progress thread runs). A few companies per worker are in flight: enough
    that a large company does not leave the other workers idle, few enough to bound memory however
    slow the writer is."""
    count = len(generator.panel)
    if workers <= 1:
        yield (generator.rows(index) for index in range(count))
        return
    global _worker
    _worker = generator
    try:
        pool = multiprocessing.get_context("fork").Pool(workers)
    finally:
        _worker = None
    with pool:

        def in_order() -> Iterator[list[tuple]]:
            pending: deque[AsyncResult[list[tuple]]] = deque()
            for index in range(count):
                pending.append(pool.apply_async(_worker_rows, (index,)))
                if len(pending) >= _IN_FLIGHT_PER_WORKER * workers:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()

        yield in_order()


def generate(config: SandboxConfig, out: Path, *, seed: int | None = None, companies: int | None = None,
             start: date | None = None, end: date | None = None, progress: bool = True,
             workers: int | None = None) -> Path:
    """Write `<out>/sandbox.db` and return its path. It is built under another name and renamed when
    complete, so a reader never sees half a sandbox and a failed run leaves the previous one intact.

    `workers` processes generate companies while this one writes; default: one per CPU (at most 4),
    or none for a panel too small to repay starting them.
    """
    config = with_overrides(config, seed=seed, companies=companies, start=start, end=end)
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if config.companies >= 50 else 1
    path = Path(out) / STORE_NAME
    partial = path.with_name(f"{STORE_NAME}.partial")
    partial.unlink(missing_ok=True)
    generator = _CompanyGenerator(config)
    with _company_rows(generator, workers) as company_rows:
        store = SandboxStore(partial, readonly=False)
        try:
            _write(store, generator, company_rows, progress)
        finally:
            store.close()
    partial.replace(path)
    return path


def _write(store: SandboxStore, generator: _CompanyGenerator, company_rows: Iterator[list[tuple]],
           progress: bool) -> None:
    config = generator.config
    store.write_companies(generator.panel)
    store.write_fx_rates(
        (generator.economy.day(i), currency, float(rates[i]))
        for currency, rates in sorted(generator.economy.fx.items())
        for i in range(generator.economy.days)
    )
    total = 0
    with _progress(progress) as bar:
        task = bar.add_task("generating companies", total=len(generator.panel))
        for rows in company_rows:
            store.write_rows(rows)
            total += len(rows)
            bar.advance(task)
    for key, value in {
        "seed": str(config.seed), "start": config.start.isoformat(), "end": config.end.isoformat(),
        "companies": str(len(generator.panel)), "records": str(total),
        "config": json.dumps(config.model_dump(mode="json")),  # key order matters: it orders the random draws
    }.items():
        store.set_meta(key, value)
    store.finish()


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(), disable=not enabled,
    )
