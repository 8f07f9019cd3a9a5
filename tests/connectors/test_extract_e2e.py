"""Extraction end to end over real HTTP: every served record lands, faults or not, crash or not, and no
credential value is ever written to landing or logs."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from connectors.registry import write_registry
from connectors.secrets import resolve_secret

pytestmark = pytest.mark.slow


def _landed_keys(warehouse: Path) -> set[tuple[str, str, str, str]]:
    """(system, company, stream, key) of every record in a landing run that has a manifest."""
    keys = set()
    for manifest in (warehouse / "landing").rglob("_manifest.json"):
        header = orjson.loads(manifest.read_bytes())
        for part in header["files"]:
            for line in gzip.decompress((manifest.parent / part["name"]).read_bytes()).splitlines():
                keys.add((header["system"], header["company_id"], header["stream"], orjson.loads(line)["key"]))
    return keys


def _extract(served, warehouse: Path, registry_file: Path, *systems: str) -> subprocess.Popen:
    selection = [arg for system in systems for arg in ("--system", system)]
    return subprocess.Popen(
        [sys.executable, "-m", "jobs.cli", "extract", "--registry", str(registry_file), *selection,
         "--until", "2026-02-23T00:00:00", "--warehouse", str(warehouse)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


@pytest.fixture
def registry_file(served_sandbox, tmp_path) -> Path:
    path = tmp_path / "connections.toml"
    write_registry(served_sandbox.registry, path)
    return path


SYSTEMS = ("shopify", "quickbooks")


def test_given_a_kill_9_mid_run_when_rerun_then_every_record_is_landed(served_sandbox, registry_file, tmp_path):
    warehouse = tmp_path / "warehouse"
    clean = tmp_path / "clean"
    assert _extract(served_sandbox, clean, registry_file, *SYSTEMS).wait(timeout=300) == 0
    expected = _landed_keys(clean)

    with served_sandbox.faults("quickbooks", slow_rate=1.0, slow_seconds=0.05):
        crashed = _extract(served_sandbox, warehouse, registry_file, *SYSTEMS)
        time.sleep(3)
        os.kill(crashed.pid, signal.SIGKILL)
        crashed.wait()
    rerun = _extract(served_sandbox, warehouse, registry_file, *SYSTEMS)
    output, _ = rerun.communicate(timeout=300)

    assert rerun.returncode == 0, output
    assert expected and _landed_keys(warehouse) >= expected


def test_given_a_run_then_no_credential_value_is_in_landing_state_or_output(served_sandbox, registry_file, tmp_path):
    warehouse = tmp_path / "warehouse"
    run = _extract(served_sandbox, warehouse, registry_file, *SYSTEMS)
    output, _ = run.communicate(timeout=300)
    assert run.returncode == 0, output

    secrets = {resolve_secret(ref).get_secret_value() for c in served_sandbox.registry.connections for ref in c.credentials.values()}
    written = output.encode() + b"".join(
        gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes() for p in warehouse.rglob("*") if p.is_file()
    )
    assert secrets and not [s for s in secrets if s.encode() in written]
