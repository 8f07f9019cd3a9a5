"""Notebooks are kept in git as code, not results: no outputs, no execution counts, one parameters cell."""

from __future__ import annotations

import json

import pytest

from jobs.settings import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_three_notebooks_are_there():
    assert [n.name for n in NOTEBOOKS] == ["data_quality_review.ipynb", "lineage_drilldown.ipynb", "trend_explorer.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_given_a_notebook_in_git_then_its_outputs_are_stripped_and_it_has_one_parameters_cell(path):
    cells = json.loads(path.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code), "strip the outputs before committing"
    assert [c for c in code if "parameters" in c["metadata"].get("tags", [])] == [code[0]]
