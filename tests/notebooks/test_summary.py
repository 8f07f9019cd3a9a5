"""`groundswell summary` (the end of `make demo`) over a published warehouse: records per layer, open
quarantine, published and suppressed cells, the evaluate figures, Elasticsearch documents and a PNG chart."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from jobs.cli import app

pytestmark = pytest.mark.slow


def test_given_a_published_warehouse_when_summarized_then_every_layer_the_figures_and_the_chart_are_reported(
        published, landed, truth, services, tmp_path, monkeypatch):
    monkeypatch.setenv("GROUNDSWELL_ELASTICSEARCH__PREFIX", "summarytest")  # nothing published under it yet
    chart = tmp_path / "headline.png"
    result = CliRunner().invoke(app, ["summary", "--warehouse", str(published), "--truth", str(truth), "--chart", str(chart), "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout.strip().splitlines()[-1])

    systems = {p.name for p in (landed.landing / "landing").iterdir() if not p.name.startswith("_")}
    assert set(found["bronze"]) == systems and all(rows > 0 for rows in found["bronze"].values())
    assert found["silver"]["invoice"] > 0 and found["silver"]["customer"] > 0
    assert found["quarantined"]["bronze"] > 0  # the sandbox's poison records
    assert found["gold"]["week"]["published"] > 0 and "month" in found["gold"]  # six weeks hold no complete month
    assert set(found["evaluate"]) == {"latent", "census"}
    assert found["evaluate"]["census"] and {"sector", "region", "yoy_corr", "level_err", "naive_level_err"} <= set(found["evaluate"]["census"][0])
    assert found["documents"] == {"summarytest-trends": 0, "summarytest-health": 0, "summarytest-quarantine": 0}
    assert found["data_docs"]["gold"] == f"{published}/ops/data_docs/gold/index.html"
    assert found["chart"] == str(chart) and chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 20_000
