"""Shared fixtures: real local servers on free ports, one SparkSession for the whole run, and one small
landed sandbox (16 companies over six weeks crossing the sandbox's drift day, 1% poison records, extracted
once per session through the real connectors and emulators) with its clean bronze ingest, the silver built
on it the way an operator runs it, and the sandbox's truth export to score them against, for the bronze,
silver and gold tests: tests that change a warehouse work on their own copy.

Test servers get their own state folder and ports, so a developer's `groundswell services up` is never touched.
"""

from __future__ import annotations

import shutil
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from connectors.sandbox.model import Record
from connectors.sandbox.store import SandboxStore
from connectors.sandbox.truth import export_truth
from jobs.bronze.ingest import IngestSummary
from jobs.cli import app
from jobs.settings import ROOT, Settings, load_settings

if TYPE_CHECKING:
    from jobs.silver.build import SilverSummary


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def services_env() -> Iterator[dict[str, str]]:
    """Environment pointing settings at this run's own servers (state under the repo, readable by the
    Elasticsearch user, unlike pytest's private tmp folders)."""
    state = ROOT / ".test-services" / uuid.uuid4().hex[:8]
    s3_port, es_port = _free_port(), _free_port()
    env = {
        "GROUNDSWELL_SERVICES__STATE_DIR": str(state),
        "GROUNDSWELL_SERVICES__ELASTICSEARCH_PORT": str(es_port),
        "GROUNDSWELL_ELASTICSEARCH__URL": f"http://127.0.0.1:{es_port}",
        "GROUNDSWELL_SERVICES__S3_PORT": str(s3_port),
        "GROUNDSWELL_S3__ENDPOINT": f"http://127.0.0.1:{s3_port}",
        "GROUNDSWELL_S3__ACCESS_KEY": f"file:{state}/s3/access_key",
        "GROUNDSWELL_S3__SECRET_KEY": f"file:{state}/s3/secret_key",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        yield env
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="session")
def services(services_env: dict[str, str]) -> Iterator[Settings]:
    """Elasticsearch and S3 started for this run and stopped after it; yields settings that reach them."""
    from jobs import services as local

    settings = load_settings("s3")
    try:
        local.up(settings)
        yield settings
    finally:
        local.down(settings)


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("warehouse")


@pytest.fixture(scope="session")
def spark(services: Settings, warehouse: Path):
    """One local SparkSession able to reach both the local warehouse folder and the test S3 server."""
    from jobs.spark import spark_session

    session = spark_session(load_settings("s3", warehouse=str(warehouse)))
    yield session
    session.stop()


@dataclass(frozen=True)
class LandedSandbox:
    sandbox: Path
    landing: Path  # a warehouse holding only landing/ and _state/ (copy it before ingesting)

    def versions(self) -> list[Record]:
        store = SandboxStore(self.sandbox / "sandbox.db")
        try:
            return list(store.all_versions())
        finally:
            store.close()

    def warehouse(self, folder: Path) -> Settings:
        """A fresh warehouse at `folder` with this landing data and the extraction's cursors in it."""
        for part in ("landing", "_state"):
            shutil.copytree(self.landing / part, folder / part)
        return load_settings("local", warehouse=str(folder))


@dataclass(frozen=True)
class IngestedWarehouse:
    folder: Path
    settings: Settings
    summary: IngestSummary

    def copy(self, folder: Path) -> Settings:
        """A working copy at `folder`: the same tables an ingest of the same landing zone writes."""
        shutil.copytree(self.folder, folder, dirs_exist_ok=True)
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


@pytest.fixture(scope="session")
def ingested(spark, landed: LandedSandbox, tmp_path_factory: pytest.TempPathFactory) -> IngestedWarehouse:
    """One clean bronze ingest of the landed sandbox, read by many tests and changed by none."""
    from jobs.bronze.ingest import ingest

    folder = tmp_path_factory.mktemp("bronze-clean")
    settings = landed.warehouse(folder)
    return IngestedWarehouse(folder, settings, ingest(spark, settings))


@dataclass(frozen=True)
class SilverRun:
    folder: Path
    settings: Settings
    summary: SilverSummary


@pytest.fixture(scope="session")
def silver(spark, ingested: IngestedWarehouse, tmp_path_factory: pytest.TempPathFactory) -> SilverRun:
    """Silver on the clean ingest, as an operator builds it: approve the drift day's breaking changes (the
    sandbox's are all genuine), replay them, then normalize, resolve master data and reconcile."""
    from pyspark.sql import functions as F

    from jobs.bronze.ingest import replay as replay_bronze
    from jobs.ops import review
    from jobs.ops.quarantine import Selection
    from jobs.silver.build import build

    folder = tmp_path_factory.mktemp("silver")
    settings = ingested.copy(folder)
    drift = review.items(spark, settings).toDF().where((F.col("kind") == "drift") & (F.col("status") == "open")).collect()
    approval = review.Decision("approve", "sandbox drift day: the sources really changed", by="tests")
    for item in drift:
        review.decide_item(spark, settings, item["review_id"], approval)
    replay_bronze(spark, settings, Selection(kind="drift"))
    return SilverRun(folder, settings, build(spark, settings))


@pytest.fixture(scope="session")
def truth(landed: LandedSandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("truth")
    export_truth(landed.sandbox / "sandbox.db", folder)
    return folder
