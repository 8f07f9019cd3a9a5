"""The stage list is defined once and drives `groundswell run`."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from jobs import pipeline
from jobs.cli import app
from jobs.settings import load_settings


def test_the_stages_are_in_pipeline_order():
    assert pipeline.STAGE_NAMES == (
        "extract", "ingest", "gate-bronze", "normalize", "gate-silver", "build-gold", "gate-gold", "index",
    )


def test_given_from_and_to_when_selected_then_the_inclusive_range_in_order_is_returned():
    assert [s.name for s in pipeline.select("gate-bronze", "gate-silver")] == ["gate-bronze", "normalize", "gate-silver"]
    assert [s.name for s in pipeline.select(last="ingest")] == ["extract", "ingest"]


@pytest.mark.parametrize(("first", "last", "message"), [("bronze", None, "unknown stage 'bronze'"), ("index", "extract", "comes after")])
def test_given_a_bad_range_when_selected_then_the_error_says_why(first, last, message):
    with pytest.raises(ValueError, match=message):
        pipeline.select(first, last)


def _ok(context):
    return f"wrote to {context.settings.warehouse}"


def _boom(context):
    raise RuntimeError("landing folder unreadable")


def test_given_a_failing_stage_when_run_then_later_stages_do_not_run_and_the_failure_names_the_stage(tmp_path):
    stages = (
        pipeline.Stage("one", "", f"{__name__}:_ok"),
        pipeline.Stage("two", "", None),
        pipeline.Stage("three", "", f"{__name__}:_boom"),
        pipeline.Stage("four", "", f"{__name__}:_ok"),
    )
    context = pipeline.RunContext(load_settings(warehouse=str(tmp_path)))
    seen = []

    with pytest.raises(pipeline.StageFailed, match="stage three failed: RuntimeError: landing folder unreadable"):
        for outcome in pipeline.run(context, stages):
            seen.append((outcome.stage, outcome.state, outcome.summary))

    assert seen == [("one", "succeeded", f"wrote to {tmp_path}"), ("two", "pending", "not built yet")]


def test_the_cli_help_lists_every_command():
    result = CliRunner().invoke(app, ["--help"])

    assert result.exit_code == 0
    for command in ("run", "stages", "settings", "services"):
        assert command in result.stdout
