"""The Airflow DAGs: they import without errors or cycles, every task has a timeout and retries (gates none: a
retried gate would pass, its offenders withdrawn), extraction is mapped per connection in a pool per system;
and `dag.test()` runs the daily pipeline end to end on a small sandbox (real Spark through spark-submit, real
Elasticsearch), populating gold and the index."""

from __future__ import annotations

import json

import pytest
from elasticsearch import Elasticsearch
from typer.testing import CliRunner

from connectors.systems import API_SYSTEMS, FILE_SYSTEMS
from jobs.cli import app
from jobs.gold.build import current, trend_uri
from jobs.search.publish import alias
from jobs.settings import load_settings
from jobs.tables import exists
from tests.dags.airflow_home import migrate, run_python

DESCRIBE = """
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag()
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": {
    dag_id: {"tasks": {t.task_id: {"retries": t.retries, "timeout": t.execution_timeout and t.execution_timeout.total_seconds(),
                                    "pool": t.pool, "mapped": "MappedOperator" in type(t).__name__, "downstream": sorted(t.downstream_task_ids),
                                    "outlets": [a.uri for a in t.outlets]} for t in dag.tasks},
             "catchup": dag.catchup, "params": sorted(dag.params)}
    for dag_id, dag in bag.dags.items()}}))
"""

DAG_TEST = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.models.pool import Pool
for system in sys.argv[2].split(","):
    Pool.create_or_update_pool(f"groundswell_{system}", slots=2, description=system, include_deferred=False)
run = DagBag().get_dag("groundswell_daily").test(run_conf=json.loads(sys.argv[1]))
print("RESULT " + json.dumps({"state": str(run.state), "tasks": sorted([ti.task_id, ti.map_index, str(ti.state)] for ti in run.get_task_instances())}))
"""


def _describe(tmp_path) -> dict:
    described = run_python(tmp_path / "airflow", DESCRIBE, timeout=300)
    assert described.returncode == 0, described.stderr[-3000:]
    return json.loads(described.stdout.strip().splitlines()[-1])


def test_given_the_dags_folder_when_imported_then_no_errors_and_every_task_has_a_timeout_and_retries_but_gates(tmp_path):
    found = _describe(tmp_path)
    assert found["errors"] == {}
    daily, replay = found["dags"]["groundswell_daily"], found["dags"]["groundswell_replay"]
    for dag in (daily, replay):
        for task_id, task in dag["tasks"].items():
            assert task["timeout"], task_id
            assert task["retries"] == 0 if task_id.startswith("gate_") else task["retries"] >= 1, task_id
    systems = API_SYSTEMS + FILE_SYSTEMS
    assert {t: daily["tasks"][f"extract_{t}"]["pool"] for t in systems} == {t: f"groundswell_{t}" for t in systems}
    assert all(daily["tasks"][f"extract_{t}"]["mapped"] for t in systems)
    chain = ["ingest", "gate_bronze", "normalize", "gate_silver", "build_gold", "gate_gold", "index"]
    assert all(chain[i + 1] in daily["tasks"][chain[i]]["downstream"] for i in range(len(chain) - 1))
    assert replay["tasks"]["replay"]["downstream"] == ["gate_bronze"]
    assert {daily["tasks"][t]["outlets"][0].rstrip("/") for t in ("ingest", "normalize", "build_gold", "index")} == \
        {"groundswell://bronze", "groundswell://silver", "groundswell://gold", "groundswell://search"}
    assert daily["params"] == ["profile", "registry", "sandbox", "warehouse"]
    assert replay["params"] == ["kind", "profile", "rule", "since", "system", "warehouse"]


@pytest.mark.slow
def test_given_a_small_sandbox_when_the_daily_dag_is_tested_then_gold_and_the_index_are_populated(spark, services, tmp_path, monkeypatch):
    sandbox, warehouse, home = tmp_path / "sandbox", tmp_path / "warehouse", tmp_path / "airflow"
    generated = CliRunner().invoke(app, ["sandbox", "generate", "--out", str(sandbox), "--companies", "6", "--start", "2026-01-05",
                                         "--end", "2026-01-25"])
    assert generated.exit_code == 0, generated.output
    migrate(home)
    prefix = "dagtest"
    tested = run_python(home, DAG_TEST, json.dumps({"sandbox": str(sandbox), "warehouse": str(warehouse)}), ",".join(API_SYSTEMS + FILE_SYSTEMS),
                        timeout=1500, GROUNDSWELL_GOLD__MIN_CONTRIBUTORS="1", GROUNDSWELL_GOLD__MAX_SHARE="1.0",
                        GROUNDSWELL_ELASTICSEARCH__PREFIX=prefix)
    assert "RESULT " in tested.stdout, (tested.stdout[-3000:], tested.stderr[-5000:])
    result = json.loads(tested.stdout.split("RESULT ", 1)[1].splitlines()[0])
    assert result["state"] == "success", result
    states = {(task, index): state for task, index, state in result["tasks"]}
    assert all(states[(t, -1)] == "success" for t in ("sources", "ingest", "gate_bronze", "normalize", "gate_silver", "build_gold",
                                                      "gate_gold", "index", "release_sources"))
    assert sum(1 for (task, index), state in states.items() if task.startswith("extract_") and index >= 0 and state == "success") >= 6

    settings = load_settings("local", warehouse=str(warehouse))
    assert exists(spark, trend_uri(settings, "week"))
    published = current(spark.read.format("delta").load(trend_uri(settings, "week"))).where("suppressed IS NULL").count()
    assert published > 0
    monkeypatch.setenv("GROUNDSWELL_ELASTICSEARCH__PREFIX", prefix)
    es = Elasticsearch(services.elasticsearch.url)
    monthly = current(spark.read.format("delta").load(trend_uri(settings, "month"))).where("suppressed IS NULL").count()
    assert es.count(index=alias(load_settings("local"), "trends"))["count"] == published + monthly
    assert es.count(index=alias(load_settings("local"), "health"))["count"] > 0
