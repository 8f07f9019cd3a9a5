"""The same session code under spark-submit: master and jars from the command line, Delta from our session."""

from __future__ import annotations

import subprocess
from pathlib import Path

from jobs.settings import load_settings
from jobs.spark import submit_command


def test_given_a_job_when_spark_submitted_then_it_writes_delta_with_the_submitted_master(spark, tmp_path, monkeypatch):
    monkeypatch.setenv("GROUNDSWELL_SPARK__MASTER", "local[1]")
    table = tmp_path / "probe"
    command, env = submit_command(load_settings(), Path(__file__).with_name("spark_submit_probe.py"), str(table))

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr[-3000:]
    assert "master=local[1]" in done.stdout
    assert spark.read.format("delta").load(str(table)).count() == 7
