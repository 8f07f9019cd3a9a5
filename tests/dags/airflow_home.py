"""A private Airflow 3 home (SQLite, LocalExecutor, our dags/) for tests: Airflow reads its configuration when
first imported, so everything Airflow runs in processes of its own with this environment, never in pytest's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from jobs.settings import ROOT

VENV_BIN = Path(sys.executable).parent


def airflow_env(home: Path, **extra: str) -> dict[str, str]:
    return os.environ | {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def run_python(home: Path, code: str, *args: str, timeout: int = 900, **extra: str) -> subprocess.CompletedProcess:
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, "-c", code, *args], env=airflow_env(home, **extra), capture_output=True, text=True,
                          timeout=timeout, cwd=home)


def migrate(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([str(VENV_BIN / "airflow"), "db", "migrate"], env=airflow_env(home), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
