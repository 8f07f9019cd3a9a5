"""One silver warehouse shared by the silver tests, built the way an operator runs it: ingest the landed
sandbox, approve its drift day's breaking changes (the sandbox's are all genuine), replay them, then build
silver (normalize, master data, reconciliation). Also the sandbox's truth export to score it against."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from connectors.sandbox.truth import export_truth
from jobs.bronze.ingest import ingest
from jobs.bronze.ingest import replay as replay_bronze
from jobs.ops import review
from jobs.ops.quarantine import Selection
from jobs.settings import Settings
from jobs.silver.build import SilverSummary, build


@dataclass(frozen=True)
class SilverRun:
    folder: Path
    settings: Settings
    summary: SilverSummary


@pytest.fixture(scope="session")
def silver(spark, landed, tmp_path_factory) -> SilverRun:
    folder = tmp_path_factory.mktemp("silver")
    settings = landed.warehouse(folder)
    ingest(spark, settings)
    drift = review.items(spark, settings).toDF().where((F.col("kind") == "drift") & (F.col("status") == "open")).collect()
    approval = review.Decision("approve", "sandbox drift day: the sources really changed", by="tests")
    for item in drift:
        review.decide_item(spark, settings, item["review_id"], approval)
    replay_bronze(spark, settings, Selection(kind="drift"))
    return SilverRun(folder, settings, build(spark, settings))


@pytest.fixture(scope="session")
def truth(landed, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("truth")
    export_truth(landed.sandbox / "sandbox.db", folder)
    return folder
