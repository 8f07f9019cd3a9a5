"""`make bench`: run every tests/benchmarks/bench_*.py in its own process (so peak memory is its own) and
gather the JSON results each writes under results/ into results/SUMMARY.md."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def record_result(name: str, result: dict[str, object]) -> dict[str, object]:
    """Write one benchmark's figures (with the machine they were measured on) to results/<name>.json and print them."""
    result = {**result, "machine": machine()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


def main(selected: list[str]) -> int:
    RESULTS.mkdir(exist_ok=True)
    benches = sorted(p.stem for p in HERE.glob("bench_*.py") if not selected or p.stem.removeprefix("bench_") in selected)
    failures = 0
    for bench in benches:
        print(f"== {bench}", flush=True)
        failures += subprocess.run([sys.executable, "-m", f"tests.benchmarks.{bench}"]).returncode != 0
    lines = ["# Benchmark results", "", f"Machine: {json.dumps(machine())}", ""]
    for path in sorted(RESULTS.glob("*.json")):
        result = json.loads(path.read_text())
        lines += [f"## {path.stem}", "", "```json", json.dumps(result, indent=2), "```", ""]
    (RESULTS / "SUMMARY.md").write_text("\n".join(lines))
    print(f"results: {RESULTS / 'SUMMARY.md'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
