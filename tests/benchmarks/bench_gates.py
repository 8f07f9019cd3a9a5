"""Benchmark: what the Great Expectations gates cost beside the jobs they guard, on the 10M-record benchmark data.

    python -m tests.benchmarks.bench_gates [--bronze WAREHOUSE] [RECORDS]     (default 10,000,000)

Without --bronze the bronze warehouse is made as bench_silver_normalize makes it. Each run gets its own copy
of the warehouse and its own process.

- gate bronze over every bronze row (a warehouse's first gate validates all of it), run on its own
  (`jobs/gate.py bronze`: JVM start included, which a gate inside its job does not pay), against the bronze
  ingest that wrote them: its time is bench_bronze_ingest's on this machine (results/bronze_ingest.json);
  measuring it again here would add 25 minutes.
- silver normalize of Shopify (`--system shopify`: the run that completes on this data, see
  bench_silver_normalize) with its gate at its end, as a job runs it: the gate's own wall time (the job's
  output says it) against the rest of the job.
Goal: each gate costs at most 15% of its job.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jobs.settings import ROOT
from tests.benchmarks.__main__ import RESULTS, record_result
from tests.benchmarks.bench_bronze_ingest import peak_rss
from tests.benchmarks.bench_silver_normalize import _bronze_warehouse, _copy, _inspect, _timed, bronze_arguments

GOAL_SHARE = 0.15


def _gate(warehouse: Path, layer: str) -> dict[str, float]:
    return _timed([sys.executable, str(ROOT / "jobs" / "gate.py"), layer, "--warehouse", str(warehouse)])


def _normalize_then_gate(warehouse: Path, output: Path) -> tuple[dict[str, float], dict[str, float]]:
    """(the job without its gate, the gate) from one run of silver normalize with its gate."""
    with output.open("w") as out:
        started = time.monotonic()
        code, peak = peak_rss(subprocess.Popen([sys.executable, str(ROOT / "jobs" / "silver_normalize.py"), "--warehouse", str(warehouse),
                                                "--system", "shopify"], stdout=out))
        seconds = time.monotonic() - started
    printed = output.read_text()
    found = re.search(r"^gate silver passed in ([0-9.]+) s", printed, re.MULTILINE)
    if code != 0 or found is None:
        raise SystemExit(f"silver normalize failed (exit code {code}) or its gate did not pass:\n{printed}")
    gate = float(found[1])
    return {"seconds": round(seconds - gate, 1), "peak_rss_mib": round(peak)}, {"seconds": gate}


def _side_by_side(gate: dict[str, float], job: dict[str, float]) -> dict[str, object]:
    share = round(gate["seconds"] / job["seconds"], 3)
    return {"gate": gate, "job": job, "gate_over_job_seconds": share, "goal": GOAL_SHARE, "passed": share <= GOAL_SHARE}


def main(bronze: Path | None, records: int) -> int:
    ingest = json.loads((RESULTS / "bronze_ingest.json").read_text())["bronze_ingest_spark"]
    with tempfile.TemporaryDirectory(prefix="bench-gates-") as name:
        folder = Path(name)
        warehouse = bronze or _bronze_warehouse(folder, records)
        total, _, orders = _inspect(warehouse)
        bronze_side = _side_by_side(_gate(_copy(warehouse, folder / "bronze"), "bronze"), {**ingest, "measured_by": "bench_bronze_ingest"})
        job, gate = _normalize_then_gate(_copy(warehouse, folder / "shopify"), folder / "normalize.out")
        silver_side = _side_by_side(gate, job)
    record_result("gates", {"bronze_records": total, "shopify_orders": orders,
                            "gate_bronze_alone_vs_bronze_ingest": bronze_side, "gate_silver_in_job_vs_silver_normalize_shopify": silver_side})
    return 0 if bronze_side["passed"] and silver_side["passed"] else 1


if __name__ == "__main__":
    args = bronze_arguments(__doc__)
    sys.exit(main(args.bronze, args.records))
