"""The Airflow DAGs: they import without errors or cycles, every task has a timeout and retries (gates none: a
retried gate would pass, its offenders withdrawn), extraction is mapped per connection in a pool per system;
`dag.test()` runs the daily pipeline end to end on a small sandbox (real Spark through spark-submit, real
Elasticsearch), populating gold and the index; and a standalone Airflow (api-server, scheduler, dag-processor)
re-runs that date when triggered again through its REST API: every task succeeds and no table changes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from elasticsearch import Elasticsearch
from typer.testing import CliRunner

from connectors.systems import API_SYSTEMS, FILE_SYSTEMS
from jobs.cli import app
from jobs.gold.build import current, trend_uri
from jobs.search.publish import alias
from jobs.settings import ROOT, load_settings
from jobs.tables import exists, table_checksum
from tests.conftest import _free_port
from tests.dags.airflow_home import VENV_BIN, airflow_env, migrate, run_python

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
from datetime import datetime
from airflow.dag_processing.dagbag import DagBag
from airflow.models.pool import Pool
for system in sys.argv[2].split(","):
    Pool.create_or_update_pool(f"groundswell_{system}", slots=2, description=system, include_deferred=False)
run = DagBag().get_dag("groundswell_daily").test(logical_date=datetime.fromisoformat(sys.argv[3]), run_conf=json.loads(sys.argv[1]))
print("RESULT " + json.dumps({"state": str(run.state), "tasks": sorted([ti.task_id, ti.map_index, str(ti.state)] for ti in run.get_task_instances())}))
"""


def _describe(tmp_path) -> dict:
    described = run_python(tmp_path / "airflow", DESCRIBE, timeout=300)
    assert described.returncode == 0, described.stderr[-3000:]
    return json.loads(described.stdout.strip().splitlines()[-1])


def test_given_the_dags_folder_when_imported_then_no_errors_and_every_task_has_a_timeout_and_retries_but_gates(tmp_path):
    found = _describe(tmp_path)
    assert found["errors"] == {}
    daily, replay, applied = (found["dags"][f"groundswell_{name}"] for name in ("daily", "replay", "review_applied"))
    for dag in (daily, replay, applied):
        for task_id, task in dag["tasks"].items():
            assert task["timeout"], task_id
            assert task["retries"] == 0 if task_id.startswith("gate_") else task["retries"] >= 1, task_id
    systems = API_SYSTEMS + FILE_SYSTEMS
    assert {t: daily["tasks"][f"extract_{t}"]["pool"] for t in systems} == {t: f"groundswell_{t}" for t in systems}
    assert all(daily["tasks"][f"extract_{t}"]["mapped"] for t in systems)
    chain = ["ingest", "gate_bronze", "normalize", "gate_silver", "build_gold", "gate_gold", "index"]
    assert all(chain[i + 1] in daily["tasks"][chain[i]]["downstream"] for i in range(len(chain) - 1))
    assert replay["tasks"]["replay"]["downstream"] == ["gate_bronze"]
    assert applied["tasks"]["decisions_waiting"]["downstream"] == ["replay"] and applied["tasks"]["replay"]["downstream"] == ["gate_bronze"]
    assert [a.rstrip("/") for a in applied["tasks"]["index"]["outlets"]] == ["groundswell://search"]
    assert {daily["tasks"][t]["outlets"][0].rstrip("/") for t in ("ingest", "normalize", "build_gold", "index")} == \
        {"groundswell://bronze", "groundswell://silver", "groundswell://gold", "groundswell://search"}
    assert daily["params"] == ["profile", "registry", "sandbox", "warehouse"]
    assert replay["params"] == ["kind", "profile", "rule", "since", "system", "warehouse"]


#: the small sandbox's gold settings: six companies cannot meet the default disclosure rules
SMALL = {"GROUNDSWELL_GOLD__MIN_CONTRIBUTORS": "1", "GROUNDSWELL_GOLD__MAX_SHARE": "1.0", "GROUNDSWELL_ELASTICSEARCH__PREFIX": "dagtest"}
STAGE_TASKS = ("sources", "ingest", "gate_bronze", "normalize", "gate_silver", "build_gold", "gate_gold", "index", "release_sources")


@dataclass(frozen=True)
class DailyRun:
    """One `dag.test()` of the daily DAG for `day`: its Airflow home, sandbox, warehouse and outcome."""

    home: Path
    sandbox: Path
    warehouse: Path
    day: str
    result: dict

    @property
    def conf(self) -> dict:
        return {"sandbox": str(self.sandbox), "warehouse": str(self.warehouse)}


def _small_config(folder: Path) -> Path:
    """The default economy with every company's books in QuickBooks or CSV drops (Shopify beside some): the
    DAG is under test here, not each system's mapping, and fewer systems mean fewer Spark merges."""
    default = (ROOT / "conf" / "sandbox.toml").read_text()
    start, end = default.index("[accounting]"), default.index("\n\n", default.index("[accounting]"))
    config = folder / "sandbox.toml"
    config.write_text(default[:start] + "[accounting]\nquickbooks = 0.5\ncsv = 0.5" + default[end:])
    return config


@pytest.fixture(scope="module")
def daily_run(spark, services, tmp_path_factory) -> DailyRun:
    folder = tmp_path_factory.mktemp("dag")
    run = DailyRun(folder / "airflow", folder / "sandbox", folder / "warehouse", "2026-01-26T00:00:00+00:00", {})
    generated = CliRunner().invoke(app, ["sandbox", "generate", "--config", str(_small_config(folder)), "--out", str(run.sandbox),
                                         "--companies", "6", "--start", "2026-01-05", "--end", "2026-01-25"])
    assert generated.exit_code == 0, generated.output
    migrate(run.home)
    tested = run_python(run.home, DAG_TEST, json.dumps(run.conf), ",".join(API_SYSTEMS + FILE_SYSTEMS), run.day, timeout=1500, **SMALL)
    assert "RESULT " in tested.stdout, (tested.stdout[-3000:], tested.stderr[-5000:])
    run.result.update(json.loads(tested.stdout.split("RESULT ", 1)[1].splitlines()[0]))
    return run


@pytest.mark.slow
@pytest.mark.timeout(2400)  # its fixture runs the whole pipeline, a spark-submit per stage, beside the other lane
def test_given_a_small_sandbox_when_the_daily_dag_is_tested_then_gold_and_the_index_are_populated(spark, services, daily_run, monkeypatch):
    assert daily_run.result["state"] == "success", daily_run.result
    states = {(task, index): state for task, index, state in daily_run.result["tasks"]}
    assert all(states[(t, -1)] == "success" for t in STAGE_TASKS)
    assert sum(1 for (task, index), state in states.items() if task.startswith("extract_") and index >= 0 and state == "success") >= 6

    settings = load_settings("local", warehouse=str(daily_run.warehouse))
    assert exists(spark, trend_uri(settings, "week"))
    published = current(spark.read.format("delta").load(trend_uri(settings, "week"))).where("suppressed IS NULL").count()
    assert published > 0
    monkeypatch.setenv("GROUNDSWELL_ELASTICSEARCH__PREFIX", SMALL["GROUNDSWELL_ELASTICSEARCH__PREFIX"])
    es = Elasticsearch(services.elasticsearch.url)
    monthly = current(spark.read.format("delta").load(trend_uri(settings, "month"))).where("suppressed IS NULL").count()
    assert es.count(index=alias(load_settings("local"), "trends"))["count"] == published + monthly
    assert es.count(index=alias(load_settings("local"), "health"))["count"] > 0


class StandaloneAirflow:
    """api-server, scheduler and dag-processor of `home`, each in its own session (LocalExecutor's workers
    are the scheduler's children), on a free loopback port; no scheduled runs: only what a test triggers."""

    PARTS = ("api-server", "scheduler", "dag-processor")

    def __init__(self, home: Path, **extra: str) -> None:
        self.home, self.port = home, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = airflow_env(home, AIRFLOW__API__HOST="127.0.0.1", AIRFLOW__API__PORT=str(self.port), AIRFLOW__API__BASE_URL=self.url,
                               AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False", AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True", **extra)
        self.processes: list[subprocess.Popen] = []

    def start(self) -> httpx.Client:
        for part in self.PARTS:
            with (self.home / f"{part}.log").open("wb") as log:
                self.processes.append(subprocess.Popen([str(VENV_BIN / "airflow"), part], env=self.env, cwd=self.home, stdout=log,
                                                       stderr=subprocess.STDOUT, start_new_session=True))
        token = self._wait(lambda: httpx.get(f"{self.url}/auth/token", timeout=5).raise_for_status().json()["access_token"], 180)
        api = httpx.Client(base_url=f"{self.url}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        self._wait(lambda: api.get("/dags/groundswell_daily").raise_for_status(), 300)
        return api

    def _wait(self, probe, seconds: float):
        deadline = time.monotonic() + seconds
        while True:
            try:
                return probe()
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"Airflow did not come up in {seconds} s: {self.logs()}") from None
                time.sleep(2)

    def logs(self) -> str:
        return "\n".join(f"--- {part}\n{(self.home / f'{part}.log').read_text(errors='replace')[-2000:]}" for part in self.PARTS)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def standalone(daily_run) -> Iterator[tuple[StandaloneAirflow, httpx.Client]]:
    airflow = StandaloneAirflow(daily_run.home, **SMALL)
    try:
        yield airflow, airflow.start()
    finally:
        airflow.stop()


def _finished(airflow: StandaloneAirflow, api: httpx.Client, run_id: str, seconds: float = 1200) -> dict:
    deadline = time.monotonic() + seconds
    while (run := api.get(f"/dags/groundswell_daily/dagRuns/{run_id}").raise_for_status().json())["state"] not in ("success", "failed"):
        assert time.monotonic() < deadline, f"run {run_id} still {run['state']} after {seconds} s: {airflow.logs()}"
        time.sleep(5)
    return run


def _task_states(api: httpx.Client, run_id: str) -> dict[tuple[str, int], str]:
    found = api.get(f"/dags/groundswell_daily/dagRuns/{run_id}/taskInstances", params={"limit": 1000}).raise_for_status().json()
    return {(ti["task_id"], ti["map_index"]): ti["state"] for ti in found["task_instances"]}


def _checksums(spark, warehouse: Path) -> dict[str, str]:
    """The content checksum of every Delta table in the warehouse, by its path."""
    return {str(log.parent.relative_to(warehouse)): table_checksum(spark, str(log.parent)) for log in sorted(warehouse.rglob("_delta_log"))}


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_given_the_tested_date_when_triggered_again_through_a_standalone_airflow_rest_api_then_it_succeeds_and_no_table_changes(
        spark, services, daily_run, standalone):
    airflow, api = standalone
    api.patch("/dags/groundswell_daily", params={"update_mask": "is_paused"}, json={"is_paused": False}).raise_for_status()
    es, live = Elasticsearch(services.elasticsearch.url), f"{SMALL['GROUNDSWELL_ELASTICSEARCH__PREFIX']}-trends"
    before, published = _checksums(spark, daily_run.warehouse), set(es.indices.get_alias(name=live))

    again = api.post("/dags/groundswell_daily/dagRuns", json={"logical_date": daily_run.day, "conf": daily_run.conf})
    assert again.status_code == 409, again.text  # Airflow keeps one run per date: triggering it again re-runs that one
    runs = api.get("/dags/groundswell_daily/dagRuns", params={"logical_date_gte": daily_run.day, "logical_date_lte": daily_run.day})
    (run_id,) = [r["dag_run_id"] for r in runs.raise_for_status().json()["dag_runs"]]
    api.post("/dags/groundswell_daily/clearTaskInstances",
             json={"dag_run_id": run_id, "dry_run": False, "reset_dag_runs": True, "only_failed": False}).raise_for_status()

    assert _finished(airflow, api, run_id)["state"] == "success", _task_states(api, run_id)
    states = _task_states(api, run_id)
    assert all(states[(t, -1)] == "success" for t in STAGE_TASKS), states
    assert all(state in ("success", "skipped") for state in states.values()), states
    assert sum(1 for (task, index), state in states.items() if task.startswith("extract_") and index >= 0 and state == "success") >= 6
    assert _checksums(spark, daily_run.warehouse) == before
    assert set(es.indices.get_alias(name=live)) == published
