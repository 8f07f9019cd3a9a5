"""Benchmark: generate the default economy at 2,000 companies × 2 years and check the scale bar
(under 5 minutes, peak RSS under 4 GiB on a 2-core machine).

    python -m tests.benchmarks.bench_sandbox_generate

Writes tests/benchmarks/results/sandbox_generate.json. Peak RSS is this process's plus, for each
generator worker, the largest worker's (getrusage reports the largest child, not their sum), so the
figure bounds the whole process tree from above.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from connectors.sandbox.config import load_config
from connectors.sandbox.generate import generate
from connectors.sandbox.store import SandboxStore
from tests.benchmarks.__main__ import record_result

COMPANIES = 2_000
BAR = {"seconds": 300, "peak_rss_mib": 4096}


def main() -> int:
    config = load_config()
    workers = min(os.cpu_count() or 1, 4)
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as folder:
        started = time.perf_counter()
        path = generate(config, Path(folder), companies=COMPANIES, progress=sys.stderr.isatty(), workers=workers)
        seconds = time.perf_counter() - started
        store = SandboxStore(path)
        records = int(store.meta("records") or 0)
        store.close()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    largest_worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    peak = own + workers * largest_worker
    result = {
        "companies": COMPANIES,
        "days": (config.end - config.start).days + 1,
        "records": records,
        "seconds": round(seconds, 1),
        "records_per_s": round(records / seconds),
        "peak_rss_mib": round(peak),
        "workers": workers,
        "bar": BAR,
        "passed": seconds < BAR["seconds"] and peak < BAR["peak_rss_mib"],
    }
    record_result("sandbox_generate", result)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
