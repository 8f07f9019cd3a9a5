"""A small landed sandbox for the bronze tests: 16 companies over six weeks that cross the sandbox's drift
day (2026-02-02, QuickBooks invoices: TotalAmt retyped to string, ProjectRef added), with 1% poison
records, extracted once per session through the real connectors and emulators."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.sandbox.model import Record
from connectors.sandbox.store import SandboxStore
from jobs.cli import app
from jobs.settings import ROOT, Settings, load_settings
from jobs.tables import exists, table_checksum


@dataclass(frozen=True)
class LandedSandbox:
    sandbox: Path
    landing: Path  # a warehouse holding only landing/ (copy it before ingesting)

    def versions(self) -> list[Record]:
        store = SandboxStore(self.sandbox / "sandbox.db")
        try:
            return list(store.all_versions())
        finally:
            store.close()

    def warehouse(self, folder: Path) -> Settings:
        """A fresh warehouse at `folder` with this landing data in it."""
        shutil.copytree(self.landing / "landing", folder / "landing")
        return load_settings("local", warehouse=str(folder))


@pytest.fixture(scope="session")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LandedSandbox]:
    folder = tmp_path_factory.mktemp("landed")
    config = folder / "sandbox.toml"
    config.write_text((ROOT / "conf" / "sandbox.toml").read_text().replace("\npoison = 0.002", "\npoison = 0.01"))
    runner = CliRunner()
    generated = runner.invoke(app, ["sandbox", "generate", "--config", str(config), "--out", str(folder / "sandbox"),
                                    "--companies", "16", "--start", "2026-01-05", "--end", "2026-02-15"])
    assert generated.exit_code == 0, generated.output
    extracted = runner.invoke(app, ["run", "--to", "extract", "--sandbox", str(folder / "sandbox"), "--warehouse", str(folder / "warehouse")])
    assert extracted.exit_code == 0, extracted.output
    yield LandedSandbox(folder / "sandbox", folder / "warehouse")


TABLES = ("ops/quarantine", "ops/review_items", "ops/review_decisions", "ops/contract_drift", "ops/ingested_runs")


def checksums(spark, warehouse: Path) -> dict[str, str]:
    """Content checksum of every Delta table of a warehouse (bronze tables and the ops tables)."""
    uris = [str(p) for p in sorted((warehouse / "bronze").glob("*"))] + [str(warehouse / t) for t in TABLES]
    return {Path(uri).relative_to(warehouse).as_posix(): table_checksum(spark, uri) for uri in uris if exists(spark, uri)}
