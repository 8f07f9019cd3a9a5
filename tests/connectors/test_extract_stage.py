"""`groundswell run --to extract` on a small sandbox: every system's connections land, and a second run up to
the same instant (the sandbox's clock has not moved) lands nothing: every cursor already reached it."""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from jobs.cli import app

pytestmark = pytest.mark.slow


def _manifests(warehouse):
    return [orjson.loads(p.read_bytes()) for p in (warehouse / "landing").rglob("_manifest.json")]


def test_given_a_sandbox_when_the_extract_stage_runs_twice_then_all_systems_land_and_the_rerun_lands_nothing(tmp_path):
    sandbox, warehouse = tmp_path / "sandbox", tmp_path / "warehouse"
    generated = CliRunner().invoke(app, ["sandbox", "generate", "--out", str(sandbox), "--companies", "40", "--start", "2026-01-05", "--end", "2026-02-15"])
    assert generated.exit_code == 0, generated.output

    first = CliRunner().invoke(app, ["run", "--to", "extract", "--sandbox", str(sandbox), "--warehouse", str(warehouse)])
    assert first.exit_code == 0, first.output
    manifests = _manifests(warehouse)
    assert {m["system"] for m in manifests} == {"shopify", "quickbooks", "netsuite", "odoo", "xero", "businesscentral", "csv", "x12"}
    assert all(not m["errors"] for m in manifests)
    landed_first = sum(m["records"] for m in manifests)

    second = CliRunner().invoke(app, ["run", "--to", "extract", "--sandbox", str(sandbox), "--warehouse", str(warehouse)])
    assert second.exit_code == 0, second.output
    assert landed_first > 1000
    assert "0 records" in second.output
    assert len(_manifests(warehouse)) == len(manifests)
