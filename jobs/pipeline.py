"""The pipeline's stages, in order, defined once: `groundswell run` and the Airflow DAG are both derived
from STAGES.

A stage names its task by import path so that listing stages (the CLI's help, the scheduler parsing the DAG)
never imports Spark; a stage whose task is None is not built yet and is reported as pending.
"""

from __future__ import annotations

import importlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from jobs.settings import ROOT, Settings

SANDBOX_DIR = ROOT / ".sandbox"


@dataclass(frozen=True)
class RunContext:
    """What every stage of one pipeline run shares."""

    settings: Settings
    run_id: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6])
    sandbox_dir: Path = SANDBOX_DIR  # the sandbox to extract from when no registry is given
    sandbox_config: Path | None = None  # the economy to generate there when it has not been generated yet
    registry: Path | None = None  # real tenants' connections; None = the sandbox's


StageTask = Callable[[RunContext], str]
"""Runs a stage; returns a one-line summary of what it did. Raises to fail the run."""


@dataclass(frozen=True)
class Stage:
    name: str
    does: str
    task: str | None  # "module:function", or None while the stage is not built

    def load(self) -> StageTask:
        if self.task is None:
            raise LookupError(f"stage {self.name} is not built yet")
        module, _, function = self.task.partition(":")
        return getattr(importlib.import_module(module), function)


STAGES: tuple[Stage, ...] = (
    Stage("extract", "pull each connection's new records into landing files", "jobs.extract_landing:stage"),
    Stage("ingest", "landing files -> bronze Delta tables, contracts and drift checked", "jobs.bronze_ingest:stage"),
    Stage("gate-bronze", "Great Expectations gate on the new bronze rows", "jobs.gate:bronze"),
    Stage("normalize", "bronze -> silver canonical entities (FX, master data, reconciliation)", "jobs.silver_normalize:stage"),
    Stage("gate-silver", "Great Expectations gate on the changed silver rows", "jobs.gate:silver"),
    Stage("build-gold", "silver -> gold trend cells on the constant panel, disclosure control", "jobs.gold_build:stage"),
    Stage("gate-gold", "Great Expectations gate on the new gold vintage", "jobs.gate:gold"),
    Stage("index", "publish gold cells, data health and quarantine counts to Elasticsearch", "jobs.index_search:stage"),
)
STAGE_NAMES = tuple(stage.name for stage in STAGES)


def select(first: str | None = None, last: str | None = None) -> tuple[Stage, ...]:
    """Stages from `first` to `last` inclusive, in pipeline order."""
    for name in (first, last):
        if name is not None and name not in STAGE_NAMES:
            raise ValueError(f"unknown stage {name!r}: stages are {', '.join(STAGE_NAMES)}")
    start = STAGE_NAMES.index(first) if first else 0
    stop = STAGE_NAMES.index(last) if last else len(STAGES) - 1
    if start > stop:
        raise ValueError(f"--from {first} comes after --to {last}: stages run in the order {', '.join(STAGE_NAMES)}")
    return STAGES[start : stop + 1]


@dataclass(frozen=True)
class StageOutcome:
    stage: str
    state: Literal["succeeded", "failed", "pending"]
    seconds: float
    summary: str


class StageFailed(Exception):
    def __init__(self, outcome: StageOutcome) -> None:
        super().__init__(f"stage {outcome.stage} failed: {outcome.summary}")
        self.outcome = outcome


def run(context: RunContext, stages: tuple[Stage, ...]) -> Iterator[StageOutcome]:
    """Run `stages` in order, yielding each outcome as it ends; the first failure stops the run."""
    for stage in stages:
        if stage.task is None:
            yield StageOutcome(stage.name, "pending", 0.0, "not built yet")
            continue
        started = time.monotonic()
        try:
            summary = stage.load()(context)
        except Exception as exc:  # the stage's own error, reported with its stage name
            raise StageFailed(StageOutcome(stage.name, "failed", time.monotonic() - started, f"{type(exc).__name__}: {exc}")) from exc
        yield StageOutcome(stage.name, "succeeded", time.monotonic() - started, summary)
