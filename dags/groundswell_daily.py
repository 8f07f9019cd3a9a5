"""Groundswell's pipeline for Airflow 3: the daily DAG and the replay DAG, both derived from the stages of
jobs/pipeline.py (the order `groundswell run` follows too).

- `groundswell_daily`: the sources (the connection registry, or the sandbox served for the run) → extract,
  one mapped task per connection, in a pool per source system (`groundswell_<system>`: a tenant's rate limit
  holds however many tasks run) → ingest → gate-bronze → normalize → gate-silver → build-gold → gate-gold →
  index. Each Spark job runs through spark-submit (jobs/spark.py's command line, so the same jobs run on a
  cluster); nothing in jobs/ imports Airflow. The layer tasks update the Assets groundswell://bronze, silver,
  gold and search. Catchup and backfills follow the data interval: a run extracts up to its interval's end.
- `groundswell_replay`: manual, with params kind, rule, system, since — re-processes the quarantined records
  still open or approved by a reviewer (trigger it after a fix, or after approvals) and carries the change
  through silver, gold and the index.
- `groundswell_review_applied`: every 15 minutes, a look (no Spark) at whether a reviewer decided anything
  since the last full replay started (`groundswell review approve|reject` or the data-quality notebook); if so,
  the same replay of everything open or approved, down to the index — otherwise the run stops there.

Gate tasks never retry: a failed gate has already withdrawn its offending rows, so a retry would pass.
A failed task is recorded (failure callback) in the warehouse under ops/task_failures/.
"""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
from airflow.sdk import Asset, Param, dag, get_current_context, task

from connectors.systems import API_SYSTEMS, FILE_SYSTEMS

ROOT = Path(__file__).resolve().parents[1]
SYSTEMS = API_SYSTEMS + FILE_SYSTEMS
BRONZE, SILVER, GOLD, SEARCH = (Asset(f"groundswell://{layer}") for layer in ("bronze", "silver", "gold", "search"))
PARAMS = {
    "profile": Param("local", type="string", description="settings profile of conf/groundswell.toml"),
    "warehouse": Param(None, type=["null", "string"], description="warehouse root URI (default: the profile's)"),
    "registry": Param(None, type=["null", "string"], description="connection registry of real tenants (default: serve the sandbox)"),
    "sandbox": Param(str(ROOT / ".sandbox"), type="string", description="the sandbox folder served when no registry is given"),
}


def _settings():
    from jobs.settings import load_settings

    params = get_current_context()["params"]
    return load_settings(params["profile"], warehouse=params["warehouse"])


def record_failure(context) -> None:
    """Write the failed task's identity and error to <warehouse>/ops/task_failures/ (one JSON file per try)."""
    from jobs.storage import warehouse_filesystem

    ti = context["ti"]
    filesystem, root = warehouse_filesystem(_settings())
    folder = f"{root}/ops/task_failures/{ti.dag_id}"
    filesystem.create_dir(folder, recursive=True)
    record = {"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id, "map_index": ti.map_index, "try_number": ti.try_number,
              "error": repr(context.get("exception")), "failed_at": datetime.now(timezone.utc).isoformat()}
    name = f"{ti.run_id}.{ti.task_id}.{ti.map_index}.{ti.try_number}.json".replace(":", "_").replace("+", "_")
    with filesystem.open_output_stream(f"{folder}/{name}") as sink:
        sink.write(orjson.dumps(record))


DEFAULTS = {
    "owner": "groundswell",
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=15),
    "execution_timeout": timedelta(hours=3),
    "on_failure_callback": record_failure,
}
GATE = {"retries": 0, "execution_timeout": timedelta(hours=1)}


def _submit(script: str, *args: str) -> str:
    """spark-submit jobs/`script` with this run's settings, its output in the task log; returns its last line."""
    from jobs.spark import submit_command

    params = get_current_context()["params"]
    chosen = ["--profile", params["profile"], *(["--warehouse", params["warehouse"]] if params["warehouse"] else [])]
    command, env = submit_command(_settings(), ROOT / "jobs" / script, *args, *chosen)
    lines = []
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as job:
        for line in job.stdout:
            print(line, end="")
            lines.append(line.rstrip())
    if job.returncode:
        raise RuntimeError(f"spark-submit jobs/{script} exited {job.returncode}: {lines[-1] if lines else 'no output'}")
    return lines[-1] if lines else ""


@task
def sources() -> dict:
    """The connections to extract, by system, and up to when: the registry's up to the data interval's end,
    or the sandbox's up to its clock, served (detached) until `release_sources`."""
    from connectors.registry import load_registry
    from jobs.extract_landing import land_sandbox, sandbox_registry
    from jobs.pipeline import RunContext

    context = get_current_context()
    params = context["params"]
    if params["registry"]:
        registry, until, pid = load_registry(Path(params["registry"])), context["data_interval_end"], None
        path = params["registry"]
    else:
        from connectors.sandbox.serve import spawn_server

        folder = Path(params["sandbox"])
        store, until = land_sandbox(RunContext(_settings(), sandbox_dir=folder))
        server, base_url = spawn_server(folder, detached=True)
        registry, pid, path = sandbox_registry(store, base_url, folder), server.pid, str(folder / "connections.toml")
    by_system = {system: [c.id for c in registry.connections if c.system == system] for system in SYSTEMS}
    return {"registry": path, "until": until.isoformat(), "server_pid": pid, "connections": by_system}


@task
def connections(found: dict, system: str) -> list[str]:
    """One system's share of `sources`, for its extract tasks to map over."""
    return found["connections"][system]


@task
def extract(connection: str, found: dict) -> str:
    from jobs.extract_landing import extract_connections
    from jobs.pipeline import RunContext

    context = RunContext(_settings(), registry=Path(found["registry"]))
    return extract_connections(context, [connection], datetime.fromisoformat(found["until"]))


@task(trigger_rule="all_done")
def release_sources(found: dict) -> None:
    """Stop the sandbox server `sources` started (nothing to do for real tenants)."""
    if found["server_pid"]:
        try:
            os.kill(found["server_pid"], signal.SIGTERM)
        except ProcessLookupError:
            pass


#: the spark-submit job of every stage after extraction (layer jobs without their gate: the gate is a task of its own)
JOBS = {
    "ingest": ("bronze_ingest.py", "--no-gate"), "gate-bronze": ("gate.py", "bronze"),
    "normalize": ("silver_normalize.py", "--no-gate"), "gate-silver": ("gate.py", "silver"),
    "build-gold": ("gold_build.py", "--no-gate"), "gate-gold": ("gate.py", "gold"),
    "index": ("index_search.py",),
}
OUTLETS = {"ingest": [BRONZE], "normalize": [SILVER], "build-gold": [GOLD], "index": [SEARCH]}


@task
def spark_job(script: str, *args: str) -> str:
    return _submit(script, *args)


def _stages_after(first, stage: str):
    """The pipeline's stages after `stage`, in STAGES' order, chained after `first`; returns the last task."""
    from jobs.pipeline import STAGE_NAMES

    last = first
    for name in STAGE_NAMES[STAGE_NAMES.index(stage) + 1:]:
        gate = GATE if name.startswith("gate-") else {}
        step = spark_job.override(task_id=name.replace("-", "_"), outlets=OUTLETS.get(name, []), **gate)(*JOBS[name])
        last >> step
        last = step
    return last


@dag(dag_id="groundswell_daily", schedule="@daily", start_date=datetime(2026, 1, 1, tzinfo=timezone.utc), catchup=False,
     max_active_runs=1, default_args=DEFAULTS, params=PARAMS, tags=["groundswell"], doc_md=__doc__)
def groundswell_daily():
    found = sources()
    extracts = [extract.override(task_id=f"extract_{system}", pool=f"groundswell_{system}")
                .partial(found=found).expand(connection=connections.override(task_id=f"connections_{system}")(found, system))
                for system in SYSTEMS]
    released = release_sources(found)
    bronze = spark_job.override(task_id="ingest", outlets=OUTLETS["ingest"], trigger_rule="none_failed")(*JOBS["ingest"])
    for extracted in extracts:
        extracted >> [released, bronze]
    _stages_after(bronze, "ingest")


@task(outlets=[BRONZE, SILVER])
def replay() -> str:
    """Re-process the selected quarantined records (bronze, then silver) — the CLI's `groundswell replay`."""
    params = get_current_context()["params"]
    command = [str(ROOT / ".venv" / "bin" / "groundswell"), "replay", "--profile", params["profile"]]
    for option in ("warehouse", "kind", "rule", "system", "since"):
        if params.get(option):
            command += [f"--{option}", params[option]]
    done = subprocess.run(command, capture_output=True, text=True)
    print(done.stdout, done.stderr)
    if done.returncode:
        raise RuntimeError(f"groundswell replay exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return done.stdout.strip()


@dag(dag_id="groundswell_replay", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc), catchup=False, max_active_runs=1,
     default_args=DEFAULTS, tags=["groundswell"], doc_md=__doc__,
     params={**{k: PARAMS[k] for k in ("profile", "warehouse")},
             **{name: Param(None, type=["null", "string"], description=f"only quarantined records of this {name}") for name in ("kind", "rule", "system")},
             "since": Param(None, type=["null", "string"], description="only records first seen from this instant (ISO 8601)")})
def groundswell_replay():
    _stages_after(replay(), "ingest")


@task.short_circuit
def decisions_waiting() -> bool:
    """Whether a reviewer decided anything since the last full replay started (two small files, no Spark)."""
    from jobs.ops.review import decisions_waiting as waiting

    return waiting(_settings())


@dag(dag_id="groundswell_review_applied", schedule="*/15 * * * *", start_date=datetime(2026, 1, 1, tzinfo=timezone.utc), catchup=False,
     max_active_runs=1, default_args=DEFAULTS, tags=["groundswell"], doc_md=__doc__, params={k: PARAMS[k] for k in ("profile", "warehouse")})
def groundswell_review_applied():
    _stages_after(decisions_waiting.override(execution_timeout=timedelta(minutes=5))() >> replay(), "ingest")


groundswell_daily()
groundswell_replay()
groundswell_review_applied()
