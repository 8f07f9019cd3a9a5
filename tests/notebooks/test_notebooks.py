"""Every notebook of notebooks/ executes top to bottom (papermill, a real Jupyter kernel running its own Spark
over real Delta tables) against gold built on the session's small sandbox, with the parameters a user would
set, and writes its figures; the review notebook's decision lands in the same audit table as the CLI's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import papermill
import pytest
from pyspark.sql import functions as F

from jobs.ops import quarantine, review
from jobs.settings import ROOT, load_settings

pytestmark = pytest.mark.slow


def _execute(name: str, folder: Path, **parameters) -> dict:
    """Run notebooks/`name` with `parameters` (figures written to `folder`/figures); returns the executed notebook."""
    executed = folder / name
    papermill.execute_notebook(str(ROOT / "notebooks" / name), str(executed), parameters={"figures": str(folder / "figures"), **parameters},
                               kernel_name="python3", cwd=str(folder), execution_timeout=600, progress_bar=False)
    return json.loads(executed.read_text())


def _images(notebook: dict) -> int:
    return sum("image/png" in output.get("data", {}) for cell in notebook["cells"] for output in cell.get("outputs", []))


def _figures(folder: Path, *names: str) -> None:
    for name in names:
        assert (folder / "figures" / name).stat().st_size > 10_000, f"{name} missing or blank"


def test_given_gold_when_the_trend_explorer_runs_then_it_draws_indices_growth_and_the_naive_comparison(published, tmp_path):
    notebook = _execute("trend_explorer.ipynb", tmp_path, warehouse=str(published))
    _figures(tmp_path, "trend_indices.png", "trend_yoy.png", "trend_vs_naive.png")
    assert _images(notebook) >= 3


def test_given_gold_when_the_lineage_notebook_runs_then_it_traces_a_published_number(published, tmp_path):
    notebook = _execute("lineage_drilldown.ipynb", tmp_path, warehouse=str(published))
    _figures(tmp_path, "lineage_cell.png")
    printed = "".join("".join(o.get("text", "")) for cell in notebook["cells"] for o in cell.get("outputs", []))
    assert "companies (tokens)" in printed and "extraction runs" in printed


def test_given_quarantined_records_when_the_review_notebook_rejects_one_then_the_decision_is_audited(spark, published, tmp_path):
    shutil.copytree(published, tmp_path / "warehouse")
    settings = load_settings("local", warehouse=str(tmp_path / "warehouse"))
    target = quarantine.table(spark, settings).toDF().where(F.col("status") == "open").orderBy("quarantine_id").first()["quarantine_id"]

    notebook = _execute("data_quality_review.ipynb", tmp_path, warehouse=str(tmp_path / "warehouse"), reject=[target],
                        reason="poison record: not a sale", reviewer="reviewer@test")

    _figures(tmp_path, "quarantine_depth.png", "match_pairs.png")
    assert _images(notebook) >= 2
    audited = review.decisions(spark, settings).toDF().where(F.col("target_id") == target).collect()
    assert [(r["decision"], r["decided_by"], r["reason"], r["target_kind"]) for r in audited] == \
        [("reject", "reviewer@test", "poison record: not a sale", "quarantine")]
    assert quarantine.table(spark, settings).toDF().where(F.col("quarantine_id") == target).first()["status"] == "rejected"
